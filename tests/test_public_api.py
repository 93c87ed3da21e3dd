"""The public API: every name of specgym.__all__ resolves, and the heavy ones load only when first used."""

import inspect
import subprocess
import sys

import pytest

import specgym

LAZY_MODULES = ("specgym.run", "specgym.scoring", "specgym.diagnose.diagnosis", "specgym.runners.rlhf",
                "specgym.seq.steps")


LAZY_NAMES = ("run_scenario", "evaluate", "diagnose_scenario", "DiagnoseConfig", "rlhf_scenario", "run_seq_step")


@pytest.mark.parametrize("name", specgym.__all__)
def test_every_public_name_resolves(name):
    assert getattr(specgym, name) is not None and name in dir(specgym)


@pytest.mark.parametrize("name", [n for n in specgym.__all__ if inspect.isfunction(getattr(specgym, n))
                                  or inspect.isclass(getattr(specgym, n))])
def test_every_public_function_and_class_says_what_it_is_for(name):
    obj = getattr(specgym, name)
    doc = inspect.getdoc(obj) or ""
    generated = inspect.isclass(obj) and doc.startswith(f"{obj.__name__}(")  # a dataclass's signature, not a doc
    assert doc.strip() and not generated, f"specgym.{name} has no docstring"


@pytest.mark.parametrize("name", LAZY_NAMES)
def test_the_lazily_loaded_names_are_public_and_documented(name):
    assert name in specgym.__all__ and getattr(specgym, name).__doc__, f"specgym.{name}"


def test_import_specgym_leaves_the_training_and_diagnosis_modules_unloaded():
    code = f"import sys, specgym; print([m for m in {LAZY_MODULES!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'diagnose_scenarios'"):
        specgym.diagnose_scenarios  # noqa: B018


def test_an_unknown_seq_step_lists_the_valid_ones(tmp_path):
    with pytest.raises(specgym.ScenarioError, match="unknown seq step 'overoptimisation'; valid: pretrain, sft"):
        specgym.run_seq_step("overoptimisation", out_root=tmp_path)
    assert not any(tmp_path.iterdir()), "nothing is written for a step that does not exist"


def test_a_bad_label_budget_is_one_clear_error(tmp_path):
    with pytest.raises(specgym.ScenarioError, match="label budgets must be positive integers"):
        specgym.rlhf_scenario("glitch-walker", labels=(0, 25), out_root=tmp_path)
