"""The command line: listing, clear one-line errors, JSON shape, determinism."""

import json
import os
import subprocess
import sys

import pytest

from cli_run import run_cli

TINY = ["--seeds", "2", "--set", "total_steps=4096", "--eval-episodes", "8", "--no-pictures"]


def test_list_names_every_scenario(capsys):
    code, out, _ = run_cli(["list"], capsys)
    assert code == 0
    for sid in ("boat-race", "tomato-watering", "coin-run"):
        assert sid in out


@pytest.mark.parametrize("args, needle", [
    (["run", "no-such-scenario"], "unknown scenario 'no-such-scenario'; valid: "),
    (["sweep", "boat-race", "--set", "max_steps=50,-4"], "bad value -4 for setting 'max_steps'"),
    (["sweep", "boat-race", "--set", "max_steps="], "--set takes name=value"),
    (["run", "boat-race", "--fix", "reward=nope"], "valid: potential-shaping, laps"),
    (["run", "boat-race", "--fix", "weather=sunny"], "unknown lever"),
    (["run", "boat-race", "--set", "colour=3"], "unknown setting 'colour'"),
    (["run", "boat-race", "--set", "num_envs=3", "--set", "num_steps=5"], "num_minibatches (8) must divide"),
    (["run", "boat-race", "--set", "lr=-1"], "lr must be a number above 0"),
    (["run", "boat-race", "--set", "gamma=1.5"], "gamma must be a number in [0, 1]"),
    (["run", "boat-race", "--set", "update_epochs=0"], "update_epochs must be a positive integer"),
    (["run", "boat-race", "--set", "hidden=0"], "hidden must be one or more positive layer sizes"),
    (["run", "boat-race", "--set", "max_steps=-4"], "bad value -4 for setting 'max_steps'"),
    (["run", "coin-run", "--set", "random_percent=2"], "bad value 2"),
    (["run", "boat-race", "--set", "max_steps"], "--set takes name=value"),
    (["run", "boat-race", "--seeds", "zero"], "'zero' is not a valid integer"),
    (["run", "boat-race", "--out", "/proc/forbidden/runs"], "cannot write the run directory"),
    (["run", "my_missing_module:thing"], "cannot import 'my_missing_module'"),
])
def test_user_errors_are_one_line_and_exit_2(args, needle, capsys):
    code, out, err = run_cli(args, capsys)
    assert code == 2
    assert needle in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_sweep_runs_every_combination_and_reports_rows(tmp_path, capsys):
    args = ["sweep", "boat-race", "--json", "--out", str(tmp_path), "--seeds", "2", "--eval-episodes", "4",
            "--set", "total_steps=2048,4096", "--set", "max_steps=20,30"]
    code, out, _ = run_cli(args, capsys)
    assert code == 0
    result = json.loads(out)
    combos = [(r["settings"]["total_steps"], r["settings"]["max_steps"]) for r in result["rows"]]
    assert combos == [(2048, 20), (2048, 30), (4096, 20), (4096, 30)]
    for row in result["rows"]:
        summary = json.loads((tmp_path / row["run_dir"] / "summary.json").read_text())
        assert summary["settings"]["max_steps"] == row["settings"]["max_steps"]
        assert summary["env_steps"] == row["settings"]["total_steps"]
        assert row["splits"]["deploy"]["intended_score"] == summary["splits"]["deploy"]["intended_score"]
        assert set(row["splits"]["deploy"]["event_rates"]) == {"tile_entries", "laps", "clockwise"}
    assert (tmp_path / result["sweep_dir"] / "sweep.json").exists()


def test_sweep_checks_every_value_before_training(tmp_path, capsys):
    code, _, err = run_cli(["sweep", "boat-race", "--out", str(tmp_path), "--set", "max_steps=50,0"], capsys)
    assert code == 2 and "bad value 0" in err
    assert not any(tmp_path.iterdir())  # nothing was trained or written


