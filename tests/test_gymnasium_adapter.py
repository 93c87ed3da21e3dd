"""Gymnasium 1.x: every scenario registered and passing Gymnasium's own env checker, seeding, ends, rewards,
pictures, the jax.vmap vector env, and a plain NumPy loop that lands on specgym's exact random-policy return."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import jax
import numpy as np
import pytest

from extras import need

gymnasium = need("gymnasium")
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode

import specgym
from specgym.errors import ScenarioError
from specgym.gymnasium import SpecgymEnv, gymnasium_id, registered_ids
from specgym.gymnasium import make as specgym_make
from specgym.gymnasium_vector import SpecgymVectorEnv
from specgym.references import split_references
from specgym.rewards import constant
from specgym.scenarios import registry as scenario_registry


def test_every_scenario_is_registered_and_builtin_ids_are_the_declared_ones():
    """Against the package's own scenarios: another test in this process may have registered one of its own."""
    builtin = scenario_registry.builtin_ids()
    assert registered_ids() == sorted(gymnasium_id(s) for s in builtin)
    assert all(scenario_registry.get(s).id == s for s in builtin)
    assert len(builtin) >= 22 and set(builtin) <= set(specgym.scenario_ids())


@pytest.mark.parametrize("scenario_id", specgym.scenario_ids())
def test_every_scenario_passes_gymnasiums_env_checker(scenario_id):
    """Spaces, reset and seeding, step types and determinism, fresh data per call, rgb_array frames, close."""
    env = gymnasium.make(gymnasium_id(scenario_id), render_mode="rgb_array")
    check_env(env.unwrapped)
    env.close()


def rollout(env, seed: int, steps: int, actions=None):
    """(observations, rewards, intended rewards, terminated, truncated) of ``steps`` steps, resetting on ends."""
    obs, _ = env.reset(seed=seed)
    out = {"obs": [obs], "reward": [], "intended": [], "terminated": [], "truncated": []}
    rng = np.random.default_rng(0)
    for t in range(steps):
        action = int(rng.integers(env.action_space.n)) if actions is None else actions[t]
        obs, reward, terminated, truncated, info = env.step(action)
        for name, value in (("obs", obs), ("reward", reward), ("intended", info["intended_reward"]),
                            ("terminated", terminated), ("truncated", truncated)):
            out[name].append(value)
        if terminated or truncated:
            obs, _ = env.reset()
            out["obs"].append(obs)
    return {k: np.asarray(v) for k, v in out.items()}


def test_a_seed_and_actions_give_one_trajectory():
    env = gymnasium.make("specgym/coin-run-v0")  # procedural levels: the seed draws them
    first, again, other = rollout(env, 4, 60), rollout(env, 4, 60), rollout(env, 5, 60)
    for name in first:
        np.testing.assert_array_equal(first[name], again[name])
    assert not np.array_equal(first["obs"], other["obs"])


def test_ends_follow_gymnasium():
    """Truncated exactly at the time limit, terminated at a natural end, never both; nothing resets by itself."""
    boat = gymnasium.make("specgym/boat-race-v0", settings={"max_steps": 12})
    run = rollout(boat, 0, 36)
    assert not run["terminated"].any()
    np.testing.assert_array_equal(np.flatnonzero(run["truncated"]), [11, 23, 35])
    coin = gymnasium.make("specgym/coin-run-v0", split="deploy")
    run = rollout(coin, 0, 1000)
    assert run["terminated"].any() and not (run["terminated"] & run["truncated"]).any()
    env = coin.unwrapped
    env.reset(seed=1)
    rng = np.random.default_rng(1)
    for _ in range(2000):
        _, _, terminated, _, _ = env.step(int(rng.integers(4)))
        if terminated:
            break
    assert terminated and env._state is not None and int(env._state.time) > 0  # the ended episode stays: no auto-reset


def test_info_carries_the_intended_reward_and_events():
    env = gymnasium.make("specgym/boat-race-v0", split="deploy")
    env.reset(seed=0)
    _, reward, _, _, info = env.step(1)
    assert set(info) == {"intended_reward", "events"}
    assert set(info["events"]) == {"tile_entries", "laps", "clockwise"}
    assert isinstance(reward, float) and isinstance(info["intended_reward"], float)


def test_split_and_fixes_are_selectable_and_refused_clearly():
    plain = gymnasium.make("specgym/boat-race-v0").unwrapped
    fixed = gymnasium.make("specgym/boat-race-v0", split="deploy", fixes={"reward": "potential-shaping"}).unwrapped
    as_text = gymnasium.make("specgym/boat-race-v0", fixes="reward=laps").unwrapped
    names = {e.fns.env.specified_reward.name for e in (plain, fixed, as_text)}
    assert len(names) == 3 and fixed.split == "deploy"
    with pytest.raises(ScenarioError, match="valid: potential-shaping, laps"):
        gymnasium.make("specgym/boat-race-v0", fixes={"reward": "bigger"})
    with pytest.raises(ScenarioError, match="valid: train, deploy"):
        gymnasium.make("specgym/boat-race-v0", split="test")


def test_rgb_array_frames_are_the_envs_own_pictures():
    env = gymnasium.make("specgym/boat-race-v0", render_mode="rgb_array").unwrapped
    env.reset(seed=0)
    env.step(1)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    np.testing.assert_array_equal(frame, env.fns.env.render(jax.device_get(env._state.inner), env.fns.params))
    no_mode = gymnasium.make("specgym/boat-race-v0")
    no_mode.reset(seed=0)
    assert no_mode.render() is None  # no render_mode, no frames


