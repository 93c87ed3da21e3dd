"""The human evaluator: clips go to the page, a (simulated) person answers over HTTP, preferences come back."""

import dataclasses
import io
import json
import math
import threading
import time

import jax
import numpy as np
import pytest
from PIL import Image, ImageSequence

from specgym.feedback.human import HumanEvaluator
from specgym.learn.preferences import Clips, pair_up
from test_webapp import Client

CLIP_STEPS = 6
pytestmark = pytest.mark.xdist_group("human_evaluator")


class SlidingSquare:
    """Stands in for an env: the state is a square's position, ``render`` draws it."""

    def render(self, state, params):
        frame = np.full((24, 24, 3), 255, np.uint8)
        y, x = np.asarray(state["pos"])
        frame[y:y + 4, x:x + 4] = params["colour"]
        return frame


@pytest.fixture(scope="module")
def square_clips():
    """Five clips of a square sliding in different directions; clip 3's episode ends after 4 steps."""
    rng = np.random.default_rng(0)
    steps = np.arange(CLIP_STEPS)[None, :, None]
    pos = np.clip(4 + steps * rng.integers(-1, 4, (5, 1, 2)), 0, 20).astype(np.int32)
    mask = np.ones((5, CLIP_STEPS), np.float32)
    mask[3, 4:] = 0.0
    clips = Clips(features=rng.normal(size=(5, CLIP_STEPS, 7)).astype(np.float32),
                  obs=rng.normal(size=(5, CLIP_STEPS, 3)).astype(np.float32),
                  actions=rng.integers(0, 4, (5, CLIP_STEPS)).astype(np.int32), states={"pos": pos},
                  specified=np.zeros((5, CLIP_STEPS), np.float32), intended=np.ones((5, CLIP_STEPS), np.float32),
                  mask=mask, ids=tuple(f"r0c-{i}" for i in range(5)))
    return SlidingSquare(), {"colour": (200, 40, 40)}, clips


def simulated_person(evaluator, answers: dict, stop: threading.Event):
    """Waits for the page, then labels whatever it shows with the planned answer, like a person clicking."""
    while evaluator.server is None and not stop.is_set():
        time.sleep(0.02)
    client = Client(evaluator.server)
    while not stop.is_set():
        pair = client.state()["pair"]
        if pair is None:
            time.sleep(0.02)
            continue
        assert client.request("GET", pair["left_url"])[0] == 200
        status = client.label(pair["pair_id"], answers[pair["pair_id"]])[0]
        assert status == 201


def test_compare_waits_for_a_person_and_maps_choices(square_clips, tmp_path):
    env, params, clips = square_clips
    pairs = pair_up(clips, np.array([0, 2, 1, 4]), np.array([1, 3, 3, 0]), "r0p")
    answers = {"r0p-0": "left", "r0p-1": "right", "r0p-2": "equal", "r0p-3": "cant_tell"}
    log = io.StringIO()
    evaluator = HumanEvaluator(env, params, tmp_path, port=0, poll_s=0.02, timeout_s=60, stream=log)
    stop = threading.Event()
    person = threading.Thread(target=simulated_person, args=(evaluator, answers, stop), daemon=True)
    person.start()
    try:
        prefs = evaluator.compare(pairs, jax.random.PRNGKey(0))
        assert prefs[:3].tolist() == [1.0, 0.0, 0.5] and math.isnan(prefs[3])
        assert f"label the queued pairs at {evaluator.url}" in log.getvalue()

        queries = [json.loads(line) for line in (tmp_path / "queries.jsonl").read_text().splitlines()]
        assert [(q["pair_id"], q["left"], q["right"], q["round"]) for q in queries] == [
            ("r0p-0", "r0c-0", "r0c-1", 0), ("r0p-1", "r0c-2", "r0c-3", 0),
            ("r0p-2", "r0c-1", "r0c-3", 0), ("r0p-3", "r0c-4", "r0c-0", 0)]
        mask = np.asarray(clips.mask)
        for i in range(5):
            with Image.open(tmp_path / "clips" / f"r0c-{i}.gif") as gif:  # 150 ms per step the episode ran
                shown = sum(frame.info["duration"] for frame in ImageSequence.Iterator(gif))
                assert gif.is_animated and shown == 150 * max(1, int(mask[i].sum()))
            arrays = np.load(tmp_path / "clips" / f"r0c-{i}.npz")
            np.testing.assert_array_equal(arrays["obs"], np.asarray(clips.obs)[i])
            np.testing.assert_array_equal(arrays["features"], np.asarray(clips.features)[i])
            assert arrays["obs"].shape[0] == CLIP_STEPS
        assert not list((tmp_path / "clips").glob("*.partial"))

        # the same pairs again (a restarted run): answered from the store, nothing queued twice
        again = evaluator.compare(pairs, None)
        np.testing.assert_array_equal(again, prefs)
        assert len((tmp_path / "queries.jsonl").read_text().splitlines()) == 4

        # a second round queues only its new pairs
        answers.update({"r1p-0": "right"})
        prefs = evaluator.compare(pair_up(clips, np.array([2]), np.array([4]), "r1p"), None)
        assert prefs.tolist() == [0.0]
        last = json.loads((tmp_path / "queries.jsonl").read_text().splitlines()[-1])
        assert (last["pair_id"], last["round"]) == ("r1p-0", 2)
    finally:
        stop.set()
        person.join(10)
        evaluator.close()


def test_requeueing_a_pair_with_other_clips_is_refused(square_clips, tmp_path):
    env, params, clips = square_clips
    evaluator = HumanEvaluator(env, params, tmp_path, serve=False)
    evaluator.queue(pair_up(clips, np.array([0]), np.array([1]), "p"))
    with pytest.raises(ValueError, match="already queued .* with other clips"):
        evaluator.queue(pair_up(clips, np.array([0]), np.array([2]), "p"))
    # same ids, other episodes (another seed writing into this directory): refused, not mislabelled
    other = dataclasses.replace(clips, obs=np.asarray(clips.obs) + 1.0)
    with pytest.raises(ValueError, match="holds another episode"):
        evaluator.queue(pair_up(other, np.array([0]), np.array([1]), "p"))
    assert len((tmp_path / "queries.jsonl").read_text().splitlines()) == 1
    assert sorted(p.name for p in (tmp_path / "clips").iterdir()) == ["r0c-0.gif", "r0c-0.npz", "r0c-1.gif",
                                                                     "r0c-1.npz"]


def test_nobody_labelling_times_out_with_a_count(square_clips, tmp_path):
    env, params, clips = square_clips
    evaluator = HumanEvaluator(env, params, tmp_path, port=0, poll_s=0.02, timeout_s=0.3, stream=io.StringIO())
    try:
        with pytest.raises(TimeoutError, match="2 of 2 pairs still unlabelled"):
            evaluator.compare(pair_up(clips, np.array([0, 1]), np.array([2, 3]), "q"), None)
        assert Client(evaluator.server).state()["remaining"] == 2  # the page is still up to answer them
    finally:
        evaluator.close()