def test_json_summary_shape_and_same_seed_same_summary(tmp_path, capsys):
    args = ["run", "boat-race", "--json", "--out", str(tmp_path), *TINY]
    code, out, _ = run_cli(args, capsys)
    assert code == 0
    first = json.loads(out)
    for key in ("scenario", "seeds", "env_steps", "wall_seconds", "compile_seconds", "fixes", "settings",
                "available_fixes", "splits", "run_dir"):
        assert key in first
    assert first["available_fixes"]["reward"][0] == "potential-shaping"
    train = first["splits"]["train"]
    for key in ("specified_score", "intended_score", "specified_return", "intended_return"):
        assert set(train[key]) == {"iqm", "ci95", "per_seed"} and len(train[key]["per_seed"]) == 2
    assert {"tile_entries", "laps"} <= set(train["events"])
    run_dir = tmp_path / os.path.basename(first["run_dir"])
    assert (run_dir / "config.json").exists() and (run_dir / "summary.json").exists()
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 2 * (4096 // (64 * 32))

    code, out, _ = run_cli(args, capsys)
    second = json.loads(out)
    for volatile in ("wall_seconds", "compile_seconds", "training_clock", "run_dir"):
        first.pop(volatile), second.pop(volatile)
    assert first == second


def test_run_writes_pictures(tmp_path, capsys):
    code, out, _ = run_cli(["run", "coin-run", "--json", "--out", str(tmp_path), *TINY[:-1]], capsys)
    assert code == 0
    run_dir = tmp_path / os.path.basename(json.loads(out)["run_dir"])
    from PIL import Image

    for name in ("train.gif", "deploy.gif"):
        gif = Image.open(run_dir / name)
        assert gif.n_frames >= 2 and gif.size[0] >= 200
    assert Image.open(run_dir / "curves.png").size[0] > 400


def test_console_script_installed():
    bin_dir = os.path.dirname(sys.executable)
    result = subprocess.run([os.path.join(bin_dir, "specgym"), "list"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "coin-run" in result.stdout


def test_ctrl_c_keeps_what_was_produced(tmp_path):
    """SIGINT mid-training: exit 130, metrics so far kept, partial policy evaluated and summarised."""
    import signal
    import time

    bin_dir = os.path.dirname(sys.executable)
    proc = subprocess.Popen([os.path.join(bin_dir, "specgym"), "run", "boat-race", "--seeds", "2", "--out", str(tmp_path),
                             "--set", "total_steps=50000000", "--eval-episodes", "8", "--no-pictures"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    metrics = None
    while time.time() < deadline:
        found = list(tmp_path.glob("*/metrics.jsonl"))
        if found and found[0].stat().st_size > 0:
            metrics = found[0]
            break
        time.sleep(0.5)
    assert metrics is not None, "training never started"
    proc.send_signal(signal.SIGINT)
    # after the interrupt the partial policy is still evaluated (exact references, compiles): give a busy CPU time
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert "INTERRUPTED" in out
    summary = json.loads((metrics.parent / "summary.json").read_text())
    assert summary["interrupted"] is True and 0 < summary["env_steps"] < 50_000_000
    assert len(metrics.read_text().splitlines()) >= 2


def test_custom_scenario_example_from_the_docs_runs(tmp_path, capsys, monkeypatch):
    """The worked example in docs/custom-scenario.md runs as written, by module:attribute."""
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "custom-scenario.md").read_text()
    code_block = doc.split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "my_scenarios.py").write_text(code_block)
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, err = run_cli(["run", "my_scenarios:long_race", "--fix", "reward=double-tiles", "--json",
                              "--out", str(tmp_path / "runs"), *TINY], capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["scenario"] == "long-race" and summary["fixes"]["reward"] == "double-tiles"
    assert summary["settings"]["max_steps"] == 200
    assert summary["specified_reward"].startswith("6 * tile_entries")


def test_goodhart_command_is_wired(tmp_path, capsys):
    code, out, err = run_cli(["goodhart", "outcome-pump", "--max-n", "10", "--repeats", "20", "--json",
                              "--out", str(tmp_path)], capsys)
    assert code == 0, err
    assert "extremal" in json.loads(out)["variants"]
    code, _, err = run_cli(["goodhart", "no-such-scenario"], capsys)
    assert code == 2 and "Traceback" not in err
