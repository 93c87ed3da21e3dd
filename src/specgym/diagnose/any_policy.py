"""The diagnosis parts that need only a policy, for a policy trained anywhere (``specgym.policies``).

Lever attribution needs trainings with and without each fix, so it stays with ``specgym diagnose``; two parts
need nothing but the policy:

* **behaviour** - which candidate goal explains what it does (``diagnose.behaviour.explain_behaviour``, fitted to
  this policy's own actions);
* **detector** - how far its actions stray from the trusted ``demos`` reference on the states it visits
  (``diagnose.detect``), with the hacking label the detector is judged by, read from the true reward on the
  training levels. An outside policy exposes actions, not probabilities, so its action distribution in a state
  is estimated from ``samples`` actions drawn there (exact for a deterministic policy).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from specgym.diagnose.behaviour import explain_behaviour
from specgym.diagnose.detect import demo_reference, hellinger, is_hacking, jensen_shannon
from specgym.envs.tabular import TabularEnv
from specgym.errors import ScenarioError
from specgym.policies import OutsidePolicy, describe_action_space
from specgym.rl import networks
from specgym.rollout import Act, StepView, rollout
from specgym.scenarios.base import Scenario
from specgym.scoring import evaluate, prepare

PARTS = ("behaviour", "detector")


@dataclasses.dataclass(frozen=True)
class SampledDistances:
    """Record hook: JS divergence and Hellinger distance between the policy's sampled action frequencies and the
    reference ensemble's mean distribution in every visited state, and ``alive``."""

    act: Act
    samples: int
    num_actions: int

    def __call__(self, view: StepView, data):
        policy, reference_nets = data
        keys = jax.random.split(view.key, self.samples)
        actions = jax.vmap(lambda k: self.act(policy, view.obs, view.state, k))(keys)  # (samples, episodes)
        p = jax.nn.one_hot(actions, self.num_actions).mean(axis=0)
        q = jax.vmap(lambda n: jax.nn.softmax(networks.policy_logits(n, view.obs)))(reference_nets).mean(axis=0)
        return jensen_shannon(p, q), hellinger(p, q), view.alive


def diagnose_policy(policy: Callable | str | Path, scenario: str | Scenario | None = None, parts=PARTS,
                    fixes: dict[str, str | None] | str | None = None, settings: dict[str, Any] | None = None,
                    seeds: int | None = None, episodes: int | None = 32, seed: int | None = None, samples: int = 16,
                    demo_episodes: int = 8, policy_kind: str = "auto") -> dict:
    """``{"behaviour": ..., "detector": ...}`` of one policy (a function or a run directory; see
    ``specgym.evaluate`` for the kinds and the defaults of ``seeds`` and ``seed``) on ``scenario``."""
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise ScenarioError(f"unknown diagnosis part {unknown[0]!r}; valid: {', '.join(PARTS)}")
    ready = prepare(policy, scenario, episodes, seeds, seed, fixes, settings, policy_kind)
    found, setup, outside = ready.scenario, ready.setup, ready.outside
    key = jax.random.PRNGKey(ready.seed)
    result: dict[str, Any] = {"scenario": found.id, "policy": outside.description}
    if "behaviour" in parts:
        result["behaviour"] = explain_behaviour(found, setup, outside, jax.random.fold_in(key, 1), ready.episodes)
    if "detector" in parts:
        scores = evaluate(policy, found, split="train", episodes=episodes, seeds=seeds, seed=seed, fixes=fixes,
                          settings=settings, policy_kind=policy_kind)
        result["detector"] = detector_distance(setup, outside, scores, jax.random.fold_in(key, 2), ready.episodes,
                                               samples, demo_episodes)
    return result


def detector_distance(setup, outside: OutsidePolicy, scores: Mapping[str, Any], key, episodes: int, samples: int,
                      demo_episodes: int) -> dict:
    """Distances to the ``demos`` reference on the training levels, beside the true-reward hacking label."""
    env, params = setup.env, setup.train_params
    if not isinstance(env, TabularEnv):
        return {"applies": False, "why": "the demos reference needs the scenario's exact tabular model"}
    num_seeds = jax.tree_util.tree_leaves(outside.policies)[0].shape[0]
    k_ref, k_run = jax.random.split(key)
    reference, steps = demo_reference(env, params, num_seeds, k_ref, demo_episodes)
    record = SampledDistances(outside.act, samples, env.num_actions)
    horizon = env.horizon(params)
    run = jax.vmap(lambda p, k: rollout(env, params, outside.act, p, k, episodes, horizon, record, (p, reference)))
    js, hel, alive = jax.device_get(run(outside.policies, jax.random.split(k_run, num_seeds)))
    problem = outside.problem()
    if problem is not None:
        raise ScenarioError(f"{problem}; {describe_action_space(env)}")
    weight = np.asarray(alive, np.float64)
    per_seed = {name: (np.asarray(v) * weight).sum(axis=(1, 2)) / weight.sum(axis=(1, 2))
                for name, v in (("js", js), ("hellinger", hel))}
    train = scores["splits"]["train"]
    proxy, intended = train["specified_score"]["per_seed"], train["intended_score"]["per_seed"]
    hacking = [is_hacking(p, i) if p is not None and i is not None else None for p, i in zip(proxy, intended,
                                                                                             strict=True)]
    return {"js": [float(x) for x in per_seed["js"]], "hellinger": [float(x) for x in per_seed["hellinger"]],
            "hacking": hacking, "proxy_score": proxy, "intended_score": intended,
            "reference": {"kind": "demos", "demonstrated_steps": steps, "episodes": demo_episodes},
            "samples_per_state": samples,
            "summary": [f"mean JS divergence to the demos reference {float(jnp.mean(per_seed['js'])):.3f} "
                        f"(Hellinger {float(jnp.mean(per_seed['hellinger'])):.3f}); hacking by the true reward in "
                        f"{sum(bool(h) for h in hacking)} of {len(hacking)} seeds"]}
