"""The RLHF loop: the learned reward reaches PPO as data (one compile), budgets hold, and oracle RLHF learns."""

import json

import jax
import numpy as np
import pytest

import specgym
from specgym.cli import main
from specgym.feedback import evaluators as ev
from specgym.learn import preferences as prefs
from specgym.learn import reward_model as rm
from specgym.learn import rlhf
from specgym.rl import networks


@pytest.fixture(scope="module")
def small_run():
    # the smallest loop that still has two budgets, a round of labels before the policy trains,
    # a round after the small budget is spent, straying clips and disagreement-based selection:
    # two rounds, tiny networks
    setup = specgym.get_scenario("glitch-walker").setup(
        {"total_steps": 2 * 8 * 32, "num_envs": 8, "hidden": (16,), "update_epochs": 1, "num_minibatches": 1}, {})
    cfg = rlhf.RLHFConfig(labels=(20, 40), labels_per_round=20, pretrain_labels=20, clips_per_round=16,
                          candidates_per_query=2, reward_model=rm.RewardModelConfig(hidden=(16,), steps=20),
                          heldout_pairs=32)
    evaluator = ev.oracle(setup.env)
    result = rlhf.train_rlhf(setup.env, setup.train_params, setup.trainer, cfg, evaluator, 2, jax.random.PRNGKey(0))
    return setup, cfg, evaluator, result


def test_each_round_compiles_once(small_run):
    _, cfg, _, result = small_run
    assert cfg.rounds == 2 and len(result.history) == 2
    assert result.loop.learn._cache_size() == 1 and result.loop.record._cache_size() == 1


def test_label_budgets_are_respected(small_run):
    _, _, _, result = small_run
    np.testing.assert_array_equal(result.budgets, [20, 20, 40, 40])
    np.testing.assert_array_equal(result.history[0]["labels_asked"], [20, 20, 20, 20])
    np.testing.assert_array_equal(result.history[-1]["labels_asked"], [20, 20, 40, 40])
    # stored usable labels never exceed the budget (exact labels are never NaN)
    np.testing.assert_array_equal(result.history[-1]["labels"], [20, 20, 40, 40])


def test_pretraining_rounds_ask_and_learn_but_leave_the_policy_alone(small_run):
    _, cfg, _, result = small_run
    first, second = result.history
    assert cfg.pretrain_rounds == 1 and result.loop.updates_per_round == 2  # every PPO update in the one policy round
    assert first["env_steps"] == 0 and np.all(np.isnan(first["entropy"])) and np.all(first["labels"] == 20)
    assert second["env_steps"] == 2 * 8 * 32 and np.all(np.isfinite(second["entropy"]))
    assert int(np.asarray(result.agents["runner"].update)[0]) == 2


def test_a_budget_spent_before_the_policy_trains_is_refused():
    cfg = rlhf.RLHFConfig(labels=(100,), labels_per_round=25, pretrain_labels=100)
    with pytest.raises(ValueError, match="no round"):
        cfg.check()
    assert rlhf.RLHFConfig(labels=(100,), labels_per_round=25, pretrain_labels=60).pretrain_rounds == 3


def test_learned_reward_env_pays_the_reward_model(small_run):
    setup, _, _, result = small_run
    model = jax.tree_util.tree_map(lambda x: x[0], result.agents["model"])
    env = rlhf.LearnedRewardEnv(setup.env)
    params = rlhf.LearnedRewardParams(setup.train_params, model)

    @jax.jit  # one compile instead of hundreds of single-operation ones
    def both(params):
        _, state = env.reset(jax.random.PRNGKey(3), params)
        tr = setup.env.transition(jax.random.PRNGKey(4), state.inner, jax.numpy.asarray(1), params.inner)
        _, _, out = env.step(jax.random.PRNGKey(4), state, jax.numpy.asarray(1), params)
        return out, tr, rm.reward(params.model, prefs.step_features(setup.env, params.inner, tr))

    out, tr, expected = both(params)
    assert float(out.reward) == pytest.approx(float(expected), rel=1e-5)
    assert float(out.true_reward) == pytest.approx(float(setup.env.intended_reward(tr, setup.train_params)))


