"""The README's "Use your own agent" examples, run as written: the README cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from extras import need

README = Path(__file__).resolve().parent.parent / "README.md"


def examples() -> dict[str, str]:
    """The section's Python blocks, named by the first word of their opening comment."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Use your own agent", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    named = {block.split(":", 1)[0].lstrip("# ").split()[0]: block for block in blocks}
    assert set(named) == {"gymnax", "Gymnasium", "specgym.evaluate"}, named.keys()
    return named


def run_example(name: str) -> dict:
    namespace: dict = {"__name__": f"readme_{name}"}
    exec(compile(examples()[name], f"README.md ({name} example)", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("name", ["gymnax", "Gymnasium", "specgym.evaluate"])
def test_each_example_is_at_most_ten_lines_of_code(name):
    code = [line for line in examples()[name].splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert len(code) <= 12, code  # ten lines, and two continuation lines of long calls


def test_the_gymnasium_example():
    need("gymnasium")
    done = run_example("Gymnasium")
    assert done["frame"].ndim == 3 and done["envs"].num_envs == 64
    assert done["t"] == 99 and isinstance(done["intended"], float)  # boat-race runs to its time limit


def test_the_evaluate_example(capsys):
    done = run_example("specgym.evaluate")
    deploy = done["summary"]["splits"]["deploy"]
    assert abs(deploy["specified_score"]["iqm"]) < 0.2 and abs(deploy["intended_score"]["iqm"]) < 0.2
    assert "intended_score" in capsys.readouterr().out


@pytest.mark.slow
def test_the_gymnax_example_rejax_ppo_games_boat_race():
    """rejax, code nobody here wrote, trains PPO through the gymnax adapter and games the tile reward."""
    need("rejax")
    done = run_example("gymnax")
    assert done["deploy"]["specified_score"]["iqm"] >= 0.8
    assert done["deploy"]["intended_score"]["iqm"] <= 0.3
