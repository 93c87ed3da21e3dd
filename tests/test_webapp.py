"""The labelling web app over HTTP: labels stored only when valid, every bad request a 4xx, store untouched."""

import dataclasses
import http.client
import json
import sqlite3
import threading
import time

import numpy as np
import pytest

from specgym.feedback.human import write_clip
from specgym.feedback.store import append_queries, open_store
from specgym.feedback.webapp import MAX_BODY, make_server


def clip_frames(seed: int, steps: int = 4, size: int = 32) -> list[np.ndarray]:
    """A square of a per-clip colour sliding down the diagonal."""
    colour = np.random.default_rng(seed).integers(0, 200, 3)
    frames = []
    for t in range(steps):
        frame = np.full((size, size, 3), 255, np.uint8)
        frame[6 * t:6 * t + 8, 6 * t:6 * t + 8] = colour
        frames.append(frame)
    return frames


def make_run_dir(run_dir, num_pairs: int, first: int = 0, round_: int = 0):
    """A run directory with ``num_pairs`` queued pairs p<i> of clips c<i>a / c<i>b."""
    queries = []
    for i in range(first, first + num_pairs):
        write_clip(run_dir, f"c{i}a", clip_frames(2 * i))
        write_clip(run_dir, f"c{i}b", clip_frames(2 * i + 1))
        queries.append({"pair_id": f"p{i}", "left": f"c{i}a", "right": f"c{i}b", "round": round_})
    append_queries(run_dir, queries)
    return run_dir


def stored_rows(run_dir):
    with sqlite3.connect(run_dir / "labels.sqlite") as db:
        return sorted(db.execute("SELECT pair_id, labeller, choice, created_at FROM specgym_labels").fetchall())


class Client:
    """Raw HTTP, so tests control every header and byte."""

    def __init__(self, server):
        self.host, self.port = server.server_address[:2]

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        content_type = response.getheader("Content-Type", "")
        payload = json.loads(data) if content_type.startswith("application/json") else data
        return response.status, payload, response

    def label(self, pair_id, choice):
        body = json.dumps({"pair_id": pair_id, "choice": choice})
        return self.request("POST", "/api/labels", body, {"Content-Type": "application/json"})

    def state(self):
        return self.request("GET", "/api/state")[1]


@pytest.fixture
def served(tmp_path):
    make_run_dir(tmp_path, 4)
    server = make_server(tmp_path, port=0).start()
    yield tmp_path, server, Client(server)
    server.stop()


def test_serves_pairs_in_order_and_stores_labels(served):
    run_dir, server, client = served
    state = client.state()
    assert (state["labelled"], state["budget"], state["remaining"]) == (0, 4, 4)
    assert state["pair"]["pair_id"] == "p0" and state["pair"]["left_url"] == "/clips/c0a.gif"
    status, reply, _ = client.label("p0", "right")
    assert status == 201 and reply["stored"] == {"pair_id": "p0", "choice": "right"}
    assert reply["state"]["pair"]["pair_id"] == "p1" and reply["state"]["labelled"] == 1
    assert [r[:3] for r in stored_rows(run_dir)] == [("p0", "", "right")]
    status, gif, response = client.request("GET", "/clips/c1b.gif")
    assert status == 200 and gif[:6] == b"GIF89a" and response.getheader("Content-Type") == "image/gif"
    assert gif == (run_dir / "clips" / "c1b.gif").read_bytes()
    status, page, response = client.request("GET", "/")
    assert status == 200 and b"/static/app.js" in page
    assert "default-src 'self'" in response.getheader("Content-Security-Policy")


def test_pair_waits_for_its_clips_and_new_queries_appear(tmp_path):
    make_run_dir(tmp_path, 1)
    append_queries(tmp_path, [{"pair_id": "late", "left": "c9a", "right": "c9b", "round": 1}])
    with (tmp_path / "queries.jsonl").open("a") as f:
        f.write('{"pair_id": "half-writ')  # a line still being written
    server = make_server(tmp_path, port=0).start()
    client = Client(server)
    try:
        assert client.label("p0", "left")[0] == 201
        state = client.state()
        assert (state["remaining"], state["pair"], state["skipped_lines"]) == (1, None, 1)
        assert client.request("GET", "/clips/c9a.gif")[0] == 404  # queued, GIF not written yet
        write_clip(tmp_path, "c9a", clip_frames(1))
        write_clip(tmp_path, "c9b", clip_frames(2))
        assert client.state()["pair"]["pair_id"] == "late"
        with (tmp_path / "queries.jsonl").open("a") as f:
            f.write('ten"}\n')  # the half line completes as junk: still no query
        make_run_dir(tmp_path, 1, first=5, round_=2)
        assert client.label("late", "equal")[0] == 201
        state = client.state()
        assert state["pair"]["pair_id"] == "p5" and state["queued"] == 3
    finally:
        server.stop()


