"""The labs in notebooks/: each is stored small, installs specgym only when it is missing, ends with review
questions and their answers in a collapsed block, and runs top to bottom in a Jupyter kernel.

The run uses the budget the notebooks read from ``SPECGYM_NOTEBOOK_BUDGET``: ``test`` (tiny: it checks that every
cell runs, not what the numbers are) unless the variable is already set (``make labs`` sets ``full``). A failing
cell fails the test with the cell's traceback.
"""

import os
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MAX_BYTES = 1_000_000


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


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_lab_runs_top_to_bottom(path, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("SPECGYM_NOTEBOOK_BUDGET", os.environ.get("SPECGYM_NOTEBOOK_BUDGET", "test"))
    notebook = nbformat.read(path, as_version=4)
    # the kernel runs in a scratch folder, so the run directories the lab writes land there
    NotebookClient(notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])
              if output.get("output_type") == "error"]
    assert not errors
