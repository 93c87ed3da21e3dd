"""Throughput measurements behind ``specgym bench`` (method and results: bench/README.md).

* env steps/s of every scenario's train split at several batch sizes, random
  actions inside ``lax.scan``, each observation consumed as a learner's first
  layer would: projected to 64 features by a fixed random matrix, summed into the
  carry. Summing the observation alone is no measure: for one-hot observations
  XLA folds most of the step away, so that figure (still printed at the largest
  batch) is an upper bound no learner sees. Compile time is reported apart;
* the same for a reference grid env passed in (bench/reference_grid.py, a minimal
  hand-written JAX grid), timed in alternation with each env so that the ratio
  survives a machine whose load changes from second to second; at the largest
  batch, for an env whose observation is wider than the reference's, also the
  reference widened to that observation's size: its ratio is the most the
  projection of so many floats leaves to any env of that width;
* PPO training steps/s on boat-race (8 seeds vmapped, compile excluded), beside
  the same env work alone, so the env's share of a training step is known;
* ``specgym run boat-race`` wall time end to end, compilation included.

Every number is the median of several repeats.
"""

from __future__ import annotations

import functools
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp

from specgym import seed_parallel
from specgym.compile_options import LONG_RUNNING
from specgym.envs.registry import env_ids, make
from specgym.errors import ScenarioError
from specgym.rl.ppo import PPO
from specgym.scenarios import get

FEATURES = 64  # width of the projection that stands for a learner's first layer


class Subject(NamedTuple):
    """What the env harness steps (one env; the harness vmaps it): a registered env or the reference grid."""

    name: str
    num_actions: int
    reset: Callable  # key -> (obs, state)
    step: Callable  # key, state, action -> (obs, state, reward)


def env_subject(name: str, env, params) -> Subject:
    """A specgym env on one params value as a harness subject."""

    def step(key, state, action):
        obs, state, out = env.step(key, state, action, params)
        return obs, state, out.reward

    return Subject(name, env.num_actions, lambda key: env.reset(key, params), step)


@functools.cache
def registered(env_id: str) -> Subject:
    """A registered env's train split (cached, so its compiled rollouts are reused)."""
    return env_subject(env_id, *make(env_id, "train"))


def call_seconds(fn, *args) -> float:
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - start


def median_seconds(fn, repeats: int) -> float:
    return statistics.median(call_seconds(fn) for _ in range(repeats))


def observation_size(subject: Subject) -> int:
    return jax.eval_shape(subject.reset, jax.random.PRNGKey(0))[0].size


@functools.cache
def compiled_rollout(subject: Subject, batch: int, steps: int, learner: bool = True, seeds: int = 1):
    """``run(key)``: ``steps`` random-action steps of ``batch`` envs in one scan (``seeds`` such batches,
    spread over devices as PPO spreads its seeds); ``learner=False`` sums the raw observations instead."""
    w = jax.random.normal(jax.random.PRNGKey(0), (observation_size(subject), FEATURES))  # an argument, so XLA cannot fold it in

    def rollout(key, w):
        _, state = jax.vmap(subject.reset)(jax.random.split(key, batch))

        def body(carry, k):
            state, acc = carry
            k_act, k_step = jax.random.split(k)
            action = jax.random.randint(k_act, (batch,), 0, subject.num_actions)
            obs, state, reward = jax.vmap(subject.step)(jax.random.split(k_step, batch), state, action)
            obs = obs.reshape(batch, -1).astype(jnp.float32)
            seen = (obs @ w).sum() if learner else obs.sum()
            return (state, acc + seen + reward.sum()), None

        (_, acc), _ = jax.lax.scan(body, (state, jnp.zeros(())), jax.random.split(key, steps))
        return acc

    if seeds == 1:
        compiled = jax.jit(rollout, compiler_options=LONG_RUNNING)
        return lambda key: compiled(key, w)
    compiled = seed_parallel.jit_over_seeds(jax.vmap(rollout, in_axes=(0, None)), seeds, LONG_RUNNING)
    return lambda key: compiled(jax.random.split(key, seeds), w)


