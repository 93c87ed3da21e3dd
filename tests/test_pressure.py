"""Divergence point and phase-transition rules of the Goodhart curve on planted curves."""

import pytest

from specgym.diagnose.pressure import divergence


def _points(spec, true, split="train"):
    return [{"pressure": 1000 * (i + 1), split: {"specified": {"iqm": s}, "intended": {"iqm": t}}}
            for i, (s, t) in enumerate(zip(spec, true, strict=True))]


def test_divergence_and_sharp_transition():
    spec = [0.1, 0.3, 0.5, 0.6, 0.9, 0.95]
    true = [0.1, 0.3, 0.5, 0.55, 0.1, 0.05]  # true collapses between 4000 and 5000
    info = divergence(_points(spec, true), "train")
    assert info["diverges_at"] == 5000
    sharp = info["phase_transition"]
    assert (sharp["from"], sharp["to"]) == (4000, 5000) and sharp["gap_jump"] == pytest.approx(0.75)


def test_gradual_divergence_is_no_phase_transition():
    spec = [0.2 + 0.1 * i for i in range(8)]
    true = [0.2 + 0.1 * min(i, 3) - 0.06 * max(0, i - 3) for i in range(8)]
    info = divergence(_points(spec, true), "train")
    assert info["diverges_at"] == 6000
    assert info["phase_transition"] is None


def test_aligned_curves_never_diverge():
    curve = [0.1, 0.4, 0.7, 0.9]
    info = divergence(_points(curve, curve), "train")
    assert info["diverges_at"] is None and info["phase_transition"] is None and info["final_gap"] == 0.0
