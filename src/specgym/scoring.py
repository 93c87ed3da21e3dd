"""Score any policy on a scenario exactly as ``specgym run`` scores its own: ``specgym.evaluate``.

The summary has the structure of ``specgym run --json`` (``specgym.results.RunSummary``): per split, the
specified and intended return and normalised score (0 = uniform-random policy, 1 = optimal policy, from the
exact references), event counts and, where the scenario has candidate goals, capability; each as the IQM over
seeds with its 95% bootstrap CI and the per-seed values. It adds ``policy`` (what was scored) and
``episodes``.

Seeds: a function acts for every seed, and each seed plays its own ``episodes`` episodes; a run directory's
policies are its trained seeds, each scored on the episodes ``specgym run`` scored it on, so evaluating a run
directory with its own settings reproduces its ``summary.json``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax

from specgym.capability import capability_goals, capability_record, summarize_capability
from specgym.errors import ScenarioError
from specgym.evaluation import summarize_totals
from specgym.policies import (
    CountingInvalid,
    OutsidePolicy,
    describe_action_space,
    from_function,
    from_run_dir,
)
from specgym.references import split_references
from specgym.results import RunSummary, read_run_config, read_run_summary
from specgym.rollout import first_episode_totals, returns_and_events
from specgym.scenarios import get as get_scenario
from specgym.scenarios.base import LEVERS, SPLITS, Scenario, Setup, frozen, parse_fix_items

DEFAULT_SEEDS = 8
DEFAULT_EPISODES = 64


class Prepared(NamedTuple):
    """A policy ready to score: its scenario, the experiment built with its fixes and settings, and how it acts."""

    scenario: Scenario
    setup: Setup
    outside: OutsidePolicy
    fixes: dict[str, str | None]
    overrides: dict[str, Any]
    seed: int
    episodes: int
    env_steps: int
    run_dir: Path | None


def prepare(policy: Callable | str | Path, scenario: str | Scenario | None = None, episodes: int | None = None,
            seeds: int | None = None, seed: int | None = None, fixes: dict[str, str | None] | str | None = None,
            settings: dict[str, Any] | None = None, policy_kind: str = "auto") -> Prepared:
    """Everything :func:`evaluate` (and the policy-only diagnosis) needs; a run directory supplies the defaults."""
    run_dir = Path(policy) if isinstance(policy, (str, Path)) else None
    base: dict[str, Any] = {}
    if run_dir is not None:
        base = _run_defaults(run_dir, scenario)
        scenario = base["scenario"]
    if scenario is None:
        raise ScenarioError("say which scenario to score the policy on")
    found = scenario if isinstance(scenario, Scenario) else get_scenario(scenario)
    chosen_fixes = {lever: None for lever in LEVERS} | base.get("fixes", {}) | parse_fix_items(fixes)
    overrides = base.get("settings", {}) | found.parse_overrides(settings or {})
    setup = experiment(found, overrides, chosen_fixes)
    count: int = base.get("episodes", DEFAULT_EPISODES) if episodes is None else episodes
    if count < 1 or (seeds is not None and seeds < 1):
        raise ScenarioError(f"episodes and seeds must be at least 1, not {count} and {seeds}")
    if run_dir is not None:
        outside = from_run_dir(run_dir, seeds)
    elif callable(policy):
        outside = from_function(policy, setup.env, setup.deploy_params, seeds or DEFAULT_SEEDS, policy_kind)
    else:
        raise ScenarioError(f"a policy is a function or a run directory, not {type(policy).__name__}")
    return Prepared(found, setup, outside, {lever: chosen_fixes.get(lever) for lever in LEVERS}, overrides,
                    base.get("seed", 0) if seed is None else seed, count, base.get("env_steps", 0), run_dir)


def evaluate(policy: Callable | str | Path, scenario: str | Scenario | None = None,
             split: str | Sequence[str] = "deploy", episodes: int | None = None, seeds: int | None = None,
             seed: int | None = None, fixes: dict[str, str | None] | str | None = None,
             settings: dict[str, Any] | None = None, policy_kind: str = "auto") -> RunSummary:
    """Score ``policy`` on ``scenario``'s ``split`` ("train", "deploy", or both as a list).

    ``policy``: a JAX function ``(obs, key) -> action`` of one observation, a Python callable ``obs -> action``
    on one NumPy observation (``policy_kind`` says which where the signature does not), or a run directory
    (its scenario, settings, fixes, seed and episode count are the defaults). ``seeds`` evaluation seeds of
    ``episodes`` episodes each (defaults 8 and 64); ``fixes`` lever -> fix (or ``"lever=name"``);
    ``settings`` the scenario's settings.
    """
    started = time.perf_counter()
    splits = [split] if isinstance(split, str) else list(split)
    unknown = [s for s in splits if s not in SPLITS]
    if unknown or not splits:
        raise ScenarioError(f"unknown split {unknown[0] if unknown else splits!r}; valid: {', '.join(SPLITS)}")
    ready = prepare(policy, scenario, episodes, seeds, seed, fixes, settings, policy_kind)
    found, setup, outside = ready.scenario, ready.setup, ready.outside
    key = jax.random.split(jax.random.PRNGKey(ready.seed), 3)[1]  # the key ``specgym run`` evaluates with
    results: dict[str, Any] = {name: score_split(setup, name, outside, key, ready.episodes, found) for name in splits}
    summary: RunSummary = {
        "scenario": found.id,
        "seeds": int(jax.tree_util.tree_leaves(outside.policies)[0].shape[0]),
        "seed": ready.seed,
        "env_steps": ready.env_steps,
        "wall_seconds": time.perf_counter() - started,
        "compile_seconds": None,
        "interrupted": False,
        "fixes": ready.fixes,
        "settings": found.resolve_settings(ready.overrides),
        "available_fixes": found.available_fixes(),
        "specified_reward": getattr(setup.env.specified_reward, "name", repr(setup.env.specified_reward)),
        "intended_reward": getattr(setup.env.intended_reward, "name", repr(setup.env.intended_reward)),
        "events_shown": list(found.events),
        "splits": results,
        "run_dir": str(ready.run_dir) if ready.run_dir is not None else "",
        "policy": outside.description,
        "episodes": ready.episodes,
    }
    return summary


def score_split(setup: Setup, split: str, outside: OutsidePolicy, key, episodes: int, scenario: Scenario) -> dict:
    """One split's statistics (``specgym.evaluation.summarize_totals``), or one line on the policy's mistake."""
    env, params = setup.env, setup.train_params if split == "train" else setup.deploy_params
    references = _references(setup, split)
    goals = capability_goals(scenario.goals())
    record = CountingInvalid(capability_record(goals) if goals else returns_and_events, env.num_actions)
    num_seeds = jax.tree_util.tree_leaves(outside.policies)[0].shape[0]
    keys = jax.random.split(key, outside.key_seeds)[:num_seeds]
    totals, invalid = jax.device_get(_totals_over_seeds(env, params, outside.act, outside.policies, keys, episodes,
                                                        env.horizon(params), record))
    problem = outside.problem()
    if problem is None and invalid.sum() > 0:
        problem = f"the policy chose actions outside the action space in {int(invalid.sum())} steps"
    if problem is not None:
        raise ScenarioError(f"{problem} on {scenario.id}; {describe_action_space(env)}")
    if not goals:
        return summarize_totals(totals, references)
    totals, goal_returns = totals
    return {**summarize_totals(totals, references), "capability": summarize_capability(goal_returns, goals)}


@functools.partial(jax.jit, static_argnames=("env", "act", "episodes", "horizon", "record"))
def _totals_over_seeds(env, params, act, policies, keys, episodes: int, horizon: int, record):
    """Per-seed first-episode totals, compiled once per env, policy kind and hook (``first_episode_totals``)."""
    return jax.vmap(lambda p, k: first_episode_totals(env, params, act, p, k, episodes, horizon, record))(policies,
                                                                                                          keys)


def experiment(scenario: Scenario, overrides: dict[str, Any], fixes: dict[str, str | None]) -> Setup:
    """``scenario.setup``, kept for a registered scenario: scoring checkpoint after checkpoint reuses one env, so
    its compiled rollout and its exact references."""
    try:
        registered = get_scenario(scenario.id) is scenario
    except ScenarioError:
        registered = False
    if not registered:
        return scenario.setup(overrides, fixes)
    return _registered_experiment(scenario.id, frozen(overrides), frozen(fixes))


@functools.lru_cache(maxsize=8)
def _registered_experiment(scenario_id: str, overrides: tuple, fixes: tuple) -> Setup:
    return get_scenario(scenario_id).setup(dict(overrides), dict(fixes))


_REFERENCES: dict[tuple[int, str], tuple[Setup, dict]] = {}


def _references(setup: Setup, split: str) -> dict:
    """The split's exact references, computed once per experiment (the experiment is kept beside them)."""
    key = (id(setup), split)
    if key not in _REFERENCES or _REFERENCES[key][0] is not setup:
        params = setup.train_params if split == "train" else setup.deploy_params
        while len(_REFERENCES) >= 32:  # a bounded memo: the oldest experiment goes first
            _REFERENCES.pop(next(iter(_REFERENCES)))
        _REFERENCES[key] = (setup, split_references(setup.env, params))
    return _REFERENCES[key][1]


def _run_defaults(directory: Path, scenario) -> dict[str, Any]:
    """What a run directory says about how its policies were trained and scored."""
    if not directory.is_dir():
        raise ScenarioError(f"{str(directory)!r} is not a run directory (a policy is a function or a run directory)")
    config = read_run_config(directory / "config.json")
    named = scenario.id if isinstance(scenario, Scenario) else scenario
    if named is not None and named != config["scenario"]:
        raise ScenarioError(f"{str(directory)!r} trained on {config['scenario']}, not {named}")
    found = get_scenario(config["scenario"])
    settings = {k: tuple(v) if isinstance(v, list) else v for k, v in config.get("settings", {}).items()
                if k in found.settings or _is_trainer_field(found, k)}
    env_steps = 0
    if (directory / "summary.json").exists():
        env_steps = read_run_summary(directory / "summary.json")["env_steps"]
    return {"scenario": found, "settings": settings, "fixes": dict(config.get("fixes") or {}),
            "seed": config["seed"], "episodes": config.get("eval_episodes", DEFAULT_EPISODES), "env_steps": env_steps}


def _is_trainer_field(scenario: Scenario, name: str) -> bool:
    try:
        scenario.setting_type(name)
    except ScenarioError:
        return False
    return True
