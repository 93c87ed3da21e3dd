"""bench/fixes.py: the fix-vs-optimum table, on one scenario with a tiny budget, merged into an existing table."""

import importlib.util
import json
from pathlib import Path

import pytest

from specgym.errors import ScenarioError
from specgym.scenarios.registry import get

_spec = importlib.util.spec_from_file_location("bench_fixes", Path(__file__).resolve().parents[1] / "bench" / "fixes.py")
assert _spec is not None and _spec.loader is not None
fixes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixes)


def _rows(curve):
    """metrics.jsonl rows of two seeds, 100 env steps per update: ``curve`` = [(seed 0, seed 1), ...] returns."""
    return [{"update": u + 1, "env_steps": 100 * (u + 1), "seed": s, "intended_return": value}
            for u, values in enumerate(curve) for s, value in enumerate(values)]


def test_steps_to_the_optimum_fraction_read_off_the_training_curve():
    # random 0, optimal 10: normalised = return / 10; IQM of two seeds is their mean
    assert fixes.steps_to_fraction(_rows([(0, 2), (9, 6), (8, 9)]), 0.0, 10.0) == 300
    assert fixes.steps_to_fraction(_rows([(9, None), (7, 7)]), 0.0, 10.0) == 100  # a seed with no episode is left out
    assert fixes.steps_to_fraction(_rows([(None, None), (1, 2)]), 0.0, 10.0) is None  # never reached
    assert fixes.steps_to_fraction(_rows([(9, 9)]), 5.0, 5.0) is None  # random = optimal: no score
    # before every env ran a whole time limit only short episodes end: those updates are skipped
    assert fixes.steps_to_fraction(_rows([(10, 10), (1, 1), (9, 8)]), 0.0, 10.0, warm_up=200) == 300


def test_seconds_to_the_optimum_fraction_read_off_the_training_clock():
    clock = [[4, 10.0], [8, 12.5], [12, 15.0]]  # [update, seconds] at the end of each chunk of 4 updates
    assert fixes.seconds_at(clock, 100, 100) == 10.0  # update 1 ends with the first chunk
    assert fixes.seconds_at(clock, 500, 100) == 12.5  # update 5: the second chunk
    assert fixes.seconds_at(clock, 1200, 100) == 15.0
    assert fixes.seconds_at(clock, 1300, 100) is None  # past the clock: not known
    assert fixes.seconds_at(clock, None, 100) is None  # never reached


def _old_row(scenario, fix):
    stat = {"iqm": 0.5, "ci95": [0.4, 0.6]}
    return {"scenario": scenario, "fix": fix, "fixes": {}, "seeds": 8, "env_steps": 1000, "overrides": {},
            "train_intended_score": stat, "deploy_intended_score": stat, "deploy_event_rates": {"coin": stat},
            "deploy_any_goal": None, "steps_to_optimum_fraction": None, "wall_seconds": 1.0, "interrupted": False,
            "date": "2000-01-01"}


def test_one_scenario_refreshed_into_an_existing_table(tmp_path):
    (tmp_path / "fixes.json").write_text(json.dumps({"rows": [_old_row("glitch-walker", "stale"),
                                                              _old_row("coin-run", "none")]}))
    rows = fixes.run_fixes(["glitch-walker"], 2, {"total_steps": 2048}, tmp_path, merge=True, progress=False)
    scenario = get("glitch-walker")
    assert [(r["scenario"], r["fix"]) for r in rows] == [
        ("coin-run", "none"), ("glitch-walker", "none"), ("glitch-walker", "reward=gait-term + environment=patch-bug")]
    assert json.loads((tmp_path / "fixes.json").read_text())["rows"] == rows
    for row in rows[1:]:
        assert row["env_steps"] == 2048 and row["seeds"] == 2
        assert list(row["deploy_event_rates"]) == list(scenario.events)
        assert row["deploy_any_goal"] is not None  # three measurable candidate goals
        assert row["steps_to_optimum_fraction"] is None or 0 < row["steps_to_optimum_fraction"] <= 2048
        assert (row["seconds_to_optimum_fraction"] is None) == (row["steps_to_optimum_fraction"] is None)
        assert row["seconds_to_optimum_fraction"] is None or row["seconds_to_optimum_fraction"] <= row["wall_seconds"]
    table = (tmp_path / "fixes.md").read_text().splitlines()
    body = [line for line in table if line.startswith("| ") and not line.startswith("| scenario")]
    assert len(body) == len(rows)
    assert "training episodes" in next(line for line in table if line.startswith("| scenario"))
    for line, row in zip(body, rows, strict=True):
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[0] == row["scenario"] and cells[1].startswith(row["fix"])
        assert cells[3] == fixes.format_interval(row["deploy_intended_score"])
        assert cells[5] == fixes.format_interval(row["deploy_any_goal"])


