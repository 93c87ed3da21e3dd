"""The policy-only diagnosis parts for a policy trained anywhere: behaviour and the hacking detector's distance."""

from __future__ import annotations

import outside_policies as op
from specgym.diagnose.any_policy import diagnose_policy

FEW = {"seeds": 2, "episodes": 16, "demo_episodes": 4}


def test_a_scripted_racer_and_a_scripted_ditherer_are_told_apart():
    racer = diagnose_policy(op.lap_jax, "boat-race", **FEW)
    dither = diagnose_policy(op.dither_jax, "boat-race", **FEW)
    assert racer["policy"] == "JAX function lap_jax"
    # behaviour: which candidate goal each achieves, in every deploy episode
    assert racer["behaviour"]["candidates"]["laps"]["achieved_share"]["iqm"] == 1.0
    assert dither["behaviour"]["candidates"]["dither"]["achieved_share"]["iqm"] == 1.0
    assert dither["behaviour"]["candidates"]["laps"]["achieved_share"]["iqm"] == 0.0
    # detector: the ditherer strays far further from the trusted racer reference, and the true reward calls it hacking
    assert max(racer["detector"]["js"]) < min(dither["detector"]["js"])
    assert dither["detector"]["hacking"] == [True, True] and racer["detector"]["hacking"] == [False, False]


def test_a_numpy_callable_is_diagnosed_too():
    result = diagnose_policy(op.lap_numpy, "boat-race", parts=("detector",), **FEW)
    assert "behaviour" not in result and result["detector"]["hacking"] == [False, False]
