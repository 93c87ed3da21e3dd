"""The HTML report opens in a real headless Chromium: no console errors, every picture renders, a screenshot."""

import html
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cli_run import one_line_error
from specgym.cli import main
from specgym.errors import ScenarioError
from specgym.report.html import build_report, run_command
from specgym.run import run_scenario
from specgym.scenarios import get
from tiny_diagnosis import tiny_diagnosis

TINY = {"total_steps": 1024, "num_envs": 8, "num_steps": 16}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    summary = run_scenario(get("coin-run"), dict(TINY), {"environment": "random-coin"}, seeds=2,
                           out_root=tmp_path_factory.mktemp("runs"), eval_episodes=2, progress=False)
    return summary["run_dir"]


@pytest.fixture(scope="module")
def diagnosis_dir():
    return tiny_diagnosis()["directory"]


def _check_page(page, path, shot):
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => [i.alt, i.complete, i.naturalWidth])")
    assert widths, "the page shows no pictures"
    for alt, complete, width in widths:
        assert complete and width > 0, f"picture {alt!r} did not render"
    page.screenshot(path=str(shot), full_page=True)
    assert page.problems == []
    with Image.open(shot) as image:
        assert image.format == "PNG"
        assert image.width >= 600 and image.height >= 800
        assert len(np.unique(np.asarray(image.convert("L").resize((64, 64))))) > 8  # not a blank page
    return widths


def test_run_report_renders_offline(run_dir, browser_page, tmp_path):
    path = build_report(run_dir)
    text = path.read_text()
    assert "http://" not in text and "https://" not in text  # nothing to fetch
    assert not re.search(r'src="(?!data:)', text)  # every picture embedded
    alts = [w[0] for w in _check_page(browser_page, path, tmp_path / "run.png")]
    assert {"a training level", "a deployment level"} <= set(alts)
    config = json.loads((path.parent / "config.json").read_text())
    assert "--fix environment=random-coin" in text and "--set total_steps=1024" in text
    assert run_command(config) in text


def test_diagnosis_report_renders_offline(diagnosis_dir, browser_page, tmp_path):
    path = build_report(diagnosis_dir, tmp_path / "page.html")
    alts = [w[0] for w in _check_page(browser_page, path, tmp_path / "diagnosis.png")]
    assert any("Shapley" in a for a in alts)
    assert {"gamed, deploy", "fixed, deploy"} <= set(alts)
    result = json.loads((Path(diagnosis_dir) / "diagnosis.json").read_text())
    assert html.escape(result["attribution"]["verdict"]) in path.read_text()
    assert html.escape(result["command"]) in path.read_text()


def test_a_diagnosis_written_with_the_old_section_name_still_reports(diagnosis_dir, tmp_path):
    """Directories written before the section was spelled ``behaviour`` keep their verdict in the page."""
    old = tmp_path / "old-diagnosis"
    shutil.copytree(diagnosis_dir, old)
    result = json.loads((old / "diagnosis.json").read_text())
    share = {"iqm": 0.75, "ci95": [0.5, 1.0], "per_seed": [0.5, 1.0]}
    result["behavior"] = {"summary": ["single wrong goal: the right end"],
                          "candidates": {"coin": {"description": "the coin", "intended": True, "achieved_share": share}}}
    (old / "diagnosis.json").write_text(json.dumps(result))
    page = build_report(old, tmp_path / "page.html").read_text()
    assert "single wrong goal: the right end" in page and "the coin (intended)" in page


def test_parts_that_do_not_apply_show_why(diagnosis_dir, tmp_path):
    """A lever without a fix, a detector without a hacking class, a behaviour part without goals: the sentence."""
    copy = tmp_path / "not-applicable"
    shutil.copytree(diagnosis_dir, copy)
    result = json.loads((copy / "diagnosis.json").read_text())
    no_fix = result["attribution"]["levers"]["reward"]["fix"]
    marker = {"applies": False, "why": "every policy's proxy score equals its intended score"}
    result["detector"] = {**marker, "auroc": marker, "auroc_hellinger": marker, "policies": [],
                          "summary": [f"AUROC does not apply: {marker['why']}"]}
    result["behaviour"] = {"applies": False, "why": "no tabular model here", "verdict": "not measurable",
                           "candidates": {}, "summary": ["no tabular model here"]}
    result["goodhart"] = {"applies": False, "why": "fewer than two pressures", "summary": ["fewer than two pressures"]}
    (copy / "diagnosis.json").write_text(json.dumps(result))
    page = build_report(copy, tmp_path / "page.html").read_text()
    assert html.escape("does not apply: " + no_fix["why"]) in page
    assert html.escape("AUROC does not apply: " + marker["why"]) in page
    assert "does not apply: no tabular model here" in page and "does not apply: fewer than two pressures" in page
    result["behaviour"] = {"applies": False, "summary": []}  # a marker without its sentence is refused
    (copy / "diagnosis.json").write_text(json.dumps(result))
    with pytest.raises(ScenarioError, match="behaviour.why is missing"):
        build_report(copy, tmp_path / "page.html")