JSON = {"Content-Type": "application/json"}
GOOD = json.dumps({"pair_id": "p1", "choice": "left"}).encode()

BAD_REQUESTS = {
    # name: (method, path, body, headers, status)
    "unknown pair id": ("POST", "/api/labels", b'{"pair_id": "p99", "choice": "left"}', JSON, 404),
    "replayed label": ("POST", "/api/labels", b'{"pair_id": "p0", "choice": "right"}', JSON, 409),
    "replayed same label": ("POST", "/api/labels", b'{"pair_id": "p0", "choice": "left"}', JSON, 409),
    "bad choice": ("POST", "/api/labels", b'{"pair_id": "p1", "choice": "both"}', JSON, 400),
    "choice not a string": ("POST", "/api/labels", b'{"pair_id": "p1", "choice": 1}', JSON, 400),
    "pair id not a string": ("POST", "/api/labels", b'{"pair_id": ["p1"], "choice": "left"}', JSON, 400),
    "missing choice": ("POST", "/api/labels", b'{"pair_id": "p1"}', JSON, 400),
    "extra field": ("POST", "/api/labels", b'{"pair_id": "p1", "choice": "left", "x": 1}', JSON, 400),
    "not json": ("POST", "/api/labels", b"pair_id=p1&choice=left", JSON, 400),
    "truncated json": ("POST", "/api/labels", GOOD[:-3], JSON, 400),
    "json list": ("POST", "/api/labels", b'["p1", "left"]', JSON, 400),
    "json null": ("POST", "/api/labels", b"null", JSON, 400),
    "empty body": ("POST", "/api/labels", b"", JSON, 400),
    "not utf-8": ("POST", "/api/labels", b'{"pair_id": "p\xff1", "choice": "left"}', JSON, 400),
    "deep nesting": ("POST", "/api/labels", b"[" * 4000, JSON, 400),
    "text content type": ("POST", "/api/labels", GOOD, {"Content-Type": "text/plain"}, 415),
    "form content type": ("POST", "/api/labels", GOOD, {"Content-Type": "application/x-www-form-urlencoded"}, 415),
    "no content type": ("POST", "/api/labels", GOOD, {}, 415),
    "oversize body": ("POST", "/api/labels", b" " * (MAX_BODY + 1), JSON, 413),
    "huge body": ("POST", "/api/labels", b"x" * 300_000, JSON, 413),
    "huge length claimed": ("POST", "/api/labels", GOOD, {**JSON, "Content-Length": str(10 ** 10)}, 413),
    "bad length": ("POST", "/api/labels", GOOD, {**JSON, "Content-Length": "-5"}, 400),
    "chunked": ("POST", "/api/labels", [GOOD], {**JSON, "Transfer-Encoding": "chunked"}, 411),
    "unknown path": ("GET", "/admin", None, {}, 404),
    "unknown api path": ("POST", "/api/label", GOOD, JSON, 404),
    "unqueued clip": ("GET", "/clips/c99a.gif", None, {}, 404),
    "path traversal clip": ("GET", "/clips/../labels.sqlite", None, {}, 404),
    "path traversal static": ("GET", "/static/../store.py", None, {}, 404),
    "missing static": ("GET", "/static/nothing.js", None, {}, 404),
    "get labels": ("GET", "/api/labels", None, {}, 405),
    "post state": ("POST", "/api/state", GOOD, JSON, 405),
    "put labels": ("PUT", "/api/labels", GOOD, JSON, 405),
    "delete page": ("DELETE", "/", None, {}, 405),
    "invented method": ("BREW", "/api/labels", None, {}, 405),
    "foreign host": ("GET", "/api/state", None, {"Host": "attacker.example:8765"}, 400),
}


