"""Bad values and options a new user typed: each ends in one line and exit 2 before anything trains.

Every case here once ended in a traceback (an overflow, a negative seed NumPy refuses), in exit 0
with a NaN policy or a silently ignored value, or in a silent million-point grid. The checks sit
in front of training, so none of these tests trains anything.
"""

import math

import pytest

from cli_run import run_cli
from specgym.settings import INT_LIMIT, field_types, parse_value

DIGITS_40 = "1234567890" * 4
DIGITS_25 = "1234567890123456789012345"
DIGITS_30 = "123456789012345678901234567890"


def assert_one_line_error(code, err, needle):
    assert code == 2, err
    assert needle in err, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("args, needle", [
    # overflow
    (["run", "boat-race", "--set", f"total_steps={DIGITS_40}"], f"bad value '{DIGITS_40}' for setting 'total_steps'"),
    (["run", "boat-race", "--set", f"max_steps={DIGITS_25}"], f"bad value '{DIGITS_25}' for setting 'max_steps'"),
    (["run", "boat-race", "--seed", "1234567890123456789012"], "is not in the range"),
    (["run", "boat-race", "--seed", "-1"], "is not in the range"),
    # a seed NumPy refuses
    (["run", "bfs-maze", "--set", "level_seed=-1"], "bad value -1 for setting 'level_seed'"),
    # non-finite numbers would train a NaN policy
    (["run", "boat-race", "--set", "lr=inf"], "bad value 'inf' for setting 'lr': expected a finite number"),
    (["run", "boat-race", "--set", "lr=1e309"], "bad value '1e309' for setting 'lr'"),
    (["run", "boat-race", "--set", "vf_coef=inf"], "bad value 'inf' for setting 'vf_coef'"),
    (["run", "boat-race", "--set", "ent_coef=nan"], "bad value 'nan' for setting 'ent_coef'"),
    (["run", "coin-run", "--set", "random_percent=nan"], "bad value 'nan' for setting 'random_percent'"),
    # a flag is true or false, not anything else stored as given
    (["run", "boat-race", "--set", "anneal_lr=maybe"],
     "bad value 'maybe' for setting 'anneal_lr': expected true or false"),
    (["run", "boat-race", "--set", "anneal_lr=2"], "bad value '2' for setting 'anneal_lr'"),
    (["run", "boat-race", "--set", "total_steps=2.5"],
     "bad value '2.5' for setting 'total_steps': expected an integer"),
    (["run", "boat-race", "--set", "hidden=32,x"], "bad value '32,x' for setting 'hidden'"),
    # a value that would be silently ignored, or silently replaced
    (["imitate", "windy-ledge", "--set", "total_steps=4096"], "imitate trains no PPO"),
    (["run", "boat-race", "--set", "total_steps=4096", "--set", "total_steps=8192"],
     "--set total_steps is given twice ('4096' and '8192')"),
    (["run", "boat-race", "--fix", "reward=laps", "--fix", "reward=potential-shaping"], "--fix reward is given twice"),
    (["sweep", "boat-race", "--set", "max_steps=20", "--set", "max_steps=30"], "--set max_steps is given twice"),
    # NaN passes every comparison of a range, so ranges alone let it through
    (["detect", "boat-race", "--reference-fraction", "nan"], "'nan' is not a finite number"),
    (["off-switch", "--mean", "nan"], "'nan' is not a finite number"),
    (["off-switch", "--rationality", "inf"], "'inf' is not a finite number"),
    (["off-switch", "--max-std", "nan"], "'nan' is not a finite number"),
    (["rlhf", "boat-race", "--mistake-rate", "nan"], "'nan' is not a finite number"),
    (["rlhf", "boat-race", "--evaluator", "noisy", "--rationality", "inf"], "'inf' is not a finite number"),
    # the port range of `label`, shared
    (["rlhf", "boat-race", "--evaluator", "human", "--seeds", "1", "--labels", "10", "--port", "70000"],
     "70000 is not in the range 0<=x<=65535"),
    (["rlhf", "boat-race", "--evaluator", "human", "--seeds", "1", "--labels", "10", "--store", "bogus://x"],
     "unknown database URL 'bogus://x'"),
    # a million-point grid
    (["sweep", "boat-race", "--set", "max_steps=" + ",".join(map(str, range(1, 2001))),
      "--set", "lr=" + ",".join(f"{k}e-5" for k in range(1, 501))], "the grid has 1,000,000 points (2000 x 500)"),
])
def test_scenario_commands_refuse_bad_values_in_one_line(args, needle, tmp_path, capsys):
    code, _, err = run_cli([*args, "--out", str(tmp_path / "out")], capsys)
    assert_one_line_error(code, err, needle)
    assert not (tmp_path / "out").exists()  # refused before any run directory was made


