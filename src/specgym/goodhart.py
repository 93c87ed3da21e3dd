"""Goodhart curves: proxy and true value of the best-of-n outcome as optimisation pressure grows.

For a scenario built on candidate outcomes (``OutcomeChoice``: outcome-pump,
nail-factory) and each of its Goodhart variants, draw ``repeats`` independent
sequences of ``max_n`` outcomes from the variant's generative model and select,
for every n, the one the specified reward (the proxy) rates best among the
first n. The proxy of the selected outcome can only rise with n; what its true
value (the intended reward) does is the variant's signature. Everything is
vectorised: one draw of ``repeats x max_n`` outcomes per variant serves every n.

``specgym goodhart SCENARIO`` prints the curves, writes ``goodhart.json`` and
``goodhart.png`` (one panel per variant, mean with 95% confidence bands).
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import jax
import numpy as np

from specgym.envs.capabilities import ChoosesAmongSampledOutcomes
from specgym.envs.goodhart_choice import score_outcomes
from specgym.errors import ScenarioError
from specgym.run_dir import RunDir, check_writable_dir
from specgym.scenarios import get

Z95 = 1.959964


def pressure_grid(max_n: int, points: int = 40) -> np.ndarray:
    """About ``points`` values of n from 1 to ``max_n``, evenly spaced in log n."""
    return np.unique(np.round(np.logspace(0, np.log10(max_n), points)).astype(int))


def best_of_n(proxy: np.ndarray, true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For (repeats, N) draws: proxy and true value of the proxy-best among the first n, for n = 1..N."""
    running = np.maximum.accumulate(proxy, axis=1)
    positions = np.arange(proxy.shape[1])
    best_index = np.maximum.accumulate(np.where(proxy >= running, positions, 0), axis=1)
    return running, np.take_along_axis(true, best_index, axis=1)


def _band(values: np.ndarray) -> dict:
    mean = values.mean(axis=0)
    half = Z95 * values.std(axis=0, ddof=1) / np.sqrt(values.shape[0])
    return {"mean": mean.tolist(), "low": (mean - half).tolist(), "high": (mean + half).tolist()}


def _outcome_env(scenario_id: str, settings: dict | None):
    scenario = get(scenario_id)
    unknown = sorted(set(settings or {}) - set(scenario.settings))
    if unknown:
        raise ScenarioError(f"unknown setting {unknown[0]!r} for {scenario_id}; valid: {', '.join(scenario.settings)}")
    env, _ = scenario.build(scenario.resolve_settings(settings or {}))
    model = env.model if isinstance(env, ChoosesAmongSampledOutcomes) else None
    variant_setting = scenario.settings.get("variant")
    if model is None or variant_setting is None:
        raise ScenarioError(f"scenario {scenario_id!r} is not a choice among sampled outcomes; "
                            "Goodhart curves need one such as outcome-pump or nail-factory")
    return scenario, env, model


def goodhart_curves(scenario_id: str, max_n: int = 1000, repeats: int = 2000, seed: int = 0,
                    variants: tuple[str, ...] | None = None, settings: dict | None = None) -> dict:
    """Best-of-n curves of proxy and true value for every Goodhart variant of a scenario.

    Returns ``{"scenario", "settings", "proxy", "true", "n", "variants": {name: {"proxy": band,
    "true": band, "peak_n"}}}`` where a band is ``{"mean", "low", "high"}`` over ``n``.
    """
    if max_n < 2 or repeats < 2:
        raise ScenarioError("max_n and repeats must both be at least 2")
    scenario, env, model = _outcome_env(scenario_id, settings)
    names = variants or tuple(v for v in model.variants if scenario.settings["variant"].check(v))
    grid = pressure_grid(max_n)
    result = {"scenario": scenario_id, "settings": scenario.resolve_settings(settings or {}),
              "proxy": env.specified_reward.name, "true": env.intended_reward.name,
              "n": grid.tolist(), "repeats": repeats, "variants": {}}
    key = jax.random.PRNGKey(seed)
    for i, name in enumerate(names):
        outcomes = model.sample(name, jax.random.fold_in(key, i), (repeats, max_n))
        proxy = np.asarray(score_outcomes(env.specified_reward, outcomes), np.float64)
        true = np.asarray(score_outcomes(env.intended_reward, outcomes), np.float64)
        best_proxy, best_true = best_of_n(proxy, true)
        true_band = _band(best_true[:, grid - 1])
        result["variants"][name] = {"proxy": _band(best_proxy[:, grid - 1]), "true": true_band,
                                    "peak_n": int(grid[int(np.argmax(true_band["mean"]))])}
    return result