@pytest.mark.parametrize("name", list(BAD_REQUESTS))
def test_bad_request_gets_a_4xx_and_leaves_the_store_alone(served, name):
    run_dir, server, client = served
    assert client.label("p0", "left")[0] == 201
    before = stored_rows(run_dir)
    method, path, body, headers, expected = BAD_REQUESTS[name]
    status, reply, response = client.request(method, path, body, headers)
    assert status == expected, reply
    assert isinstance(reply["error"], str) and reply["error"] and reply["status"] == expected
    if expected == 405:
        assert response.getheader("Allow") in ("GET", "POST")
    assert stored_rows(run_dir) == before
    with sqlite3.connect(run_dir / "labels.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert client.label("p1", "equal")[0] == 201  # and the server still works
    assert client.state()["pair"]["pair_id"] == "p2"


def test_database_outage_is_a_503_and_the_server_recovers(served):
    run_dir, server, client = served
    store = server.session.store
    working = store._backend

    def refuse():
        raise sqlite3.OperationalError("disk I/O error")

    store._backend = dataclasses.replace(working, connect=refuse)
    store._db.close()  # the connection breaks; reconnecting fails until the "disk" is back
    try:
        status, reply, _ = client.label("p0", "left")
        assert status == 503 and "closed database" in reply["error"]
        status, reply, _ = client.label("p0", "left")
        assert status == 503 and reply["error"].endswith("disk I/O error")
        assert client.request("GET", "/api/state")[0] == 503
    finally:
        store._backend = working
    assert stored_rows(run_dir) == []
    assert client.label("p0", "left")[0] == 201
    assert [r[:3] for r in stored_rows(run_dir)] == [("p0", "", "left")]


def test_racing_labels_for_one_pair_store_exactly_one(served):
    run_dir, server, client = served
    statuses = []
    threads = [threading.Thread(target=lambda c=c: statuses.append(client.label("p2", c)[0]))
               for c in ["left", "right", "equal", "cant_tell"] * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] + [409] * 11
    assert len(stored_rows(run_dir)) == 1


def test_restart_resumes_with_the_unlabelled_pairs(tmp_path):
    make_run_dir(tmp_path, 3)
    server = make_server(tmp_path, port=0).start()
    assert Client(server).label("p1", "cant_tell")[0] == 201
    server.stop()
    server = make_server(tmp_path, port=0, budget=10).start()
    client = Client(server)
    try:
        state = client.state()
        assert (state["labelled"], state["budget"], state["remaining"], state["pair"]["pair_id"]) == (1, 10, 2, "p0")
        assert client.label("p1", "left")[0] == 409
        assert client.label("p0", "left")[0] == 201
        assert client.state()["pair"]["pair_id"] == "p2"
    finally:
        server.stop()


def test_retraining_runs_beside_the_acknowledgements(tmp_path):
    make_run_dir(tmp_path, 4)
    release, entered, calls = threading.Event(), threading.Event(), []

    def on_label(labels):
        calls.append(dict(labels))
        entered.set()
        release.wait(10)
        if len(labels) == 3:
            raise RuntimeError("reward model diverged")
        return {"labels": len(labels), "heldout_accuracy": np.float32(0.75), "loss": float("nan")}

    server = make_server(tmp_path, port=0, on_label=on_label).start()
    client = Client(server)
    try:
        assert client.label("p0", "left")[0] == 201
        assert entered.wait(10)
        # the callback is now blocked, yet further labels are acknowledged and queue one more retraining
        assert client.label("p1", "right")[0] == 201
        assert client.state()["retraining"] is True
        release.set()
        assert server.session.retrainer.wait_idle(10)
        state = client.state()
        assert state["stats"] == {"labels": 2, "heldout_accuracy": 0.75, "loss": None}
        assert state["retraining"] is False and state["stats_error"] is None
        assert calls[0] == {"p0": "left"} and calls[-1] == {"p0": "left", "p1": "right"} and len(calls) <= 2
        assert client.label("p2", "equal")[0] == 201  # a failing retraining never fails the label
        assert server.session.retrainer.wait_idle(10)
        state = client.state()
        assert state["stats_error"] == "RuntimeError: reward model diverged" and state["stats"]["labels"] == 2
        assert [r[2] for r in stored_rows(tmp_path)] == ["left", "right", "equal"]
    finally:
        release.set()
        server.stop()


def test_cli_refuses_a_missing_run_dir_and_a_busy_port(tmp_path, capsys):
    from specgym.cli import main

    assert main(["label", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    make_run_dir(tmp_path, 1)
    server = make_server(tmp_path, port=0).start()
    try:
        assert main(["label", str(tmp_path), "--port", str(server.server_address[1]), "--no-retrain"]) == 2
        assert "cannot listen" in capsys.readouterr().err
    finally:
        server.stop()


def test_a_team_shares_one_queue(tmp_path, url):
    make_run_dir(tmp_path, 3)
    ana = make_server(tmp_path, url, port=0, labeller="ana").start()
    ben = make_server(tmp_path, url, port=0, labeller="ben").start()
    try:
        assert Client(ana).label("p0", "left")[0] == 201
        assert Client(ben).state()["pair"]["pair_id"] == "p1"
        status, reply, _ = Client(ben).label("p0", "right")
        assert status == 409 and "already labelled" in reply["error"]
        assert Client(ben).label("p1", "right")[0] == 201
        with open_store(url) as store:
            assert store.records() == [{"pair_id": "p0", "choice": "left", "labeller": "ana"},
                                       {"pair_id": "p1", "choice": "right", "labeller": "ben"}]
    finally:
        ana.stop()
        ben.stop()


def test_stopping_lets_a_running_retraining_finish(tmp_path):
    make_run_dir(tmp_path, 2)
    started, finished = threading.Event(), []

    def on_label(labels):
        started.set()
        time.sleep(0.3)
        finished.append(len(labels))
        return {"labels": len(labels)}

    server = make_server(tmp_path, port=0, on_label=on_label).start()
    assert Client(server).label("p0", "left")[0] == 201
    assert started.wait(10)
    server.stop(wait_for_retraining=10)
    assert finished == [1] and not server.session.retrainer._thread.is_alive()
