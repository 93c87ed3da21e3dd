"""The HTML report opens in a real headless Chromium: no console errors, every picture renders, a screenshot."""

import html
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from specgym.cli import main
from specgym.report.html import build_report, run_command
from specgym.run import run_scenario
from specgym.scenarios import get
from specgym.errors import ScenarioError
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


def test_report_errors_are_one_line(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "neither summary.json" in capsys.readouterr().err
    with pytest.raises(ScenarioError, match="not a directory"):
        build_report(tmp_path / "missing")