def test_bad_actions_are_one_clear_line():
    env = gymnasium.make("specgym/boat-race-v0").unwrapped
    env.reset(seed=0)
    for bad in (4, -1, 1.5, np.array([1, 2]), "up"):
        with pytest.raises(ScenarioError, match=r"Discrete\(4\): one integer 0..3") as error:
            env.step(bad)
        assert "\n" not in str(error.value)
    vec = SpecgymVectorEnv(3, "boat-race")
    vec.reset(seed=0)
    with pytest.raises(ScenarioError, match=r"3 valid actions for boat-race: .*Discrete\(4\)"):
        vec.step(np.array([0, 1]))
    with pytest.raises(ScenarioError, match=r"Discrete\(4\)"):
        vec.step(np.array([0, 1, 9]))


def test_an_unknown_id_lists_the_registered_ones():
    with pytest.raises(ScenarioError) as error:
        specgym_make("specgym/boat-rase-v0")
    assert all(name in str(error.value) for name in registered_ids())
    with pytest.raises(gymnasium.error.NameNotFound, match="boat-race"):  # Gymnasium's own make names the nearest
        gymnasium.make("specgym/boat-rase-v0")


def test_the_vector_env_steps_every_env_at_once_and_resets_in_the_same_step():
    envs = gymnasium.make_vec("specgym/boat-race-v0", num_envs=5, settings={"max_steps": 4})
    assert isinstance(envs.unwrapped, SpecgymVectorEnv)
    assert envs.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (5, *envs.single_observation_space.shape) and obs in envs.observation_space
    for t in range(8):
        obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
        assert reward.shape == terminated.shape == truncated.shape == (5,)
        assert info["intended_reward"].shape == (5,) and info["events"]["laps"].shape == (5,)
        np.testing.assert_array_equal(truncated, t in (3, 7))
        np.testing.assert_array_equal(info["_final_obs"], truncated)
    first = SpecgymVectorEnv(5, "boat-race")
    second = SpecgymVectorEnv(5, "boat-race")
    actions = np.array([0, 1, 2, 3, 1])
    for env in (first, second):
        env.reset(seed=9)
    np.testing.assert_array_equal(first.step(actions)[0], second.step(actions)[0])


def test_the_intended_reward_never_reaches_observation_or_reward(monkeypatch):
    """A copy of boat-race whose intended reward is a constant: same observations and rewards, single and vector."""
    base = specgym.get_scenario("boat-race")

    def build(settings):
        env, splits = base.build(settings)
        return env.with_rewards(intended=constant(7.0)), splits

    probe = dataclasses.replace(base, id="boat-race-intended-probe", build=build)
    monkeypatch.setitem(scenario_registry._SCENARIOS, probe.id, probe)  # gone again after the test
    actions = [int(a) for a in np.random.default_rng(1).integers(0, 4, 40)]
    real = rollout(SpecgymEnv("boat-race"), 3, 40, actions)
    probe = rollout(SpecgymEnv("boat-race-intended-probe"), 3, 40, actions)
    np.testing.assert_array_equal(real["obs"], probe["obs"])
    np.testing.assert_array_equal(real["reward"], probe["reward"])
    assert (probe["intended"] == 7.0).all() and not (real["intended"] == 7.0).all()
    vectors = [SpecgymVectorEnv(4, s) for s in ("boat-race", "boat-race-intended-probe")]
    outs = []
    for env in vectors:
        env.reset(seed=3)
        outs.append(env.step(np.array([1, 2, 3, 0])))
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])


def test_a_plain_numpy_random_loop_lands_on_specgyms_random_reference():
    """Uniform random actions through Gymnasium: the mean return's 99% interval holds the exact reference
    (the value every normalised score calls 0), for the specified and the intended reward."""
    env = gymnasium.make("specgym/boat-race-v0", split="deploy")
    rng = np.random.default_rng(0)
    episodes = {"specified": [], "intended": []}
    env.reset(seed=0)
    for _ in range(300):
        total = intended = 0.0
        while True:
            _, reward, terminated, truncated, info = env.step(int(rng.integers(4)))
            total, intended = total + reward, intended + info["intended_reward"]
            if terminated or truncated:
                break
        episodes["specified"].append(total)
        episodes["intended"].append(intended)
        env.reset()
    scenario = specgym.get_scenario("boat-race").setup()
    references = split_references(scenario.env, scenario.deploy_params)
    for which, returns in episodes.items():
        mean, half = np.mean(returns), 2.576 * np.std(returns, ddof=1) / np.sqrt(len(returns))
        assert abs(mean - references[which][0]) <= half, (which, mean, half, references[which])
        assert abs(mean - references[which][1]) > half  # far from the optimum: the interval can tell them apart


def test_importing_specgym_needs_no_gymnasium_and_loads_no_scenario():
    code = ("import sys; sys.modules['gymnasium'] = None; import specgym; "
            "assert 'specgym.gymnasium' not in sys.modules; "
            "assert not any(m.startswith('specgym.scenarios.') and m.split('.')[-1] not in ('base', 'registry') "
            "for m in sys.modules), 'a scenario module was imported'; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
