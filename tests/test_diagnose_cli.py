"""``specgym diagnose``: one-line errors, and the JSON document's shape on a tiny budget."""

import json
from pathlib import Path

import numpy as np
import pytest

from specgym.cli import main
from specgym.diagnose.combinations import canonical_fixes, coalition_label
from specgym.diagnose.diagnosis import DiagnoseConfig, format_diagnosis, reproduce_command
from specgym.scenarios import get
from tiny_diagnosis import TINY, tiny_diagnosis


@pytest.mark.parametrize("args, needle", [
    (["diagnose", "no-such-scenario"], "unknown scenario 'no-such-scenario'"),
    (["diagnose", "coin-run", "--widths", "8,x"], "--widths takes comma-separated positive integers"),
    (["diagnose", "coin-run", "--widths", "0"], "--widths takes positive integers"),
    (["diagnose", "coin-run", "--seeds", "1"], "1 is not in the range 2<=x<=4096"),
    (["diagnose", "coin-run", "--set", "colour=3"], "unknown setting 'colour'"),
    (["diagnose", "coin-run", "--only", "magic"], "'magic' is not one of"),
    (["diagnose", "coin-run", "--fit-levels", "0"], "0 is not in the range 1<=x<=4096"),
    (["diagnose", "coin-run", "--behaviour-episodes", "1"], "1 is not in the range 2<=x<=100000"),
])
def test_user_errors_are_one_line(args, needle, capsys, tmp_path):
    code = main(args + ["--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


def test_canonical_fixes_and_noop_levers():
    assert canonical_fixes(get("coin-run")) == {"reward": None, "environment": "random-coin", "algorithm": None}
    assert canonical_fixes(get("boat-race"))["reward"] == "potential-shaping"  # the first fix of the lever
    assert coalition_label(frozenset({"algorithm", "reward"})) == "reward+algorithm"
    command = reproduce_command("coin-run", {"total_steps": 2048}, DiagnoseConfig(seeds=2, widths=()))
    assert command.startswith("specgym diagnose coin-run --seeds 2") and "--set total_steps=2048" in command
    assert "--reference" not in command  # the default
    assert reproduce_command("coin-run", {}, DiagnoseConfig(reference="rl")).endswith("--reference rl")
    evidence = DiagnoseConfig(behaviour_episodes=512, fit_levels=4)
    assert reproduce_command("coin-run", {}, evidence).endswith("--behaviour-episodes 512 --fit-levels 4")


def test_json_has_the_documented_keys_and_noop_levers_share_training():
    result = tiny_diagnosis()  # `specgym diagnose coin-run --json --only attribution` on a tiny budget
    att = result["attribution"]
    for lever in ("reward", "environment", "algorithm"):
        low, high = att[lever]["ci95"]  # the documented path attribution.<lever>.shapley / .ci95
        assert low <= att[lever]["shapley"] <= high
        assert att[lever] == att["levers"][lever]
    # coin-run documents only an environment fix: the other two levers are exact no-ops
    assert result["noop_levers"] == ["reward", "algorithm"]
    assert att["levers"]["reward"]["shapley"] == 0.0 and att["levers"]["algorithm"]["shapley"] == 0.0
    for lever in ("reward", "algorithm"):  # no fix: the field says why instead of holding nothing
        assert att[lever]["fix"] == {"applies": False, "why": f"no documented fix on the {lever} lever: fixing it "
                                     "changes nothing, so its Shapley value is 0 by construction"}
        assert f"does not apply: {att[lever]['fix']['why']}" in format_diagnosis(result)
    trained = [r for r in result["combinations"] if r["shared_with"] is None]
    assert sorted(r["fixed"] for r in trained) == ["environment", "none"]
    assert att["levers"]["environment"]["shapley"] == pytest.approx(att["total"]["mean"])
    saved = json.loads((Path(result["directory"]) / "diagnosis.json").read_text())
    assert saved["attribution"]["verdict"] == att["verdict"]
    assert saved["command"].startswith("specgym diagnose coin-run --seeds 2") and "--only attribution" in saved["command"]


@pytest.mark.slow
def test_every_part_on_a_tiny_budget(capsys, tmp_path):
    code = main(["diagnose", "red-door", "--json", "--widths", "8", "--out", str(tmp_path), "--no-pictures",
                 "--behaviour-episodes", "8", "--fit-levels", "1", *TINY])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["behaviour"]["verdict"] in ("intended", "single wrong goal", "mixture", "inconclusive")
    assert set(result["behaviour"]["candidates"]) == {"door", "red"}
    shares = [c["mixture_share"] for c in result["behaviour"]["candidates"].values()]
    assert sum(shares) == pytest.approx(1.0, abs=1e-5)
    assert "auroc" in result["detector"] and len(result["detector"]["policies"]) == 2 * 2  # 2 trained combos
    detector = result["detector"]  # red-door pays for what it means: no policy can hack, so no AUROC
    assert detector["applies"] is False and "no policy can hack it" in detector["why"]
    assert detector["auroc"] == {"applies": False, "why": detector["why"]}
    evidence = result["behaviour"]["evidence"]
    assert evidence["heldout_episodes"] == 2 * 8 // 2 and len(evidence["fit_levels"]) == 1
    reference = result["detector"]["reference"]
    assert reference["kind"] == "demos" and reference["episodes"] == 32
    assert len(reference["intended_score"]["per_seed"]) == 2 and np.isfinite(reference["intended_score"]["iqm"])
    assert [p["pressure"] for p in result["goodhart"]["curves"]["width"]] == [8, 64]
    assert result["goodhart"]["curves"]["steps"][-1]["pressure"] == 1024