def test_heldout_metrics_are_probabilities_and_correlations(small_run):
    _, _, evaluator, result = small_run
    metrics = rlhf.heldout_metrics(result, evaluator, jax.random.PRNGKey(5), num_clips=32)
    for name in ("heldout_accuracy", "intended_accuracy"):
        assert np.all((metrics[name] >= 0) & (metrics[name] <= 1))
    # the oracle judges by the intended reward, so both accuracies are the same comparisons
    np.testing.assert_allclose(metrics["heldout_accuracy"], metrics["intended_accuracy"])
    assert np.all(np.abs(metrics["reward_correlation"]) <= 1)


@pytest.mark.parametrize("args,message", [
    (["--evaluator", "psychic"], "unknown evaluator 'psychic' for glitch-walker; valid: oracle, noisy, human"),
    (["--labels", "ten"], "--labels takes positive integers"),
    (["--evaluator", "human", "--seeds", "2"], "the human evaluator labels for one agent"),
])
def test_cli_mistakes_are_one_line(capsys, tmp_path, args, message):
    assert main(["rlhf", "glitch-walker", "--out", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("specgym: error: ") and message in err and "\n" not in err


@pytest.mark.slow
def test_oracle_rlhf_walks_like_training_on_the_intended_reward(tmp_path):
    assert main(["rlhf", "glitch-walker", "--labels", "200", "--seeds", "4", "--set", "total_steps=150000",
                 "--out", str(tmp_path), "--no-pictures", "--json"]) == 0
    (run,) = tmp_path.iterdir()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["splits"]["train"]["intended_score"]["iqm"] >= 0.8
    assert summary["splits"]["train"]["events"]["glitch_slides"]["per_episode"]["iqm"] < 1
    row = summary["rlhf"]["per_budget"]["200"]
    assert row["heldout_accuracy"]["iqm"] >= 0.85 and row["reward_correlation"]["iqm"] >= 0.8
    assert {"config.json", "metrics.jsonl", "summary.json"} <= {p.name for p in run.iterdir()}


def test_straying_clips_mix_uniform_actions_into_the_policy_at_the_set_rate():
    """A quarter of the actions of the straying clips are uniform; the rest are the policy's (here: always action 2)."""
    setup = specgym.get_scenario("figure-eight").setup({}, {})
    cfg = rlhf.RLHFConfig(explore_rate=0.25)
    loop = rlhf.Loop(setup.env, setup.train_params, setup.trainer, cfg)
    obs_size = setup.env.observation_space(setup.train_params).shape[0]
    # a policy that always picks action 2: zero every weight, a huge bias on that logit
    net = jax.tree_util.tree_map(lambda x: x * 0, networks.init_actor_critic(jax.random.PRNGKey(0), obs_size, 4, (8,)))
    net["actor"][-1]["b"] = net["actor"][-1]["b"].at[2].set(1e4)
    obs = jax.numpy.zeros(obs_size)
    keys = jax.random.split(jax.random.PRNGKey(1), 40_000)
    actions = np.asarray(jax.jit(jax.vmap(lambda k: loop._straying_action(net, obs, k)))(keys))
    counts = np.bincount(actions, minlength=4) / len(actions)
    expected = np.full(4, 0.25 / 4) + np.eye(4)[2] * 0.75
    assert np.all(np.abs(counts - expected) < 4 * np.sqrt(expected * (1 - expected) / len(actions))), counts
    assert loop.on_policy_clips == cfg.clips_per_round - round(cfg.clips_per_round * cfg.explore_share)


def test_a_scenario_recommendation_fills_what_the_command_line_leaves_out():
    from specgym.runners.rlhf import rlhf_config

    figure_eight = specgym.get_scenario("figure-eight")
    cfg, trainer = rlhf_config(figure_eight)
    fields, recommended_trainer = figure_eight.rlhf.copies()
    assert cfg.pretrain_labels == fields["pretrain_labels"] > 0 and trainer == recommended_trainer
    cfg, _ = rlhf_config(figure_eight, (200,), 20, 0, random_queries=True)
    assert (cfg.labels, cfg.labels_per_round, cfg.pretrain_labels, cfg.candidates_per_query) == ((200,), 20, 0, 1)
    assert rlhf_config(specgym.get_scenario("glitch-walker")) == (rlhf.RLHFConfig(), {})
    # a smaller budget keeps rounds to train the policy in: at most half of it is asked before training
    assert rlhf_config(figure_eight, (100,))[0].pretrain_labels == 50
