"""The reward-hacking detector scored across scenarios: one pooled AUROC over many policies.

One scenario gives few policies and often only one class (its unfixed agents all
hack, its fixed agents all do not), so a per-scenario AUROC is noisy or undefined.
Pan et al. (2022) judge a detector over a pool of policies from several
environments; this module does the same over the catalogue. Per scenario it trains
the unfixed setup and the setup with every canonical fix (the same seeds), plus the
trusted reference on the intended reward, and scores every policy exactly as
``specgym diagnose``'s detector part does (``detect.score_policies``). Labels come
from the true reward (``detect.is_hacking``), never from the detector.

Distances are pooled as they are: a detector deployed on a new environment has no
per-environment calibration either, so the pooled AUROC is the honest number; the
per-scenario AUROCs are reported next to it.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import jax

from specgym.diagnose.combinations import canonical_fixes, train_combination
from specgym.diagnose.detect import auroc, auroc_ci, score_policies, train_reference
from specgym.scenarios.base import LEVERS, ScenarioError

REWARD_GAMING = ("boat-race", "tomato-watering", "key-door", "lego-stack")
"""Default pool: scenarios whose failure is gaming a proxy reward (and whose fixes remove it)."""


@dataclasses.dataclass(frozen=True)
class CatalogueDetectConfig:
    """What the catalogue-wide detector evaluation trains."""

    seeds: int = 4
    """Seeds per scenario and setup (unfixed, every fix) - each seed is one policy in the pool."""
    seed: int = 0
    """Master seed."""
    eval_episodes: int = 16
    """Episodes per policy for its proxy and intended scores."""
    reference_fraction: float = 0.25
    """Budget of the trusted reference (trained on the intended reward) as a share of the training budget."""
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
        reference, budget = train_reference(scenario, settings, config.reference_fraction, config.seeds, config.seed,
                                            progress)
        policies = score_policies(combos[frozenset()].setup, combos, reference, jax.random.PRNGKey(config.seed + 3),
                                  config.eval_episodes)
        for p in policies:
            p["scenario"] = scenario.id
        pool += policies
        per_scenario[scenario.id] = {**_aurocs(policies, config), "reference_budget": budget,
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
            "reference_fraction": config.reference_fraction, "pooled": _aurocs(pool, config),
            "per_scenario": per_scenario, "policies": pool, "wall_seconds": time.perf_counter() - started,
            "label_rule": f"hacking: proxy score - intended score >= {HACK_GAP} and intended score < "
                          f"{HACK_INTENDED} (training levels, unfixed proxy)"}


def _aurocs(policies: list[dict], config: CatalogueDetectConfig) -> dict:
    labels = [p["hacking"] for p in policies]
    out = {"policies": len(policies), "hacking": int(sum(labels)), "non_hacking": len(labels) - int(sum(labels))}
    for name, field in (("js", "js"), ("hellinger", "hellinger")):
        scores = [p[field] for p in policies]
        out[name] = {"auroc": auroc(scores, labels),
                     "ci95": auroc_ci(scores, labels, resamples=config.resamples, seed=config.seed)}
    return out


def format_catalogue(result: dict) -> str:
    """A table: per scenario and pooled, how many policies of each class and both AUROCs with CIs."""

    def cell(stat):
        if stat["auroc"] is None:
            return f"{'undefined':>22s}"
        low, high = stat["ci95"]
        return f"{stat['auroc']:>6.2f} [{low:.2f}, {high:.2f}]".rjust(22)

    done = result.get("done", result["scenarios"])
    lines = [f"reward-hacking detector over {len(done)} of {len(result['scenarios'])} scenarios, "
             f"{result['seeds']} seeds per setup "
             f"(unfixed and every fix), reference at {result['reference_fraction']:.0%} of the budget",
             f"{'scenario':<20s}{'hacking':>8s}{'not':>6s}{'AUROC JS [95% CI]':>22s}{'AUROC Hellinger':>22s}"]
    rows = list(result["per_scenario"].items()) + [("POOLED", result["pooled"])]
    for name, row in rows:
        lines.append(f"{name:<20s}{row['hacking']:>8d}{row['non_hacking']:>6d}{cell(row['js'])}{cell(row['hellinger'])}")
    lines += [result["label_rule"], f"AUROC undefined where one class is empty; CIs: stratified bootstrap over "
              f"policies. ({result['wall_seconds']:.0f} s)"]
    if result.get("file"):
        lines.append(f"written to {result['file']}")
    return "\n".join(lines)


def save_catalogue(result: dict, path: Path) -> Path:
    """Write the result (every policy's distances, scores and label) as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    result["file"] = str(path)
    path.write_text(json.dumps(result, indent=2))
    return path