def test_label_and_rlhf_share_the_port_range(tmp_path, capsys):
    code, _, err = run_cli(["label", str(tmp_path), "--port", "70000"], capsys)
    assert_one_line_error(code, err, "70000 is not in the range 0<=x<=65535")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("step, setting, needle", [
    ("rm", "rm.steps=1e309", "bad value '1e309' for setting 'rm.steps': expected an integer"),
    ("pretrain", "world.length=1e309", "bad value '1e309' for setting 'world.length'"),
    ("rm", f"rm.steps={DIGITS_30}", f"bad value '{DIGITS_30}' for setting 'rm.steps'"),
    ("rlaif", "ppo.updates=-1", "updates must be a positive integer, not -1"),
    ("pretrain", "pretrain.mle.steps=-1", "steps must be a positive integer, not -1"),
    ("pretrain", "pretrain.dataset=0", "dataset must be a positive integer, not 0"),
    ("sft", "sft.demonstrations=0", "demonstrations must be a positive integer, not 0"),
    ("rm", "rm.hidden=0", "hidden must be a positive integer, not 0"),
    ("rm", "rm.comparisons=0", "comparisons must be a positive integer, not 0"),
    ("rm", "rm.learning_rate=nan", "bad value 'nan' for setting 'rm.learning_rate': expected a finite number"),
    ("rm", "rm.label_temperature=-1", "label_temperature must be a number 0 or more, not -1.0"),
    ("rm", "pool=-5", "pool must be a positive integer, not -5"),
    ("pretrain", "pretrain.mle.learning_rate=inf", "bad value 'inf' for setting 'pretrain.mle.learning_rate'"),
    ("phf", "mle.batch=0", "batch must be a positive integer, not 0"),
    ("overoptimization", "hidden=0", "hidden must be one or more positive integers, not (0,)"),
    ("overoptimization", "comparisons=10,-3", "comparisons must be one or more positive integers, not (10, -3)"),
    ("dpo", "betas=0.1,inf", "bad value '0.1,inf' for setting 'betas'"),
    ("ppo", "ppo.minibatches=3", "minibatches (3) must divide batch (128)"),
    ("bon", "world.source_seed=-1", "source_seed must be an integer, 0 or more, not -1"),
    ("bon", "world.self_transition=nan", "bad value 'nan' for setting 'world.self_transition'"),
])
def test_seq_steps_refuse_bad_values_in_one_line(step, setting, needle, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = run_cli(["seq", step, "--set", setting, "--out", str(out), "--cache", "none"], capsys)
    assert_one_line_error(code, err, needle)
    assert not out.exists()


@pytest.mark.parametrize("text, kind, expected", [
    ("4096", int, 4096),
    ("1e6", int, 1_000_000),
    ("200_000", int, 200_000),
    (str(INT_LIMIT), int, INT_LIMIT),
    ("0.5", float, 0.5),
    ("1", float, 1.0),
    ("True", bool, True),
    ("false", bool, False),
    ("32,32", tuple[int, ...], (32, 32)),
    ("64", tuple[int, ...], (64,)),
    (" 0.1, 1 ", tuple[float, ...], (0.1, 1.0)),
    ("extremal", str, "extremal"),
])
def test_the_parser_converts_by_the_declared_type(text, kind, expected):
    value = parse_value("name", text, kind)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("text, kind", [
    (str(INT_LIMIT + 1), int), ("2.5", int), ("1e309", int), ("nan", int), ("two", int),
    ("inf", float), ("-inf", float), ("nan", float), ("1e309", float), ("x", float),
    ("maybe", bool), ("1", bool), ("", tuple[int, ...]), ("8,nan", tuple[float, ...]),
])
def test_the_parser_refuses_what_does_not_fit_in_one_format(text, kind):
    from specgym.errors import ScenarioError

    with pytest.raises(ScenarioError, match=r"^bad value '.*' for setting 'name': expected "):
        parse_value("name", text, kind)


def test_hidden_sizes_reach_the_trainer_through_the_parser():
    from specgym.scenarios import get

    setup = get("boat-race").setup({"hidden": "32,32", "anneal_lr": "false", "lr": "3e-4"})
    assert setup.trainer.hidden == (32, 32) and setup.trainer.anneal_lr is False and setup.trainer.lr == 3e-4
    assert field_types(type(setup.trainer))["hidden"] == tuple[int, ...]


@pytest.mark.parametrize("field, value", [("lr", math.inf), ("vf_coef", math.inf), ("gamma", math.nan),
                                          ("ent_coef", -math.inf), ("clip_eps", math.nan)])
def test_the_trainer_refuses_non_finite_values_from_python_too(field, value):
    from specgym.rl.ppo import PPOConfig

    with pytest.raises(ValueError, match=f"{field} must be a finite number"):
        PPOConfig(**{field: value})


def test_the_myopic_fix_applies_and_its_discount_is_zero():
    """gamma = 0 is a one-step learner; the trainer checks must accept the fix's own discount."""
    from specgym.scenarios import get

    setup = get("recommender").setup({}, {"algorithm": "myopic"})
    assert setup.trainer.gamma == 0.0


def test_gae_with_zero_discount_is_the_one_step_td_error():
    import jax.numpy as jnp
    import numpy as np

    from specgym.rl.ppo import gae

    rng = np.random.default_rng(0)
    reward, value, next_value = (jnp.asarray(rng.normal(size=(6, 3)), jnp.float32) for _ in range(3))
    terminated = jnp.asarray(rng.random((6, 3)) < 0.2, jnp.float32)
    done = jnp.maximum(terminated, jnp.asarray(rng.random((6, 3)) < 0.2, jnp.float32))
    advantages, targets = gae(reward, value, next_value, terminated, done, 0.0, 0.95)
    np.testing.assert_allclose(advantages, reward - value, atol=1e-6)
    np.testing.assert_allclose(targets, reward, atol=1e-6)


def test_rlhf_interrupted_exits_130_like_run(tmp_path, capsys, monkeypatch):
    """Ctrl-C while the loop waits (for a person's labels, say) is an interruption, not a user error."""
    from specgym.runners import rlhf

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(rlhf, "train_rlhf", interrupted)
    code, _, err = run_cli(["rlhf", "boat-race", "--seeds", "1", "--labels", "10", "--no-pictures",
                            "--out", str(tmp_path)], capsys)
    assert code == 130
    assert "specgym: interrupted; the rounds so far are in" in err and "error" not in err
    assert len(err.strip().splitlines()) == 1


def test_sweep_prints_its_point_count_before_training(tmp_path, capsys, monkeypatch):
    from specgym import sweep
    from specgym.scenarios import get

    class Trained(Exception):
        pass

    def first_training(*args, **kwargs):
        raise Trained

    monkeypatch.setattr(sweep, "run_scenario", first_training)
    with pytest.raises(Trained):
        sweep.sweep_scenario(get("boat-race"), {"max_steps": [20, 30], "lr": [1e-3]}, seeds=2, out_root=tmp_path)
    assert "boat-race sweep: 2 points x 2 seeds" in capsys.readouterr().err


def test_sweep_grid_limit_is_the_documented_one():
    from pathlib import Path

    from specgym.sweep import MAX_GRID_POINTS

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert f"at most {MAX_GRID_POINTS} points" in readme
