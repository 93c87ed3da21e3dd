"""bench/diagnoses.py: its refusals are one line, and a stored case renders what the docs quote."""

import json

import pytest
from bench import diagnoses

from specgym.errors import ScenarioError


def test_a_table_from_elsewhere_and_an_unknown_case_are_refused_in_one_line(tmp_path, capsys):
    path = tmp_path / "diagnoses.json"
    path.write_text('{"cases": [1]}')
    with pytest.raises(ScenarioError, match="not a table written by bench.diagnoses"):
        diagnoses.read_rows(path)
    with pytest.raises(ScenarioError, match="run python -m bench.diagnoses --only nothing"):
        diagnoses.rendered("diagnosis:nothing", {}, None)
    with pytest.raises(SystemExit, match="unknown case 'nope'; valid: glitch-walker"):
        diagnoses.main(["--only", "nope"])


def test_a_case_renders_its_verdict_evidence_and_what_does_not_apply():
    marker = {"applies": False, "why": "no policy can hack it"}
    gain = {"value": 0.9, "ci95": [0.85, 0.95]}
    candidate = {"intended": False, "achieved_share": {"iqm": 0.8, "ci95": [0.7, 0.9]},
                 "single_fit": {"heldout_gain": gain}, "mixture_weight": 0.9}
    behaviour = {"applies": True, "label": "single wrong goal: red", "reason": "because", "candidates":
                 {"red": candidate}, "mixture": {"heldout_gain": gain}, "support": 0.99, "support_of": "red",
                 "rule": {"samples": 2000}, "summary": ["x"],
                 "evidence": {"heldout_episodes": 1024, "heldout_steps": 3000, "fit_levels": [1, 2], "levels": 9,
                              "seeds": 8}}
    row = {"case": "red-door", "parts": ["behaviour", "detector"], "date": "2026-12-07", "cpu_count": 2,
           "load_average_before": [1.0, 1.0, 1.0],
           "result": {"command": "specgym diagnose red-door", "wall_seconds": 12.0, "behaviour": behaviour,
                      "detector": {**marker, "auroc": marker, "summary": []}}}
    text = diagnoses.markdown(json.loads(json.dumps(row)))
    assert "**single wrong goal: red** (because)" in text
    assert "| red | 0.80 [0.70, 0.90] | 0.900 [0.850, 0.950] | 0.90 |" in text
    assert "1,024 episodes (3,000 steps) on 2 of 9 deploy levels, 8 seeds" in text
    assert "Detector AUROC: does not apply: no policy can hack it." in text