def env_throughput(subject: Subject, batch: int, steps: int, repeats: int, reference: Subject | None = None,
                   upper_bound: bool = False, seeds: int = 1, widened: Subject | None = None) -> dict:
    """Steps/s of ``subject`` as a learner reads it; with ``reference``, its steps/s timed in alternation and
    the ratio; ``widened`` (the reference at the subject's observation width) is timed in the same alternation,
    its ratio to the reference being that width's ceiling; ``upper_bound`` adds the raw ``obs.sum()`` figure."""
    run = compiled_rollout(subject, batch, steps, seeds=seeds)
    first = call_seconds(run, jax.random.PRNGKey(0))
    others = {name: compiled_rollout(s, batch, steps) for name, s in (("reference", reference), ("widened", widened))
              if s is not None}
    for other in others.values():
        call_seconds(other, jax.random.PRNGKey(0))  # compiles once (cached), outside the timing
    env_times, times = [], {name: [] for name in others}
    for i in range(repeats):
        env_times.append(call_seconds(run, jax.random.PRNGKey(i + 1)))
        for name, other in others.items():
            times[name].append(call_seconds(other, jax.random.PRNGKey(i + 1)))
    total = seeds * batch * steps
    seconds = statistics.median(env_times)
    row = {"env": subject.name, "batch": batch, "seeds": seeds, "steps_per_second": total / seconds,
           "compile_seconds": max(0.0, first - seconds), "consumed_as": f"obs @ W ({FEATURES} features), summed",
           "observation_size": observation_size(subject)}
    if "reference" in times:
        ref_seconds = statistics.median(times["reference"])
        row["reference_steps_per_second"] = total / ref_seconds
        row["ratio_to_reference"] = ref_seconds / seconds
        if "widened" in times:
            row["width_ceiling"] = ref_seconds / statistics.median(times["widened"])
    if upper_bound:
        raw = compiled_rollout(subject, batch, steps, learner=False)
        call_seconds(raw, jax.random.PRNGKey(0))
        row["obs_sum_steps_per_second"] = total / median_seconds(lambda: raw(jax.random.PRNGKey(1)), repeats)
    return row


def ppo_throughput(scenario_id: str, seeds: int, updates: int, repeats: int, spread_seeds: bool = True,
                   env_share: bool = False, overrides: dict | None = None) -> dict:
    """PPO steps/s as ``specgym run`` trains; ``spread_seeds=False`` keeps every seed on one device.

    ``env_share`` also times the same env steps alone (same envs, seeds and devices, random actions, the
    harness's projection) and reports the fraction of a training step that the env takes.
    """
    setup = get(scenario_id).setup(dict(overrides or {}))
    ppo = PPO(setup.trainer, *setup.training())
    sharding = seed_parallel.seed_sharding(seeds) if spread_seeds else None
    def compile_over_seeds(fn, seeds, compiler_options=None):
        if spread_seeds:
            return seed_parallel.jit_over_seeds(fn, seeds, compiler_options)
        return jax.jit(fn, compiler_options=compiler_options)

    runner = compile_over_seeds(jax.vmap(ppo.init), seeds)(jax.random.split(jax.random.PRNGKey(0), seeds))
    chunk = compile_over_seeds(jax.vmap(lambda r: ppo.run_updates(r, updates)), seeds, LONG_RUNNING)
    first = median_seconds(lambda: chunk(runner)[1], 1)
    seconds = median_seconds(lambda: chunk(runner)[1], repeats)
    compile_seconds = max(0.0, first - seconds)
    c = setup.trainer
    steps = seeds * updates * c.steps_per_update
    row = {"scenario": scenario_id, "seeds": seeds, "steps_per_second": steps / seconds,
           "devices": 1 if sharding is None else len(sharding.device_set),
           "compile_seconds": compile_seconds, "config": {"num_envs": c.num_envs, "num_steps": c.num_steps,
                                                          "update_epochs": c.update_epochs, "hidden": list(c.hidden),
                                                          "view": c.view}}
    if env_share:
        spread, batch = (seeds, c.num_envs) if spread_seeds else (1, seeds * c.num_envs)  # one program, one device
        alone = env_throughput(env_subject(scenario_id, *setup.training()), batch, updates * c.num_steps, repeats,
                               seeds=spread)
        row["env_only_steps_per_second"] = alone["steps_per_second"]
        row["env_fraction"] = row["steps_per_second"] / alone["steps_per_second"]
    return row


