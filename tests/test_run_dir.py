"""The run-directory writer: strict JSON, atomic files, complete metrics lines, checkpoints, clear errors."""

import json
import math
import os
import stat

import numpy as np
import pytest

from specgym.errors import ScenarioError
from specgym.results import check_run_summary, read_run_summary
from specgym.run_dir import RunDir, dumps, jsonable, write_file_atomically


def strict_loads(text: str):
    """json.loads that refuses the non-standard tokens NaN / Infinity (what other JSON readers do)."""
    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")
    return json.loads(text, parse_constant=refuse)


def test_encoding_rules():
    value = {"f32": np.float32(0.5), "i64": np.int64(7), "flag": np.bool_(True), "array": np.arange(3),
             "tuple": (1, (2, 3)), "nan": float("nan"), "inf": np.float64("inf"), "neg": -math.inf,
             "nested": [{"x": np.array([1.5, np.nan])}], 3: "int key"}
    expected = {"f32": 0.5, "i64": 7, "flag": True, "array": [0, 1, 2], "tuple": [1, [2, 3]], "nan": None,
                "inf": None, "neg": None, "nested": [{"x": [1.5, None]}], "3": "int key"}
    assert jsonable(value) == expected
    assert strict_loads(dumps(value)) == expected
    assert type(jsonable(np.int64(7))) is int and type(jsonable(np.bool_(False))) is bool


def test_write_json_is_strict_and_atomic(tmp_path, monkeypatch):
    run = RunDir(tmp_path)
    run.write_json("summary.json", {"score": float("inf"), "values": np.array([1.0, np.nan])})
    assert strict_loads((tmp_path / "summary.json").read_text()) == {"score": None, "values": [1.0, None]}

    def crash(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(ScenarioError, match="cannot write .*summary.json.*No space left"):
        run.write_json("summary.json", {"score": 2})
    # the old file is intact and no temporary file is left behind
    assert strict_loads((tmp_path / "summary.json").read_text())["score"] is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_create_names_and_errors(tmp_path):
    first = RunDir.create(tmp_path / "runs", "my_module:scenario/x")
    second = RunDir.create(tmp_path / "runs", "my_module:scenario/x")
    assert first.path.parent == tmp_path / "runs" and first.path.is_dir() and second.path.is_dir()
    assert first.path.name.startswith("my_module_scenario_x-") and second.path.name == first.path.name + "-1"
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for root in (blocker, blocker / "sub"):
        with pytest.raises(ScenarioError, match="cannot write the run directory under"):
            RunDir.create(root, "boat-race")


def test_special_files_are_never_replaced(tmp_path):
    with pytest.raises(ScenarioError, match="not a regular file"):
        write_file_atomically("/dev/full", "x")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    with pytest.raises(ScenarioError, match="not a regular file"):
        write_file_atomically(tmp_path, "x")


def test_metrics_lines_are_complete_json(tmp_path):
    run = RunDir(tmp_path)
    with run.metrics() as log:
        log.append({"update": 1, "loss": np.float32(0.25)})
        log.flush()
        assert (tmp_path / "metrics.jsonl").read_text() == '{"update": 1, "loss": 0.25}\n'
        log.append({"update": 2, "loss": float("nan")})
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [strict_loads(line) for line in lines] == [{"update": 1, "loss": 0.25}, {"update": 2, "loss": None}]


def test_checkpoints_round_trip(tmp_path):
    run = RunDir(tmp_path)
    arrays = {"weights": np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32), "step": np.int64(12)}
    run.save_arrays("checkpoint.npz", arrays)
    back = run.load_arrays("checkpoint.npz")
    assert set(back) == {"weights", "step"}
    np.testing.assert_array_equal(back["weights"], arrays["weights"])
    assert back["weights"].dtype == np.float32 and int(back["step"]) == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.npz"]


def _stat(x):
    return {"iqm": x, "ci95": [x, x], "per_seed": [x]}


def valid_summary():
    split = {k: _stat(0.5) for k in ("specified_return", "intended_return", "specified_score", "intended_score")}
    split["events"] = {"laps": {"per_episode": _stat(1.0), "episode_rate": _stat(None)}}
    return {"scenario": "boat-race", "seeds": 2, "seed": 0, "env_steps": 8192, "wall_seconds": 1.0,
            "compile_seconds": None, "interrupted": False, "fixes": {"reward": None, "environment": "x"},
            "settings": {"lr": 0.001}, "available_fixes": {}, "specified_reward": "a", "intended_reward": "b",
            "events_shown": ["laps"], "splits": {"train": split, "deploy": split}, "run_dir": "runs/x"}


@pytest.mark.parametrize("change, named", [
    ({"splits": []}, "splits"),
    ({"splits": {}}, "splits"),
    ({"fixes": "reward"}, "fixes"),
    ({"fixes": {"reward": 3}}, "fixes"),
    ({"settings": [1]}, "settings"),
    ({"scenario": 123}, "scenario"),
    ({"seeds": "8"}, "seeds"),
    ({"seeds": True}, "seeds"),
    ({"interrupted": "no"}, "interrupted"),
    ({"events_shown": [1]}, "events_shown"),
])
def test_malformed_summaries_name_the_field(tmp_path, change, named):
    assert check_run_summary(valid_summary()) == valid_summary()  # the reference document passes
    path = tmp_path / "summary.json"
    path.write_text(json.dumps({**valid_summary(), **change}))
    with pytest.raises(ScenarioError, match=f"summary.json' is malformed: {named} must be"):
        read_run_summary(path)


@pytest.mark.parametrize("ci95", ["wide", [0.1], [0.1, "x"], None, [0.1, 0.2, 0.3]])
def test_malformed_intervals_are_refused(tmp_path, ci95):
    doc = valid_summary()
    doc["splits"]["deploy"] = json.loads(json.dumps(doc["splits"]["deploy"]))
    doc["splits"]["deploy"]["intended_score"]["ci95"] = ci95
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ScenarioError, match=r"summary.json.*splits\.deploy\.intended_score\.ci95"):
        read_run_summary(path)


def test_missing_field_and_bad_bytes_are_one_line(tmp_path):
    path = tmp_path / "summary.json"
    doc = valid_summary()
    del doc["splits"]
    path.write_text(json.dumps(doc))
    with pytest.raises(ScenarioError, match="'splits' is missing"):
        read_run_summary(path)
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ScenarioError, match="not UTF-8"):
        read_run_summary(path)
    path.write_text("{")
    with pytest.raises(ScenarioError, match="not valid JSON"):
        read_run_summary(path)
