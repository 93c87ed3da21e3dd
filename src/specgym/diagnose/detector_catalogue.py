"""The reward-hacking detector scored across scenarios: one pooled AUROC over many policies.

One scenario gives few policies and often only one class (its unfixed agents all
hack, its fixed agents all do not), so a per-scenario AUROC is noisy or undefined.
Pan et al. (2022) judge a detector over a pool of policies from several
environments; this module does the same over the catalogue. Per scenario it trains
the unfixed setup and the setup with every canonical fix (the same seeds), builds
each requested trusted reference (``detect.REFERENCES``; the first is the
detector's, the others are measured beside it), and scores every policy as
``specgym diagnose``'s detector part does (``detect.score_policies``). Labels come
from the true reward (``detect.is_hacking``), never from the detector, and nothing
about the labels reaches the references or the distances.

Distances are pooled as they are: a detector deployed on a new environment has no
per-environment calibration either, so the pooled AUROC is the honest number; the
per-scenario AUROCs are reported next to it.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import jax

from specgym.diagnose.combinations import canonical_fixes, train_combination
from specgym.diagnose.detect import REFERENCES, auroc, auroc_ci, build_reference, score_policies
from specgym.errors import ScenarioError
from specgym.run_dir import check_writable_dir, dumps, write_file_atomically
from specgym.scenarios.base import LEVERS


def reward_gaming_pool() -> list[str]:
    """The default pool: every scenario whose failure is gaming a proxy reward and whose fixes remove it
    (``Scenario.reward_gaming``), in id order."""
    from specgym.scenarios import get, scenario_ids

    return [name for name in scenario_ids() if get(name).reward_gaming]


@dataclasses.dataclass(frozen=True)
class CatalogueDetectConfig:
    """What the catalogue-wide detector evaluation trains."""

    seeds: int = 4
    """Seeds per scenario and setup (unfixed, every fix) - each seed is one policy in the pool."""
    seed: int = 0
    """Master seed."""
    eval_episodes: int = 16
    """Episodes per policy for its proxy and intended scores."""
    references: tuple[str, ...] = ("demos",)
    """Trusted references to measure (``detect.REFERENCES``); the first one's distances are the detector's."""
    demo_episodes: int = 32
    """Demonstrated episodes the ``demos`` reference is cloned from."""
    reference_fraction: float = 0.25
    """Budget of the ``rl`` reference (trained on the intended reward) as a share of the training budget."""
    resamples: int = 2000
    """Bootstrap resamples for the AUROC confidence intervals."""


def detect_across(scenario_ids, overrides: dict, config: CatalogueDetectConfig = CatalogueDetectConfig(),
                  progress: bool = True, save_to: Path | None = None) -> dict:
    """Train, score and pool every scenario's policies; pooled and per-scenario AUROC with bootstrap CIs.

    With ``save_to``, the result so far is rewritten after each scenario (an interrupted run keeps it).
    """
    from specgym.scenarios import get

    scenarios = [get(s) for s in scenario_ids]
    if len(scenarios) < 1:
        raise ScenarioError("name at least one scenario")
    unknown = [r for r in config.references if r not in REFERENCES]
    if unknown or not config.references:
        raise ScenarioError(f"references must be among {', '.join(REFERENCES)}, not {unknown or 'none'}")
    started = time.perf_counter()
    pool, per_scenario = [], {}
    for scenario in scenarios:
        t0 = time.perf_counter()
        canonical = canonical_fixes(scenario)
        settings = {k: v for k, v in overrides.items()}
        combos = {}
        for coalition in (frozenset(), frozenset(LEVERS)):
            fixes = {lever: canonical[lever] if lever in coalition else None for lever in LEVERS}
            label = f"{scenario.id}: " + ("no fix" if not coalition else "every fix")
            combos[coalition] = train_combination(scenario, settings, fixes, config.seeds, config.seed,
                                                  config.eval_episodes, progress, label)
        base = combos[frozenset()].setup
        references, built = {}, {}
        for name in config.references:
            references[name], built[name] = build_reference(name, scenario, settings, base, config, progress)
        policies = score_policies(base, combos, references, jax.random.PRNGKey(config.seed + 3),
                                  config.eval_episodes)
        for p in policies:
            p["scenario"] = scenario.id
        pool += policies
        per_scenario[scenario.id] = {**_aurocs(policies, config), "references": built,
                                     "fixes": {k: v for k, v in canonical.items() if v},
                                     "seconds": time.perf_counter() - t0}
        result = _result(scenarios, overrides, config, pool, per_scenario, started)
        if save_to is not None:
            save_catalogue(result, save_to)
    return result


def _result(scenarios, overrides, config, pool, per_scenario, started) -> dict:
    from specgym.diagnose.detect import HACK_GAP, HACK_INTENDED

    return {"kind": "detector-catalogue", "scenarios": [s.id for s in scenarios], "done": list(per_scenario),
            "settings": overrides, "seeds": config.seeds, "seed": config.seed, "eval_episodes": config.eval_episodes,
            "references": list(config.references), "demo_episodes": config.demo_episodes,
            "reference_fraction": config.reference_fraction, "pooled": _aurocs(pool, config),
            "per_scenario": per_scenario, "policies": pool, "wall_seconds": time.perf_counter() - started,
            "label_rule": f"hacking: proxy score - intended score >= {HACK_GAP} and intended score < "
                          f"{HACK_INTENDED} (training levels, unfixed proxy)"}


def _aurocs(policies: list[dict], config: CatalogueDetectConfig) -> dict:
    """Counts and both AUROCs (with CIs) for the detector's reference, and under ``by_reference`` for each one."""
    labels = [p["hacking"] for p in policies]
    out: dict[str, Any] = {"policies": len(policies), "hacking": int(sum(labels)),
                           "non_hacking": len(labels) - int(sum(labels))}

    def both(distance):
        stats = {}
        for name in ("js", "hellinger"):
            scores = [distance(p)[name] for p in policies]
            stats[name] = {"auroc": auroc(scores, labels),
                           "ci95": auroc_ci(scores, labels, resamples=config.resamples, seed=config.seed)}
        return stats

    out.update(both(lambda p: p))
    names = list(policies[0].get("distances", {})) if policies else []
    out["by_reference"] = {name: both(lambda p, name=name: p["distances"][name]) for name in names}
    return out