def test_a_behaviour_verdict_shows_each_gain_with_its_interval(diagnosis_dir, tmp_path):
    from specgym.diagnose.behaviour import judge
    from specgym.diagnose.verdict_text import summary_lines

    copy = tmp_path / "behaviour"
    shutil.copytree(diagnosis_dir, copy)
    rng = np.random.default_rng(0)
    steps = np.full(40, 10)
    chance = -steps * np.log(4)
    coin = chance + rng.normal(3.0, 1.0, 40)  # about 0.3 nats/step over chance, right end 0.05
    loglik = np.stack([coin, chance + rng.normal(0.5, 1.0, 40), coin - 0.1])  # the mixture 0.01 below coin
    behaviour = judge(["coin", "right_end"], [True, False], np.array([[1, 0], [0, 1], [0.99, 0.01]]),
                      np.ones(3), loglik, steps, np.arange(40) % 4, 4, samples=500)
    share = {"iqm": 0.5, "ci95": [0.4, 0.6], "per_seed": [0.5]}
    for name in behaviour["candidates"]:
        behaviour["candidates"][name].update(description=f"reach {name}", achieved_share=share)
    behaviour.update(split="deploy", evidence={"seeds": 4, "heldout_episodes": 40, "heldout_steps": 400,
                                               "fit_levels": [0, 1], "levels": 1024, "fit_episodes_per_seed": 20})
    behaviour["summary"] = summary_lines(behaviour)
    result = json.loads((copy / "diagnosis.json").read_text())
    result["behaviour"] = json.loads(json.dumps(behaviour))
    (copy / "diagnosis.json").write_text(json.dumps(result))
    page = build_report(copy, tmp_path / "page.html").read_text()
    assert behaviour["label"] == "intended: coin" and html.escape(behaviour["summary"][0]) in page
    for stat in [c["single_fit"]["heldout_gain"] for c in behaviour["candidates"].values()] + [
            behaviour["mixture"]["heldout_gain"]]:
        low, high = stat["ci95"]
        assert f"{stat['value']:.3f} [{low:.3f}, {high:.3f}]" in page
    assert html.escape(behaviour["summary"][-1]) in page  # the held-out evidence line


def test_report_errors_are_one_line(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "neither summary.json" in capsys.readouterr().err
    with pytest.raises(ScenarioError, match="not a directory"):
        build_report(tmp_path / "missing")


def _one_line_error(capsys, *args) -> str:
    return one_line_error(capsys, ["report", *map(str, args)])


def _set_ci95(doc):
    doc["splits"]["train"]["intended_score"]["ci95"] = [0.1]
    return doc


CORRUPTIONS = {  # name -> (file, new contents: bytes, or a function of the parsed document)
    "summary random bytes": ("summary.json", bytes(range(256))),
    "summary a list": ("summary.json", b"[1, 2]"),
    "summary a string": ("summary.json", b'"summary"'),
    "config random bytes": ("config.json", bytes(range(255, -1, -1))),
    "config a list": ("config.json", b"[]"),
    "config a string": ("config.json", b'"config"'),
    "splits empty": ("summary.json", lambda d: {**d, "splits": []}),
    "fixes a string": ("summary.json", lambda d: {**d, "fixes": "reward"}),
    "settings a list": ("config.json", lambda d: {**d, "settings": [1]}),
    "bad ci95": ("summary.json", _set_ci95),
    "scenario a number": ("summary.json", lambda d: {**d, "scenario": 123}),
    "config scenario a number": ("config.json", lambda d: {**d, "scenario": 123}),
    "diagnosis random bytes": ("diagnosis.json", bytes(range(128, 256))),
    "diagnosis a list": ("diagnosis.json", b"[]"),
    "diagnosis a string": ("diagnosis.json", b'"diagnosis"'),
    "diagnosis bad verdict": ("diagnosis.json", lambda d: {**d, "attribution": {"verdict": 3}}),
    "diagnosis bad rows": ("diagnosis.json", lambda d: {**d, "combinations": [{"fixed": "none"}]}),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_a_corrupted_directory_is_one_line(case, run_dir, diagnosis_dir, tmp_path, capsys):
    import shutil

    name, change = CORRUPTIONS[case]
    directory = tmp_path / "copy"
    shutil.copytree(diagnosis_dir if name == "diagnosis.json" else run_dir, directory)
    (directory / "report.html").unlink(missing_ok=True)  # a page an earlier test wrote
    path = directory / name
    if callable(change):
        path.write_text(json.dumps(change(json.loads(path.read_text()))))
    else:
        path.write_bytes(change)
    err = _one_line_error(capsys, directory)
    assert name in err
    assert not (directory / "report.html").exists()


def test_a_report_read_back_matches_the_table(run_dir):
    from specgym.report.tables import format_table
    from specgym.results import read_run_summary

    summary = read_run_summary(Path(run_dir) / "summary.json")
    assert format_table(summary).splitlines()[0].startswith("coin-run: 2 seeds x")
    assert set(summary["splits"]) == {"train", "deploy"}


@pytest.mark.parametrize("out", ["/proc/x/r.html", "{file}/r.html", "/dev/full"])
def test_an_unwritable_report_path_is_one_line(out, run_dir, tmp_path, capsys):
    a_file = tmp_path / "a-file"
    a_file.write_text("kept")
    err = _one_line_error(capsys, run_dir, "--out", out.format(file=a_file))
    assert "cannot write" in err
    assert a_file.read_text() == "kept"
