"""``python -m bench.adapters``: what the adapters cost, against specgym's own step in the same run.

Two measurements, each the median of ``REPEATS`` repeats after one warm-up call that compiles (the vector
env's variants take their repeats in turn, so a change of load falls on all of them alike):

* **Gymnasium vector env steps/s** at 1, 64 and 1024 envs (boat-race, train split): ``VectorEnv.step`` with
  NumPy actions, NumPy results back, as a Gymnasium learner calls it; beside it the native ``Env.step``
  vmapped over the same envs, dispatched once per step from Python (``block_until_ready``) - the same loop
  without Gymnasium's types and transfers - and the native step fused into one ``lax.scan`` of all steps
  (the way specgym's own trainer runs it). The single Gymnasium env (not vectorised) is one more row at 1.
* **``specgym.evaluate``** of trained boat-race policies, 8 seeds x 64 episodes on the deploy split: a run
  directory's 8 networks, seed 0's network as a JAX function ``(obs, key) -> action``, and the same network
  in NumPy as a Python callable (host callback per step). The first call pays compilation and the exact
  references; the warm calls are the median.

Writes bench/adapters.json and prints a markdown table (pasted into bench/README.md).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import specgym
from specgym.gymnasium import SpecgymEnv, compiled_split
from specgym.gymnasium_vector import SpecgymVectorEnv
from specgym.rl import networks
from specgym.rl.policy_io import load_policies, select_seed
from specgym.run import run_scenario

REPEATS = 5
SIZES = {1: 2000, 64: 1000, 1024: 200}
"""Envs -> steps per repeat (enough for about a second of work each)."""
SCENARIO = "boat-race"
TRAIN_STEPS = 100_000


def median_seconds(fn, repeats: int = REPEATS) -> float:
    fn()  # compile and warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def interleaved_medians(fns: dict, repeats: int = REPEATS) -> dict[str, float]:
    """Median seconds of each function, their repeats taken in turn, so a change of load falls on all of them."""
    for fn in fns.values():
        fn()  # compile and warm up
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


def vector_rates(num_envs: int, steps: int) -> dict:
    """Env steps per second of the Gymnasium vector env and of the native step, same envs, same machine."""
    vec = SpecgymVectorEnv(num_envs, SCENARIO)
    vec.reset(seed=0)
    rng = np.random.default_rng(0)
    actions = [rng.integers(0, 4, num_envs) for _ in range(steps)]

    def gymnasium_loop():
        for a in actions:
            vec.step(a)

    fns = compiled_split(SCENARIO, "train", None, None)
    env, params = fns.env, fns.params
    step = jax.jit(jax.vmap(env.step, in_axes=(0, 0, 0, None)))
    _, states = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(jax.random.PRNGKey(0), num_envs), params)
    keys = jax.random.split(jax.random.PRNGKey(1), num_envs)
    device_actions = [jnp.asarray(a, jnp.int32) for a in actions]

    def native_loop():
        s = states
        for a in device_actions:
            obs, s, out = step(keys, s, a, params)
        jax.block_until_ready((obs, out))

    @jax.jit
    def fused(states, key):
        def body(carry, k):
            s, total = carry
            k_act, k_env = jax.random.split(k)
            a = jax.random.randint(k_act, (num_envs,), 0, 4)
            obs, s, out = jax.vmap(env.step, in_axes=(0, 0, 0, None))(jax.random.split(k_env, num_envs), s, a, params)
            return (s, total + obs.sum() + out.reward.sum()), None

        return jax.lax.scan(body, (states, 0.0), jax.random.split(key, steps))[0][1]

    def native_fused():
        jax.block_until_ready(fused(states, jax.random.PRNGKey(2)))

    rows = {"gymnasium_vector": gymnasium_loop, "native_step_per_call": native_loop, "native_scan": native_fused}
    if num_envs == 1:
        single = SpecgymEnv(SCENARIO)
        single.reset(seed=0)

        def single_loop():
            for a in actions:
                _, _, terminated, truncated, _ = single.step(int(a[0]))
                if terminated or truncated:
                    single.reset()

        rows["gymnasium_single"] = single_loop
    return {name: num_envs * steps / seconds for name, seconds in interleaved_medians(rows).items()}


def evaluate_times(out_root: Path) -> dict:
    """Seconds of specgym.evaluate, 8 seeds x 64 deploy episodes, for a trained run's policies in three forms."""
    start = time.perf_counter()
    summary = run_scenario(specgym.get_scenario(SCENARIO), {"total_steps": TRAIN_STEPS}, seeds=8, out_root=out_root,
                           progress=False, pictures=False)
    train_seconds = time.perf_counter() - start
    net = select_seed(load_policies(Path(summary["run_dir"]) / "policy.npz"), 0)
    jax_net = jax.tree_util.tree_map(jnp.asarray, net)

    def jax_policy(obs, key):
        return jax.random.categorical(key, networks.policy_logits(jax_net, obs))

    rng = np.random.default_rng(0)

    def numpy_policy(obs):
        x = obs
        for layer in net["actor"][:-1]:
            x = np.tanh(x @ layer["w"] + layer["b"])
        logits = x @ net["actor"][-1]["w"] + net["actor"][-1]["b"]
        p = np.exp(logits - logits.max())
        return int(rng.choice(len(p), p=p / p.sum()))

    policies = {"run directory (8 networks)": lambda: specgym.evaluate(summary["run_dir"], episodes=64),
                "JAX function (obs, key)": lambda: specgym.evaluate(jax_policy, SCENARIO, episodes=64, seeds=8),
                "NumPy callable (obs)": lambda: specgym.evaluate(numpy_policy, SCENARIO, episodes=64, seeds=8)}
    result = {"train_seconds": train_seconds, "deploy_intended_iqm": summary["splits"]["deploy"]["intended_score"]["iqm"]}
    for name, fn in policies.items():
        start = time.perf_counter()
        scored = fn()
        first = time.perf_counter() - start
        result[name] = {"first_call_s": first, "warm_s": median_seconds(fn, 3),
                        "specified_iqm": scored["splits"]["deploy"]["specified_score"]["iqm"]}
    return result


