"""Play a scripted action sequence and total both rewards and every event.

Shared by the per-scenario tests, which assert hand-computed returns. ``play``
goes through the public ``reset``/``step`` (auto-reset included, so stop at the
episode's end when the script may run past it); ``play_transitions`` calls the
world's ``transition`` from level 0's start, for checking an extra reward
function on the same transitions.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def _add(totals: dict, events: dict) -> None:
    for name, value in events.items():
        totals[name] = totals.get(name, 0.0) + float(value)


def play(env, params, actions, stop_at_end: bool = False):
    """``(totals, last EnvState)``; totals hold specified, intended, every event, steps and ended."""
    _, state = env.reset(jax.random.PRNGKey(0), params)
    step = jax.jit(env.step)
    totals = {"specified": 0.0, "intended": 0.0, "steps": 0, "ended": False}
    for i, action in enumerate(actions):
        _, state, out = step(jax.random.PRNGKey(i), state, jnp.asarray(action), params)
        totals["steps"] += 1
        totals["specified"] += float(out.reward)
        totals["intended"] += float(out.true_reward)
        _add(totals, out.info.events)
        if stop_at_end and bool(out.terminated):
            totals["ended"] = True
            break
    return totals, state


def play_transitions(env, params, actions, extra=None, stop_at_end: bool = False):
    """``(totals, last inner state)`` from level 0's start; ``extra`` is summed under "extra"."""
    inner = env.start_state(0, params)
    transition = jax.jit(env.transition)
    totals = {"specified": 0.0, "intended": 0.0, "extra": 0.0}
    for action in actions:
        tr = transition(jax.random.PRNGKey(0), inner, jnp.asarray(action), params)
        totals["specified"] += float(env.specified_reward(tr, params))
        totals["intended"] += float(env.intended_reward(tr, params))
        if extra is not None:
            totals["extra"] += float(extra(tr, params))
        _add(totals, tr.events)
        inner = tr.next_state
        if stop_at_end and bool(tr.terminated):
            break
    return totals, inner
