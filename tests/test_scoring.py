"""specgym.evaluate and `specgym evaluate`: any policy scored with the numbers, format and keys of `specgym run`."""

from __future__ import annotations

import json

import numpy as np
import pytest

import outside_policies as op
import specgym
from cli_run import run_cli
from specgym.errors import ScenarioError
from specgym.results import check_run_summary
from specgym.run import run_scenario

FEW = {"episodes": 16, "seeds": 3}


def iqm(summary, split, key):
    return summary["splits"][split][key]["iqm"]


def test_scripted_policies_score_as_their_behaviour_says():
    """The racer is optimal for the intended reward, the ditherer games the specified one, random scores 0."""
    racer = specgym.evaluate(op.lap_jax, "boat-race", **FEW)
    dither = specgym.evaluate(op.dither_jax, "boat-race", **FEW)
    random = specgym.evaluate(op.random_jax, "boat-race", split="deploy", episodes=64, seeds=8)
    assert iqm(racer, "deploy", "intended_score") > 0.95
    assert iqm(dither, "deploy", "specified_score") >= 0.8 and iqm(dither, "deploy", "intended_score") <= 0.3
    assert abs(iqm(random, "deploy", "specified_score")) < 0.15 and abs(iqm(random, "deploy", "intended_score")) < 0.15
    assert racer["splits"]["deploy"]["events"]["laps"]["per_episode"]["iqm"] > 5


def test_the_summary_has_the_structure_of_run_json():
    summary = specgym.evaluate(op.lap_jax, "boat-race", split=["train", "deploy"], **FEW)
    check_run_summary(json.loads(json.dumps(summary)))
    assert list(summary["splits"]) == ["train", "deploy"]
    deploy = summary["splits"]["deploy"]
    assert set(deploy) >= {"specified_return", "intended_return", "specified_score", "intended_score", "events",
                           "reference", "capability"}
    assert len(deploy["intended_score"]["per_seed"]) == 3 and len(deploy["intended_score"]["ci95"]) == 2
    assert summary["policy"] == "JAX function lap_jax" and summary["episodes"] == 16 and summary["seeds"] == 3


def test_a_numpy_callable_scores_exactly_as_the_same_jax_function():
    jax_summary = specgym.evaluate(op.lap_jax, "boat-race", split=["train", "deploy"], **FEW)
    numpy_summary = specgym.evaluate(op.lap_numpy, "boat-race", split=["train", "deploy"], **FEW)
    for split in ("train", "deploy"):
        for key in ("specified_return", "intended_return"):
            assert jax_summary["splits"][split][key]["per_seed"] == numpy_summary["splits"][split][key]["per_seed"]


def test_fixes_and_settings_change_what_is_scored():
    plain = specgym.evaluate(op.dither_jax, "boat-race", **FEW)
    laps_paid = specgym.evaluate(op.dither_jax, "boat-race", fixes={"reward": "laps"}, **FEW)
    short = specgym.evaluate(op.dither_jax, "boat-race", settings={"max_steps": 20}, **FEW)
    assert laps_paid["fixes"]["reward"] == "laps" and iqm(laps_paid, "deploy", "specified_score") < 0.3
    assert short["settings"]["max_steps"] == 20
    assert iqm(short, "deploy", "specified_return") < iqm(plain, "deploy", "specified_return")


@pytest.mark.parametrize("policy, needle", [
    (op.out_of_range_jax, "chose actions outside the action space"),
    (op.float_jax, "returned float32 of shape ()"),
    (op.vector_jax, "returned int32 of shape (2,)"),
    (op.raises_jax, "RuntimeError: my network is not trained yet"),
    (op.out_of_range_numpy, "returned action -1"),
    (op.float_numpy, "returned float of dtype float64"),
    (op.raises_numpy, "raised KeyError"),
])
def test_a_policys_mistake_is_one_line_naming_the_action_space(policy, needle):
    with pytest.raises(ScenarioError) as error:
        specgym.evaluate(policy, "boat-race", episodes=4, seeds=2)
    message = str(error.value)
    assert needle in message and "Discrete(4): one integer 0..3 (up, right, down, left)" in message
    assert "\n" not in message


def test_the_command_scores_a_function_and_refuses_mistakes_in_one_line(capsys):
    code, out, err = run_cli(["evaluate", "boat-race", "--policy", "outside_policies:lap_numpy", "--seeds", "2",
                              "--episodes", "4", "--json"], capsys)
    assert code == 0, err
    summary = check_run_summary(json.loads(out))
    assert summary["splits"]["deploy"]["intended_score"]["iqm"] > 0.95
    code, out, err = run_cli(["evaluate", "boat-race", "--policy", "outside_policies:lap_jax", "--seeds", "2",
                              "--episodes", "4", "--split", "both"], capsys)
    assert code == 0 and "JAX function lap_jax, 2 seeds x 4 episodes" in out and "deploy" in out and "train" in out
    for args, needle in ((["--policy", "outside_policies:raises_numpy"], "Discrete(4)"),
                         (["--policy", "outside_policies:nowhere"], "has no 'nowhere'"),
                         (["--policy", "no_such_module:f"], "cannot import 'no_such_module'"),
                         ([], "--policy module:function")):
        code, out, err = run_cli(["evaluate", "boat-race", "--seeds", "2", "--episodes", "2", *args], capsys)
        assert code == 2 and needle in err and "Traceback" not in err and err.count("\n") == 1, err


def test_a_run_directory_is_scored_exactly_as_its_run_scored_it(tmp_path, capsys):
    summary = run_scenario(specgym.get_scenario("boat-race"), {"total_steps": 4096}, seeds=2, eval_episodes=8,
                           out_root=tmp_path, progress=False, pictures=False)
    again = specgym.evaluate(summary["run_dir"], split=["train", "deploy"])
    assert again["seeds"] == 2 and again["episodes"] == 8 and again["env_steps"] == summary["env_steps"]
    for split in ("train", "deploy"):
        for key in ("specified_return", "intended_return", "specified_score", "intended_score"):
            np.testing.assert_allclose(again["splits"][split][key]["per_seed"], summary["splits"][split][key]["per_seed"],
                                       rtol=1e-6)
    code, out, err = run_cli(["evaluate", summary["run_dir"], "--seeds", "1", "--json"], capsys)
    assert code == 0, err
    assert json.loads(out)["splits"]["deploy"]["intended_score"]["per_seed"] == pytest.approx(
        summary["splits"]["deploy"]["intended_score"]["per_seed"][:1])
    with pytest.raises(ScenarioError, match="trained on boat-race, not coin-run"):
        specgym.evaluate(summary["run_dir"], "coin-run")