def plot_curves(curves: dict, path: Path) -> Path:
    """One panel per variant: proxy (left axis) and true value (right axis) against log n."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(curves["variants"])
    fig, axes = plt.subplots(1, len(names), figsize=(3.6 * len(names), 3.2), squeeze=False)
    n = np.asarray(curves["n"])
    for ax, name in zip(axes[0], names, strict=True):
        bands = curves["variants"][name]
        twin = ax.twinx()
        for axis, which, colour in ((ax, "proxy", "tab:blue"), (twin, "true", "tab:red")):
            band = bands[which]
            axis.plot(n, band["mean"], color=colour, label=f"{which}: {curves[which]}")
            axis.fill_between(n, band["low"], band["high"], color=colour, alpha=0.25)
            axis.tick_params(axis="y", labelcolor=colour)
        ax.set_xscale("log")
        ax.set_xlabel("optimisation pressure: best of n")
        ax.set_title(name)
    axes[0][0].set_ylabel(f"proxy: {curves['proxy']}", color="tab:blue", fontsize=8)
    twin.set_ylabel(f"true: {curves['true']}", color="tab:red", fontsize=8)
    fig.suptitle(f"{curves['scenario']}: Goodhart curves (mean, 95% CI over {curves['repeats']} repeats)")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def format_curves(curves: dict, shown: tuple[int, ...] = (1, 3, 10, 30, 100, 300, 1000)) -> str:
    """A table of mean proxy / true value at a few n per variant."""
    n = curves["n"]
    columns = [k for k in shown if k in n]
    lines = [f"{curves['scenario']}: proxy = {curves['proxy']}; true = {curves['true']}",
             f"{'variant':<14s}" + "".join(f"{'n=' + str(k):>16s}" for k in columns) + "   true peaks at n"]
    for name, bands in curves["variants"].items():
        cells = "".join(f"{bands['proxy']['mean'][n.index(k)]:8.2f}/{bands['true']['mean'][n.index(k)]:<7.2f}"
                        for k in columns)
        lines.append(f"{name:<14s}{cells}   {bands['peak_n']}")
    lines.append("(each cell: proxy / true value of the proxy-best of n)")
    return "\n".join(lines)


@click.command("goodhart")
@click.argument("scenario")
@click.option("--max-n", default=1000, show_default=True, type=click.IntRange(2, 100_000),
              help="Largest optimisation pressure (best of n).")
@click.option("--repeats", default=2000, show_default=True, type=click.IntRange(2, 1_000_000),
              help="Independent draws per n (the 95% CI narrows with more).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--metric", default=None, help="nail-factory: what the planners pay for (count or weight).")
@click.option("--json", "as_json", is_flag=True, help="Print the curves as JSON.")
@click.option("--out", default="runs", show_default=True, type=click.Path(file_okay=False),
              help="Directory for goodhart.json and goodhart.png.")
def goodhart_command(scenario, max_n, repeats, seed, metric, as_json, out):
    """Proxy and true value of the best-of-n outcome, n = 1..MAX_N, for each Goodhart variant of SCENARIO."""
    settings = {"metric": metric} if metric else {}
    try:
        curves = goodhart_curves(scenario, max_n=max_n, repeats=repeats, seed=seed, settings=settings)
        folder = RunDir(check_writable_dir(Path(out) / f"goodhart-{scenario}"))
        folder.write_json("goodhart.json", curves, indent=1)
    except ScenarioError as error:
        raise click.UsageError(str(error)) from None
    plot_curves(curves, folder / "goodhart.png")
    click.echo(json.dumps(curves) if as_json else format_curves(curves) + f"\nwritten: {folder}")