VIEW_SUBJECTS = ("cheese-corner", "nail-factory")
"""Scenarios whose trainer reads another view than the flat board: each is timed with it and with the board MLP."""


def view_cost(scenario_id: str, seeds: int, updates: int, repeats: int) -> dict:
    """PPO steps/s of the scenario's own view against the flat-board MLP, the same scenario, seeds and updates,
    timed in alternation (so a slower spell of the machine falls on both)."""
    view = get(scenario_id).trainer.view
    rates: dict[str, list[float]] = {view: [], "board": []}
    for _ in range(repeats):
        for name in rates:
            rates[name].append(ppo_throughput(scenario_id, seeds, updates, 1, overrides={"view": name})["steps_per_second"])
    own, board = statistics.median(rates[view]), statistics.median(rates["board"])
    return {"scenario": scenario_id, "view": view, "steps_per_second": own, "board_steps_per_second": board,
            "ratio_to_board": own / board, "repeats": rates}


def run_wall_time(scenario_id: str, repeats: int) -> dict:
    from specgym.run import run_scenario

    times = []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(repeats):
            jax.clear_caches()  # each repeat pays compilation, as a fresh `specgym run` would
            start = time.perf_counter()
            run_scenario(get(scenario_id), out_root=Path(out), progress=False)
            times.append(time.perf_counter() - start)
    return {"scenario": scenario_id, "seeds": 8, "wall_seconds": statistics.median(times), "repeats": times}


def short(rate: float) -> str:
    return f"{rate / 1e6:.2f}M" if rate >= 1e6 else f"{rate / 1e3:.0f}k"


def env_table(rows: list[dict], batches: tuple[int, ...]) -> list[str]:
    """Markdown: one line per env, steps/s per batch size with the ratio to the reference measured beside it."""
    largest = batches[-1]
    ceilings = any("width_ceiling" in r for r in rows)
    head = ["env", *(f"{b} env{'s' * (b > 1)}" for b in batches), f"obs.sum() at {largest} (upper bound)",
            *([f"observation floats (the reference widened to them, at {largest})"] if ceilings else [])]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    by_env: dict[str, dict[int, dict]] = {}
    for row in rows:
        by_env.setdefault(row["env"], {})[row["batch"]] = row
    if rows and "reference_steps_per_second" in rows[0]:
        ref = [short(statistics.median(r["reference_steps_per_second"] for r in rows if r["batch"] == b))
               for b in batches]
        lines.append("| reference grid (median over its runs) | " + " | ".join(ref) + " | |" + " |" * ceilings)
    for env, cells in by_env.items():
        text = [short(cells[b]["steps_per_second"]) + (f" ({cells[b]['ratio_to_reference']:.2f}x)"
                                                       if "ratio_to_reference" in cells[b] else "") for b in batches]
        raw = cells[largest].get("obs_sum_steps_per_second")
        width = ""
        if ceilings:
            row = cells[largest]
            width = f" {row.get('observation_size', '')}" + (
                f" ({row['width_ceiling']:.2f}x)" if "width_ceiling" in row else "") + " |"
        lines.append(f"| {env} | " + " | ".join(text) + f" | {short(raw) if raw else ''} |" + width)
    return lines


def below_half(rows: list[dict], batch: int, widened: bool) -> list[str]:
    """The envs under 0.5x of the reference at ``batch`` envs, each beside the ceiling of its observation width."""
    slow = [r for r in rows if r["batch"] == batch and r.get("ratio_to_reference", 1) < 0.5]
    text = [f"{r['env']} {r['ratio_to_reference']:.2f}x" + (
        f" (observation {r['observation_size']} floats; the reference widened to them: {r['width_ceiling']:.2f}x)"
        if "width_ceiling" in r else f" (observation {r['observation_size']} floats)") for r in slow]
    lines = [f"\nbelow 0.5x of the reference at {batch} envs: {'; '.join(text) or 'none'}"]
    if widened:
        lines.append("(the reference widened to an env's observation size, by floats that follow its agent, pays "
                     "the projection of that many floats with the reference's own step: its ratio is about the most "
                     "an env of that width can reach here)")
    return lines


