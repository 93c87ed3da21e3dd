"""Bad inputs about run directories end in one line and exit 2, before any work and without leaving files.

Each case was a traceback, a silent wrong answer or a misleading exit before: an
unwritable ``detect --out`` found only after training, ``label ''`` serving the
current directory, an unreadable queue served as 0 pairs, an empty demonstrations
file reported as "interrupted", an overflowing budget leaving a directory that
held only ``config.json``.
"""

import json

import pytest

import specgym.diagnose.detector_catalogue as catalogue
import specgym.feedback.webapp as webapp
from cli_run import one_line_error


@pytest.fixture
def never_serve(monkeypatch):
    """A case that reached the web server would serve forever: make it fail the test instead."""
    def served(*args, **kwargs):
        raise AssertionError("the labelling server was started")
    monkeypatch.setattr(webapp, "make_server", served)


@pytest.mark.parametrize("out", ["/proc/x", "{file}/sub"])
def test_detect_checks_its_output_directory_before_training(out, tmp_path, capsys, monkeypatch):
    def trained(*args, **kwargs):
        raise AssertionError("training started before the output directory was checked")
    monkeypatch.setattr(catalogue, "detect_across", trained)
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    err = one_line_error(capsys, ["detect", "boat-race", "--out", out.format(file=a_file)])
    assert "cannot write" in err


def test_label_refuses_an_empty_run_directory(tmp_path, capsys, monkeypatch, never_serve):
    monkeypatch.chdir(tmp_path)
    assert "RUN_DIR is empty" in one_line_error(capsys, ["label", ""])
    assert list(tmp_path.iterdir()) == []  # no labels.sqlite in the current directory


def test_label_refuses_an_unreadable_queue(tmp_path, capsys, never_serve):
    (tmp_path / "queries.jsonl").write_bytes(bytes(range(256)) * 4)
    err = one_line_error(capsys, ["label", str(tmp_path)])
    assert "queries.jsonl" in err and "not one readable pair" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["queries.jsonl"]


def test_label_refuses_an_empty_database_url(tmp_path, capsys, never_serve):
    assert "--db is empty" in one_line_error(capsys, ["label", str(tmp_path), "--db", ""])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("labels", ["[1e309, \"x\"]", "[0]", "\"400\"", "[true]"])
def test_label_refuses_malformed_budgets(labels, tmp_path, capsys, never_serve):
    (tmp_path / "config.json").write_text(f'{{"rlhf": {{"labels": {labels}}}}}')
    err = one_line_error(capsys, ["label", str(tmp_path)])
    assert "label budgets" in err and "--budget" in err


def test_label_budget_is_read_from_the_config(tmp_path):
    from specgym.commands.label import planned_labels

    (tmp_path / "config.json").write_text(json.dumps({"rlhf": {"labels": [25, 100, 50]}}))
    assert planned_labels(tmp_path) == 100
    (tmp_path / "config.json").write_text(json.dumps({"scenario": "boat-race"}))  # not an RLHF run
    assert planned_labels(tmp_path) is None


def test_imitate_refuses_an_empty_demonstrations_file(tmp_path, capsys):
    empty = tmp_path / "demos.npz"
    empty.write_bytes(b"")
    err = one_line_error(capsys, ["imitate", "windy-ledge", "--demos", str(empty), "--out", str(tmp_path / "runs")])
    assert "not a specgym demonstrations file" in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_an_overflowing_budget_leaves_no_directory(tmp_path, capsys):
    out = tmp_path / "runs"
    err = one_line_error(capsys, ["run", "boat-race", "--set", "total_steps=" + "1234567890" * 4, "--out", str(out)])
    assert "total_steps" in err and "2147483647" in err
    assert not out.exists() or not any(out.iterdir())


def test_label_serves_a_queue_with_some_readable_pairs(tmp_path):
    from specgym.commands.label import check_queue

    good = json.dumps({"pair_id": "p0", "left": "c0", "right": "c1"})
    (tmp_path / "queries.jsonl").write_text(good + "\n{half a line\n")
    check_queue(tmp_path)  # one readable pair: served, the bad line reported when serving
    (tmp_path / "queries.jsonl").write_text("")
    check_queue(tmp_path)  # an empty queue is a loop that has not asked yet, not an error
