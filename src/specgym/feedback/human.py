"""A person as an evaluator: clips go to the labelling page, answers come back from the label store.

``HumanEvaluator.compare`` renders each clip to ``RUN_DIR/clips/<id>.gif``
(pictures only: no reward numbers, the person judges by watching), keeps the
clip's arrays in ``clips/<id>.npz`` so a reward model can be retrained from the
directory alone, appends the pairs to ``queries.jsonl``, makes sure the web app
is serving, and waits until every pair has a label. Pairs already labelled in
an earlier session (same pair id, same clips) are answered from the store at
once, so a restarted run resumes instead of asking again.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import jax
import numpy as np
from PIL import Image

from specgym.feedback.store import Query, RunQueue, append_queries, open_store, sqlite_url
from specgym.feedback.webapp import make_server
from specgym.learn.preferences import CHOICE_VALUES
from specgym.progress import Progress


def save_clip_gif(frames, path: Path, ms_per_frame: int = 150) -> None:
    """An animated GIF of RGB frames (H, W, 3 uint8), looping, written atomically (the app may be reading)."""
    images = [Image.fromarray(np.asarray(f, np.uint8)) for f in frames]
    if not images:
        raise ValueError(f"clip {path.stem!r} has no frames")
    partial = path.with_name(path.name + ".partial")
    images[0].save(partial, format="GIF", save_all=True, append_images=images[1:], duration=ms_per_frame, loop=0)
    os.replace(partial, path)


def write_clip(run_dir: Path, clip_id: str, frames, arrays: dict | None = None) -> None:
    """``clips/<id>.gif`` (``frames``: a list, or a function returning one, called only if the GIF is
    missing) and, if given, ``clips/<id>.npz``; an existing clip must hold the same arrays.

    A resumed run re-creates its clips bit for bit (same seed), so an id whose stored
    observations or actions differ is another run's clip, and its labels would be wrong.
    """
    clips_dir = Path(run_dir) / "clips"
    clips_dir.mkdir(parents=True, exist_ok=True)
    npz = clips_dir / f"{clip_id}.npz"
    if arrays is not None and npz.exists():
        with np.load(npz) as stored:
            if any(not np.array_equal(stored[k], arrays[k]) for k in ("obs", "actions") if k in stored and k in arrays):
                raise ValueError(f"clip {clip_id!r} in {run_dir} holds another episode; "
                                 "label this run in a fresh run directory")
    elif arrays is not None:
        with open(npz.with_name(npz.name + ".partial"), "wb") as f:
            np.savez_compressed(f, **arrays)
        os.replace(f.name, npz)
    if not (clips_dir / f"{clip_id}.gif").exists():
        save_clip_gif(frames() if callable(frames) else frames, clips_dir / f"{clip_id}.gif")


def read_queries(run_dir: Path) -> dict[str, Query]:
    """pair id -> query, for the queries already in ``queries.jsonl`` (read as the web app reads them)."""
    queue = RunQueue(Path(run_dir))
    return {q.pair_id: q for q in queue.queries()}


def clip_frames(env, params, clips, index: int) -> list[np.ndarray]:
    """The rendered frames of clip ``index`` while its episode runs."""
    steps = int(np.asarray(clips.mask)[index].sum())
    state_at = lambda t: jax.tree_util.tree_map(lambda x: np.asarray(x)[index, t], clips.states)
    return [np.asarray(env.render(state_at(t), params)) for t in range(max(1, steps))]


def clip_arrays(clips, index: int) -> dict:
    """What a reward model needs from clip ``index`` (and the rewards, for diagnosis; never shown)."""
    names = ("obs", "features", "actions", "mask", "specified", "intended")
    return {name: np.asarray(getattr(clips, name))[index] for name in names}


class HumanEvaluator:
    """Implements ``Evaluator.compare`` with a person at the labelling page (``key`` is unused)."""

    name = "human"

    def __init__(self, env, params, run_dir, store_url: str | None = None, host: str = "127.0.0.1",
                 port: int = 8765, budget: int | None = None, on_label=None, serve: bool = True,
                 poll_s: float = 0.5, timeout_s: float | None = None, stream=None):
        self.env, self.params, self.run_dir = env, params, Path(run_dir)
        self.store_url = store_url or sqlite_url(self.run_dir / "labels.sqlite")
        self.host, self.port, self.budget, self.on_label, self.serve = host, port, budget, on_label, serve
        self.poll_s, self.timeout_s = poll_s, timeout_s
        self.stream = stream or sys.stderr
        self.server = None
        self.rounds = 0
        self.run_dir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str | None:
        return None if self.server is None else self.server.url

    def queue(self, pairs) -> list[str]:
        """Write the pairs' clips and queries; returns their pair ids. Re-queued pairs must show the same clips."""
        queued, new = read_queries(self.run_dir), []
        for i, pair_id in enumerate(pairs.pair_ids):
            left, right = pairs.left.ids[i], pairs.right.ids[i]
            if pair_id in queued and (queued[pair_id].left, queued[pair_id].right) != (left, right):
                raise ValueError(f"pair {pair_id!r} is already queued in {self.run_dir} with other clips")
            for clips, clip_id in ((pairs.left, left), (pairs.right, right)):
                write_clip(self.run_dir, clip_id, lambda c=clips, i=i: clip_frames(self.env, self.params, c, i),
                           clip_arrays(clips, i))
            if pair_id in queued:
                continue
            new.append({"pair_id": pair_id, "left": left, "right": right, "round": self.rounds})
            queued[pair_id] = new[-1]
        append_queries(self.run_dir, new)
        self.rounds += 1
        return list(pairs.pair_ids)

    def ensure_serving(self) -> None:
        if self.server is None and self.serve:
            self.server = make_server(self.run_dir, self.store_url, self.host, self.port, self.budget,
                                      on_label=self.on_label).start()
            print(f"specgym: label the queued pairs at {self.server.url}", file=self.stream, flush=True)

    def wait_for_labels(self, pair_ids: list[str]) -> dict[str, str]:
        """Block until every pair has a label (progress on the stream); TimeoutError after ``timeout_s``."""
        wanted = set(pair_ids)
        progress = Progress(len(wanted), unit="labels", label="human labels", stream=self.stream)
        start = time.monotonic()
        with open_store(self.store_url) as store:
            while True:
                labels = store.labels()
                done = len(wanted & labels.keys())
                progress.update(done)
                if done == len(wanted):
                    progress.close()
                    return {p: labels[p] for p in pair_ids}
                if self.timeout_s is not None and time.monotonic() - start > self.timeout_s:
                    raise TimeoutError(f"{len(wanted) - done} of {len(wanted)} pairs still unlabelled "
                                       f"after {self.timeout_s:.0f} s")
                time.sleep(self.poll_s)

    def compare(self, pairs, key=None) -> np.ndarray:
        pair_ids = self.queue(pairs)
        self.ensure_serving()
        labels = self.wait_for_labels(pair_ids)
        return np.array([CHOICE_VALUES[labels[p]] for p in pair_ids], np.float64)

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
