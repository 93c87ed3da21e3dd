"""The contract every built-in scenario must honour, checked without training.

Each documented fix applies and changes values, not the shape of what the
compiled step takes; every event a scenario reports is one its env records;
every candidate goal's reward runs on real transitions; every scenario is
documented (card, docs page, README row); every setting accepts its default and
refuses a bad value with a one-line ``ScenarioError``.
"""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from specgym.errors import ScenarioError
from specgym.scenarios import get, scenario_ids
from specgym.scenarios.base import recorded_events

ROOT = Path(__file__).resolve().parents[1]
IDS = scenario_ids()
FIXES = [(sid, lever, name) for sid in IDS for lever, fixes in get(sid).fixes.items() for name in fixes]
SETTINGS = [(sid, name) for sid in IDS for name in get(sid).settings]
GOAL_STEPS = 12
"""Random-action transitions each candidate goal's reward is evaluated on."""


def structure_difference(before, after) -> str | None:
    """What makes ``after`` a different params type from ``before``, or None where it is the same type.

    Same tree, same dtype and rank of every leaf, and the same shape of every leaf
    except the leading level axis: a fix may change how many levels a split holds
    (hidden-hazards' and shard-balance's environment fixes train on more), never
    what a level is, so every leaf whose leading axis changes must change it alike.
    """
    if jax.tree_util.tree_structure(before) != jax.tree_util.tree_structure(after):
        return f"tree {jax.tree_util.tree_structure(before)} became {jax.tree_util.tree_structure(after)}"
    resized = set()
    paths = jax.tree_util.tree_flatten_with_path(before)[0]
    for (path, old), new in zip(paths, jax.tree_util.tree_leaves(after), strict=True):
        where = jax.tree_util.keystr(path)
        old, new = jnp.asarray(old), jnp.asarray(new)
        if old.dtype != new.dtype:
            return f"{where}: dtype {old.dtype} became {new.dtype}"
        if old.ndim != new.ndim or old.shape[1:] != new.shape[1:]:
            return f"{where}: shape {old.shape} became {new.shape}"
        if old.shape != new.shape:
            resized.add((old.shape[0], new.shape[0]))
    if len(resized) > 1:
        return f"leading axes resized unlike each other: {sorted(resized)}"
    return None


@pytest.mark.parametrize("sid, lever, fix", FIXES, ids=[f"{s}-{lever}-{f}" for s, lever, f in FIXES])
def test_every_fix_applies_and_keeps_the_params_type(sid, lever, fix):
    scenario = get(sid)
    unfixed = scenario.setup({})
    fixed = scenario.setup({}, {lever: fix})
    for split in ("train_params", "deploy_params"):
        difference = structure_difference(getattr(unfixed, split), getattr(fixed, split))
        assert difference is None, f"{sid} {lever}={fix} changes the {split} type: {difference}"


@pytest.mark.parametrize("sid", [sid for sid in IDS if len(get(sid).fixes) > 1])
def test_the_canonical_fixes_apply_together(sid):
    """``specgym diagnose`` and ``specgym detect`` train the first fix of every lever at once."""
    scenario = get(sid)
    unfixed = scenario.setup({})
    fixed = scenario.setup({}, {lever: next(iter(fixes)) for lever, fixes in scenario.fixes.items()})
    for split in ("train_params", "deploy_params"):
        difference = structure_difference(getattr(unfixed, split), getattr(fixed, split))
        assert difference is None, f"{sid}'s fixes together change the {split} type: {difference}"


def test_remedies_are_the_canonical_fixes_alone_or_together_where_they_combine():
    assert get("boat-race").remedies() == [{"reward": "potential-shaping"}, {"environment": "pay-once-per-circuit"}]
    assert get("coin-run").remedies() == [{"environment": "random-coin"}]
    # each of glitch-walker's fixes alone leaves the other root cause open
    assert get("glitch-walker").remedies() == [{"reward": "gait-term", "environment": "patch-bug"}]
    assert get("bfs-maze").remedies() == []