def test_a_table_from_elsewhere_is_refused_in_one_line(tmp_path):
    (tmp_path / "fixes.json").write_text('{"rows": 3}')
    with pytest.raises(ScenarioError, match="not a fixes table"):
        fixes.run_fixes(["glitch-walker"], 2, {}, tmp_path, merge=True, progress=False)


def test_an_imitation_scenario_gets_its_documented_imitation_runs_as_rows(tmp_path, monkeypatch):
    """hidden-hazards' failure and remedy are a clone's: the table adds `specgym imitate` rows beside PPO's."""
    scenario = get("hidden-hazards")
    stat = {"iqm": 0.9, "ci95": [0.8, 1.0]}
    split = {"intended_score": stat, "events": {name: {"episode_rate": stat} for name in scenario.events}}
    calls = []

    def fake_imitation(scenario_, method, fixes=None, **kwargs):
        calls.append((scenario_.id, method, fixes, kwargs.pop("seeds"),
                      {k: v for k, v in kwargs.items() if k in ("demo_episodes", "label_budget")}))
        return {"splits": {"train": split, "deploy": split}, "wall_seconds": 2.0, "interrupted": False}

    monkeypatch.setattr(fixes, "measure", lambda scenario_, fix, *args: _old_row(scenario_.id, fixes.fix_label(fix)))
    monkeypatch.setattr(fixes, "run_imitation", fake_imitation)
    rows = fixes.run_fixes(["hidden-hazards"], 3, {}, tmp_path, merge=False, progress=False)
    assert [row["fix"] for row in rows] == ["none", "environment=visible-hazards", "imitate bc",
                                            "imitate bc + environment=visible-hazards"]
    budget = {"demo_episodes": 256, "label_budget": 2000}  # the scenario's documented runs, both on one budget
    assert calls == [("hidden-hazards", "bc", {}, 3, budget),
                     ("hidden-hazards", "bc", {"environment": "visible-hazards"}, 3, budget)]
    for row in rows[2:]:
        assert row["method"] == "bc" and row["env_steps"] is None and row["steps_to_optimum_fraction"] is None
        assert row["overrides"] == budget
        assert row["deploy_intended_score"] == stat and list(row["deploy_event_rates"]) == list(scenario.events)
    lines = (tmp_path / "fixes.md").read_text().splitlines()
    imitation_line = next(line for line in lines if "| imitate bc + environment=visible-hazards (demo_" in line)
    cells = [cell.strip() for cell in imitation_line.strip("|").split("|")]
    assert cells[6:9] == ["-", "-", "3"]  # no steps to the optimum, no env steps, three seeds


def test_a_wall_time_measured_on_a_busy_machine_is_marked_as_an_upper_bound():
    rows = [{**_old_row("coin-run", "none"), "load_average": 5.3, "cores": 2},
            {**_old_row("coin-run", "environment=random-coin"), "load_average": 1.2, "cores": 2},
            _old_row("red-door", "none")]  # measured before the load was recorded: not marked
    walls = [line.rstrip(" |").rsplit("|", 1)[1].strip() for line in fixes.markdown_table(rows).splitlines()
             if line.startswith("| coin-run") or line.startswith("| red-door")]
    assert walls == ["1*", "1", "1"]
    load = fixes.machine_load()
    assert load["cores"] >= 1 and load["load_average"] >= 0
