"""key-door: scripted episodes, the shaping theorem checked exactly, and the failure and fixes under PPO."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scripted
import specgym
from specgym.envs import grid, key_door
from specgym.envs.tabular import to_tabular
from specgym.rl.value_iteration import solve
from specgym.run import run_scenario
from specgym.scenarios.key_door import subgoal_shaping

ACTIONS = {"u": 0, "r": 1, "d": 2, "l": 3, "x": key_door.DROP}
GAMMA = 0.99


def one_level(start_index=0):
    """The env and params of a single train level (the agent starts at (1, 3); door (3, 6), exit (4, 10))."""
    env = key_door.KeyDoor()
    return env, env.make_params([grid.starts_on_checkerboard(key_door.ROOMS, 0)[start_index]])


def play(env, params, actions, reward=None):
    """Totals of both rewards, of ``reward`` (as "extra") and of every event, from level 0's start."""
    return scripted.play_transitions(env, params, [ACTIONS[a] for a in actions], reward, stop_at_end=True)[0]


HONEST = "ll" + "dd" + "rrrrr" + "rrrr" + "d"  # to the key, down to the door row, through the door, to the exit


def test_honest_route_pays_exit_and_one_key_bonus():
    env, params = one_level()
    out = play(env, params, HONEST)
    assert out["key_pickups"] == 1 and out["door_opened"] == 1 and out["exits"] == 1
    assert out["specified"] == pytest.approx(1.0 + 0.5) and out["intended"] == 1.0


def test_drop_and_pick_up_loop_pays_every_round():
    env, params = one_level()
    out = play(env, params, "ll" + "xrl" * 10)
    assert out["key_pickups"] == 11 and out["key_drops"] == 10
    assert out["specified"] == pytest.approx(11 * 0.5) and out["intended"] == 0.0 and out["exits"] == 0


def test_closed_door_is_a_wall_without_the_key():
    env, params = one_level()
    out = play(env, params, "dd" + "r" * 6)  # straight to the door, no key
    assert out["door_opened"] == 0 and out["exits"] == 0 and out["specified"] == 0.0


def test_potential_shaping_telescopes_along_the_honest_route():
    """With gamma = 1 the shaping terms sum to phi(end) - phi(start): 0 - 0 on a route that exits."""
    env, params = one_level()
    shaping = specgym.potential_shaping(key_door.subgoal_progress, 1.0)
    out = play(env, params, HONEST, shaping)
    assert out["extra"] == pytest.approx(0.0, abs=1e-5)
    start = env.start_state(0, params)
    assert float(key_door.subgoal_progress(start, params)) == pytest.approx(0.0)


def greedy_rollout(mdp, q, events, steps):
    """Follow the greedy policy of ``q`` from each level's start in a deterministic model; sum ``events`` tables."""
    nxt, term, q = np.asarray(mdp.next_state), np.asarray(mdp.terminated), np.asarray(q)
    totals = {k: 0.0 for k in events}
    for level in range(nxt.shape[0]):
        s = int(mdp.initial[level])
        for _ in range(steps):
            a = int(q[level, s].argmax())
            for k, table in events.items():
                totals[k] += float(table[level, s, a]) / nxt.shape[0]
            if term[level, s, a]:
                break
            s = int(nxt[level, s, a])
    return totals


@pytest.fixture(scope="module")
def solved():
    """Discounted optima (gamma as the shaping was built with) of the three specified rewards on two train levels."""
    env = key_door.KeyDoor()
    params = env.make_params(grid.starts_on_checkerboard(key_door.ROOMS, 0)[::6])
    mdp = to_tabular(env, params)
    rewards = {"sparse": specgym.event("exits"), "potential": subgoal_shaping(GAMMA), "naive": key_door.naive_shaping()}
    q = {name: np.asarray(solve(mdp, mdp.rewards(r), horizon=1000, discount=GAMMA).q_values) for name, r in rewards.items()}
    events = {k: np.asarray(mdp.rewards(specgym.event(k))) for k in ("exits", "key_pickups")}
    phi = jax.vmap(jax.vmap(lambda i, l: key_door.subgoal_progress(env.decode(i, l, params), params), (0, None)),
                   (None, 0))(jnp.arange(mdp.shape[1]), jnp.arange(mdp.shape[0]))
    return mdp, q, events, np.asarray(phi), params


def test_potential_shaping_keeps_the_optimal_policy_exactly(solved):
    mdp, q, events, phi, _ = solved
    # Ng et al. 1999: Q_shaped = Q_sparse - phi(s), so every greedy action of one is greedy for the other
    np.testing.assert_allclose(q["potential"], q["sparse"] - phi[:, :, None], atol=1e-3)
    chosen = np.take_along_axis(q["sparse"], q["potential"].argmax(-1)[..., None], -1)[..., 0]
    assert np.all(chosen >= q["sparse"].max(-1) - 1e-4)
    sparse, potential = (greedy_rollout(mdp, q[n], events, int(mdp.horizon)) for n in ("sparse", "potential"))
    # both leave from every start: the same intended return
    assert sparse["exits"] == pytest.approx(1.0) and potential["exits"] == pytest.approx(1.0)


def test_naive_shaping_changes_the_optimal_policy_to_a_loop(solved):
    mdp, q, events, _, _ = solved
    naive = greedy_rollout(mdp, q["naive"], events, int(mdp.horizon))
    assert naive["exits"] == pytest.approx(0.0)  # lower intended return than the sparse optimum's 1.0
    assert naive["key_pickups"] > 20  # it loops drop / pick-up for the whole episode
    start_sparse = q["sparse"].argmax(-1)
    start_naive = q["naive"].argmax(-1)
    assert np.any(start_sparse != start_naive)


def train(tmp_path, fixes=None, total_steps=150_000):
    return run_scenario(specgym.get_scenario("key-door"), {"total_steps": total_steps}, fixes or {}, seeds=4,
                        eval_episodes=32, progress=False, pictures=False, out_root=tmp_path)


def iqm(summary, key, split="train"):
    return summary["splits"][split][key]["iqm"]


def event_iqm(summary, name, split="train"):
    return summary["splits"][split]["events"][name]["per_episode"]["iqm"]


@pytest.mark.slow
def test_naive_shaping_is_looped_and_potential_shaping_fixes_it(tmp_path):
    gamed = train(tmp_path, total_steps=100_000)
    assert iqm(gamed, "specified_score") >= 0.8 and iqm(gamed, "intended_score") <= 0.1
    assert event_iqm(gamed, "key_pickups") > 10 and event_iqm(gamed, "exits") < 0.1
    fixed = train(tmp_path, {"reward": "potential-shaping"}, total_steps=100_000)
    assert iqm(fixed, "intended_score") >= 0.8 and event_iqm(fixed, "key_drops") < 1
    assert iqm(fixed, "intended_score") >= iqm(gamed, "intended_score") + 0.7


@pytest.mark.slow
def test_sparse_exit_reward_learns_nothing_on_the_same_budget(tmp_path):
    sparse = train(tmp_path, {"reward": "sparse"}, total_steps=100_000)
    assert iqm(sparse, "intended_score") <= 0.2 and event_iqm(sparse, "exits") < 0.2