def describe_reference(name: str, result: dict) -> str:
    """One line saying what a reference is."""
    if name == "demos":
        return f"clones of {result.get('demo_episodes', '?')} episodes of the exact intended-reward expert"
    return f"PPO on the intended reward, {result['reference_fraction']:.0%} of the training budget"


def format_catalogue(result: dict) -> str:
    """One table per reference: per scenario and pooled, the reference's intended score, class counts, AUROCs."""

    def cell(stat):
        if stat["auroc"] is None:
            return f"{'undefined':>22s}"
        low, high = stat["ci95"]
        return f"{stat['auroc']:>6.2f} [{low:.2f}, {high:.2f}]".rjust(22)

    def competence(row, name):
        score = row.get("references", {}).get(name, {}).get("intended_score")
        return f"{score['iqm']:>10.2f}" if score else f"{'':>10s}"

    done = result.get("done", result["scenarios"])
    names = result.get("references", ["rl"])
    lines = [f"reward-hacking detector over {len(done)} of {len(result['scenarios'])} scenarios, "
             f"{result['seeds']} seeds per setup (unfixed and every fix)"]
    for number, name in enumerate(names):
        role = "the detector's reference" if number == 0 else "measured beside it"
        lines += ["", f"reference {name!r} ({role}): {describe_reference(name, result)}",
                  f"{'scenario':<20s}{'ref. int.':>10s}{'hacking':>8s}{'not':>6s}{'AUROC JS [95% CI]':>22s}"
                  f"{'AUROC Hellinger':>22s}"]
        rows = list(result["per_scenario"].items()) + [("POOLED", result["pooled"])]
        for scenario, row in rows:
            stats = row if number == 0 else row["by_reference"][name]
            lines.append(f"{scenario:<20s}{competence(row, name)}{row['hacking']:>8d}{row['non_hacking']:>6d}"
                         f"{cell(stats['js'])}{cell(stats['hellinger'])}")
    lines += ["", result["label_rule"], "ref. int.: the reference's own intended score (IQM over its seeds). "
              "AUROC undefined where one class is empty; CIs: stratified bootstrap over policies. "
              f"({result['wall_seconds']:.0f} s)"]
    if result.get("file"):
        lines.append(f"written to {result['file']}")
    return "\n".join(lines)


def save_catalogue(result: dict, path: Path) -> Path:
    """Write the result (every policy's distances, scores and label) as JSON, atomically."""
    check_writable_dir(path.parent)
    result["file"] = str(path)
    return write_file_atomically(path, dumps(result, indent=2))
