"""The labs in notebooks/: each is stored small, installs specgym only when it is missing, ends with review
questions and their answers in a collapsed block, and runs top to bottom in a Jupyter kernel.

The run uses the budget the notebooks read from ``SPECGYM_NOTEBOOK_BUDGET``: ``test`` (tiny: it checks that every
cell runs, not what the numbers are) unless the variable is already set (``make labs`` sets ``full``). A failing
cell fails the test with the cell's traceback.
"""

import importlib.util
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MAX_BYTES = 1_000_000
TEST_BUDGET_JAX = {
    # Nearly all of a lab's time at the test budget is compiling: the kernel compiles as the suite does (conftest's
    # XLA_FLAGS, and a training this short compiles quickly: compile_options.for_training), for one host device
    # (every cell still runs; the seeds are simply not sharded). Lab 02 took 72 CPU-s so against 103 with XLA's
    # optimisations disabled, which compile little faster and run the exact solvers and evaluations much slower.
    "XLA_FLAGS": f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=1".strip(),
}


def test_there_are_at_least_five_labs():
    assert len(NOTEBOOKS) >= 5, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_lab_is_small_valid_and_ends_with_review_questions(path):
    assert path.stat().st_size < MAX_BYTES, f"{path.name}: {path.stat().st_size:,} bytes stored"
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert 'find_spec("specgym") is None' in first_code.source, "the first code cell installs specgym only if missing"
    questions, answers = notebook.cells[-2], notebook.cells[-1]
    assert questions.cell_type == answers.cell_type == "markdown"
    assert questions.source.startswith("## Review questions")
    asked = re.findall(r"^\d+\. ", questions.source, flags=re.M)
    answered = re.findall(r"^\d+\. ", answers.source, flags=re.M)
    assert 3 <= len(asked) <= 5 and len(answered) == len(asked)
    assert answers.source.startswith("<details>") and answers.source.rstrip().endswith("</details>")


def first_code_cell(path: Path) -> str:
    return next(cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code").source


def test_every_lab_installs_specgym_the_same_way():
    cells = {path.name: first_code_cell(path) for path in NOTEBOOKS}
    assert len(set(cells.values())) == 1, f"the first code cells differ: {sorted(cells)}"


def set_up_without_specgym(monkeypatch, tmp_path, source, pip):
    """Run the labs' first cell as on a fresh machine (specgym not importable, no checkout around) with a fake pip."""
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "specgym" else real_find_spec(name, *a))
    monkeypatch.setattr(subprocess, "run", pip)
    monkeypatch.chdir(tmp_path)
    if source is None:
        monkeypatch.delenv("SPECGYM_SOURCE", raising=False)
    else:
        monkeypatch.setenv("SPECGYM_SOURCE", source)
    exec(compile(first_code_cell(NOTEBOOKS[0]), "set-up", "exec"), {})


def one_sentence(error: Any) -> str:
    lines = error._render_traceback_()  # what the notebook shows instead of a traceback
    assert len(lines) == 1 and type(error).__name__ == "SetupError", lines
    return lines[0]


def test_set_up_without_a_source_says_what_to_do_in_one_sentence(monkeypatch, tmp_path):
    def pip(*args, **kwargs):
        raise AssertionError("nothing to install from, yet pip ran")

    with pytest.raises(Exception) as raised:
        set_up_without_specgym(monkeypatch, tmp_path, None, pip)
    assert "SPECGYM_SOURCE" in one_sentence(raised.value) and "not on PyPI" in one_sentence(raised.value)


def test_set_up_reports_a_failed_install_in_one_sentence(monkeypatch, tmp_path):
    calls = []

    def pip(command, **kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(command, 1, "", "Collecting x\nERROR: Invalid requirement: 'nowhere'\n")

    with pytest.raises(Exception) as raised:
        set_up_without_specgym(monkeypatch, tmp_path, "nowhere", pip)
    assert calls and calls[0][-1] == "nowhere"
    assert one_sentence(raised.value).endswith("ERROR: Invalid requirement: 'nowhere'")


def test_labs_use_the_python_api_not_the_command_line():
    for path in NOTEBOOKS:
        code = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")
        assert "specgym.cli" not in code, f"{path.name} runs the specgym command instead of calling specgym"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_lab_runs_top_to_bottom(path, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    budget = os.environ.get("SPECGYM_NOTEBOOK_BUDGET", "test")
    monkeypatch.setenv("SPECGYM_NOTEBOOK_BUDGET", budget)
    if budget == "test":
        for name, value in TEST_BUDGET_JAX.items():
            monkeypatch.setenv(name, value)
    notebook = nbformat.read(path, as_version=4)
    # the kernel runs in a scratch folder, so the run directories the lab writes land there
    NotebookClient(notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])
              if output.get("output_type") == "error"]
    assert not errors