def test_the_structure_check_catches_a_changed_params_type():
    """The fix test above can fail: a new dtype, a new cell shape or a new tree are each named."""
    params = {"walls": np.zeros((4, 5, 5), bool), "start": np.zeros((4, 2), np.int32), "max_steps": np.int32(30)}
    more_levels = {"walls": np.zeros((9, 5, 5), bool), "start": np.zeros((9, 2), np.int32), "max_steps": np.int32(30)}
    assert structure_difference(params, params) is None
    assert structure_difference(params, more_levels) is None
    assert "dtype" in (structure_difference(params, {**params, "max_steps": np.float32(30)}) or "")
    assert "shape" in (structure_difference(params, {**params, "walls": np.zeros((4, 6, 6), bool)}) or "")
    assert "tree" in (structure_difference(params, {**params, "gust": np.float32(0.2)}) or "")
    assert "unlike" in (structure_difference(params, {**more_levels, "start": np.zeros((5, 2), np.int32)}) or "")


@pytest.mark.parametrize("sid", IDS)
def test_every_reported_event_is_recorded_by_the_env(sid):
    scenario = get(sid)
    setup = scenario.setup({})
    recorded = recorded_events(setup.env, setup.train_params)
    assert scenario.events, f"{sid} reports no events"
    missing = [name for name in scenario.events if name not in recorded]
    assert not missing, f"{sid} reports {missing}, which its env does not record (it records {recorded})"
    assert len(set(scenario.events)) == len(scenario.events), f"{sid} reports an event twice"


def test_setup_refuses_an_event_the_env_does_not_record():
    scenario = dataclasses.replace(get("boat-race"), events=("laps", "no_such_event"))
    with pytest.raises(ScenarioError) as error:
        scenario.setup({})
    message = str(error.value)
    assert "no_such_event" in message and "tile_entries" in message and "\n" not in message


@pytest.mark.parametrize("sid", IDS)
def test_every_candidate_goal_reward_gives_a_finite_scalar(sid):
    scenario = get(sid)
    goals = {name: goal for name, goal in scenario.goals().items() if goal.reward is not None}
    if not goals:
        pytest.skip(f"{sid} has no measurable goal")
    setup = scenario.setup({})
    env = setup.env
    for params in (setup.train_params, setup.deploy_params):

        def transitions(key, params=params):
            """GOAL_STEPS random-action transitions from a reset, the goal rewards of each."""
            _, state = env.reset(key, params)

            def step(inner, key):
                k_action, k_step = jax.random.split(key)
                action = jax.random.randint(k_action, (), 0, env.num_actions)
                tr = env.transition(k_step, inner, action, params)
                return tr.next_state, {name: goal.reward(tr, params) for name, goal in goals.items()}

            return jax.lax.scan(step, state.inner, jax.random.split(key, GOAL_STEPS))[1]

        shapes = jax.eval_shape(transitions, jax.random.PRNGKey(0))
        for name, shape in shapes.items():
            assert shape.shape == (GOAL_STEPS,), f"{sid} goal {name!r} gives shape {shape.shape[1:]} per step, not ()"
        for seed in range(2):
            for name, values in jax.jit(transitions)(jax.random.PRNGKey(seed)).items():
                assert np.all(np.isfinite(np.asarray(values))), f"{sid} goal {name!r} gives {values}"


@pytest.mark.parametrize("sid", IDS)
def test_every_scenario_is_documented(sid):
    scenario = get(sid)
    assert scenario.card and scenario.card.strip(), f"{sid} has no card"
    assert scenario.story.strip() and "\n" not in scenario.story.strip(), f"{sid}'s story is not one line"
    page = ROOT / "docs" / "scenarios" / f"{sid}.md"
    assert page.is_file() and page.read_text().strip(), f"no docs page {page.relative_to(ROOT)}"
    rows = [line for line in (ROOT / "README.md").read_text().splitlines()
            if re.match(rf"\| \[`{re.escape(sid)}`\]\(docs/scenarios/{re.escape(sid)}\.md\) \|", line)]
    assert len(rows) == 1, f"README.md's scenario table has {len(rows)} rows for {sid}"
    for fixes in scenario.fixes.values():
        for name in fixes:
            assert f"`{name}`" in rows[0].split("|")[3], f"README.md's row for {sid} does not name its fix {name}"


@pytest.mark.parametrize("sid, name", SETTINGS, ids=[f"{s}-{n}" for s, n in SETTINGS])
def test_every_setting_accepts_its_default_and_refuses_a_bad_value_in_one_line(sid, name):
    scenario = get(sid)
    setting = scenario.settings[name]
    assert setting.check(setting.default), f"{sid} refuses its own default {name}={setting.default!r}"
    assert scenario.resolve_settings({})[name] == setting.default
    for bad in ("nonsense", math.nan):
        with pytest.raises(ScenarioError) as error:
            scenario.setup({name: bad})
        message = str(error.value)
        assert name in message and "\n" not in message, message