def run_benchmarks(quick: bool = False, only_envs: list[str] | None = None, reference: Subject | None = None,
                   widen: Callable[[int], Subject] | None = None) -> dict:
    """All measurements; ``only_envs`` limits the env-throughput rows (boat-race is always the PPO subject).

    ``reference`` (bench/reference_grid.py's ``SUBJECT``; the installed package does not ship it) adds each
    env's ratio to that minimal grid env, timed in alternation with it; ``widen(size)`` (its ``widened``) gives
    the reference at an observation width, timed beside each env wider than the reference at the largest batch.
    """
    repeats = 1 if quick else 3
    batches = (1, 64) if quick else (1, 64, 1024, 4096)
    unknown = sorted(set(only_envs or []) - set(env_ids()))
    if unknown:
        raise ScenarioError(f"unknown env {unknown[0]!r}; valid: {', '.join(env_ids())}")
    envs = []
    for env_id in only_envs or env_ids():
        subject = registered(env_id)
        size = observation_size(subject)
        widened = (widen(size) if reference is not None and widen is not None and size > observation_size(reference)
                   else None)
        for batch in batches:
            steps = 200 if batch == 1 else max(50, min(1000, 2_000_000 // batch))
            last = batch == batches[-1]
            envs.append(env_throughput(subject, batch, steps, repeats, reference, upper_bound=last,
                                       widened=widened if last else None))
    ppo = ppo_throughput("boat-race", seeds=8, updates=2 if quick else 10, repeats=repeats, env_share=True)
    ppo_one_device = (ppo_throughput("boat-race", seeds=8, updates=2 if quick else 10, repeats=repeats,
                                     spread_seeds=False) if ppo["devices"] > 1 else None)
    views = [view_cost(name, seeds=8, updates=2 if quick else 5, repeats=repeats) for name in VIEW_SUBJECTS]
    wall = None if quick else run_wall_time("boat-race", repeats)
    results = {"env_throughput": envs, "ppo": ppo, "ppo_one_device": ppo_one_device, "ppo_views": views,
               "run_wall_time": wall, "device": str(jax.devices()[0]), "repeats": repeats}
    return {**results, "table": results_table(results)}


def results_table(results: dict) -> str:
    """The markdown report of ``run_benchmarks``'s measurements (also re-rendered from bench/results.json)."""
    envs, ppo, ppo_one_device = results["env_throughput"], results["ppo"], results["ppo_one_device"]
    views, wall = results["ppo_views"], results["run_wall_time"]
    batches = tuple(sorted({r["batch"] for r in envs}))
    reference = any("ratio_to_reference" in r for r in envs)
    compile_times = [r["compile_seconds"] for r in envs]
    beside = ("in brackets: the ratio to the reference grid timed beside it" if reference else
              "no reference grid: `python -m bench` in the repository measures it")
    lines = [f"env steps/s, random actions, each observation projected to {FEATURES} features by a fixed random "
             f"matrix and summed, as a learner's first layer reads it ({beside}); compile "
             f"{min(compile_times):.1f}-{max(compile_times):.1f} s per env and batch size, not included", ""]
    lines += env_table(envs, batches)
    if reference:
        lines += below_half(envs, batches[-1], any("width_ceiling" in r for r in envs))
    lines.append(f"\nPPO on boat-race, {ppo['seeds']} seeds over {ppo['devices']} device(s): "
                 f"{ppo['steps_per_second']:,.0f} steps/s (compile {ppo['compile_seconds']:.1f} s); the same env "
                 f"steps alone: {ppo['env_only_steps_per_second']:,.0f}/s, so the env is "
                 f"{ppo['env_fraction']:.0%} of a training step")
    if ppo_one_device:
        lines.append(f"PPO with every seed on one device: {ppo_one_device['steps_per_second']:,.0f} steps/s "
                     f"(spread over {ppo['devices']}: {ppo['steps_per_second'] / ppo_one_device['steps_per_second']:.2f}x)")
    for row in views:
        lines.append(f"PPO on {row['scenario']} with its {row['view']} view: {row['steps_per_second']:,.0f} steps/s; "
                     f"with the flat-board MLP: {row['board_steps_per_second']:,.0f} steps/s "
                     f"({row['ratio_to_board']:.2f}x the board's rate)")
    if wall:
        lines.append(f"specgym run boat-race (8 seeds, end to end): {wall['wall_seconds']:.1f} s (median)")
    return "\n".join(lines)