def check_numpy_policy_matches(net) -> None:
    """The NumPy re-implementation of the actor is the network's own (so the two rows time the same policy)."""
    obs = np.random.default_rng(1).random((3, net["actor"][0]["w"].shape[0]), np.float32)
    x = obs
    for layer in net["actor"][:-1]:
        x = np.tanh(x @ layer["w"] + layer["b"])
    np.testing.assert_allclose(x @ net["actor"][-1]["w"] + net["actor"][-1]["b"],
                               np.asarray(networks.policy_logits(jax.tree_util.tree_map(jnp.asarray, net), obs)),
                               rtol=1e-4, atol=1e-4)


def markdown(results: dict) -> str:
    lines = ["| envs | Gymnasium VectorEnv steps/s | native step, one call per step | ratio | native, fused scan |"
             " Gymnasium single env |", "|---:|---:|---:|---:|---:|---:|"]
    for n, rates in results["vector"].items():
        single = f"{rates['gymnasium_single']:,.0f}" if "gymnasium_single" in rates else ""
        lines.append(f"| {n} | {rates['gymnasium_vector']:,.0f} | {rates['native_step_per_call']:,.0f} | "
                     f"{rates['gymnasium_vector'] / rates['native_step_per_call']:.2f}x | {rates['native_scan']:,.0f} |"
                     f" {single} |")
    ev = results["evaluate"]
    lines += ["", f"`specgym.evaluate`, {SCENARIO} deploy, 8 seeds x 64 episodes (policies of a {TRAIN_STEPS:,}-step "
              f"run, trained in {ev['train_seconds']:.0f} s):", "",
              "| policy given as | first call s (compile, references) | warm s | specified score IQM |",
              "|---|---:|---:|---:|"]
    for name, row in ev.items():
        if isinstance(row, dict):
            lines.append(f"| {name} | {row['first_call_s']:.1f} | {row['warm_s']:.2f} | {row['specified_iqm']:.2f} |")
    return "\n".join(lines)


def main() -> None:
    results: dict = {"device": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                               f"jax {jax.__version__}", "repeats": REPEATS,
                     "load_before": os.getloadavg()[0] if hasattr(os, "getloadavg") else None}
    results["vector"] = {n: vector_rates(n, steps) for n, steps in SIZES.items()}
    with tempfile.TemporaryDirectory() as out_root:
        results["evaluate"] = evaluate_times(Path(out_root))
        run_dir = next(Path(out_root).glob("*"))
        check_numpy_policy_matches(select_seed(load_policies(run_dir / "policy.npz"), 0))
    results["load_after"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    table = markdown(results)
    print(table)
    (Path(__file__).parent / "adapters.json").write_text(json.dumps(results, indent=2))
    print(f"\n{results['device']}; load {results['load_before']:.1f} before, {results['load_after']:.1f} after; "
          f"command: python -m bench.adapters {' '.join(sys.argv[1:])}")


if __name__ == "__main__":
    main()
