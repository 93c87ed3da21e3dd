"""The label store: commits before returning, refuses replays and bad choices, survives reopening.

The backend-independent tests also run on PostgreSQL when ``SPECGYM_TEST_POSTGRES_URL`` names a
scratch database (they use schemas ``specgym_test_*`` in it, emptied before each test) and psycopg
is installed.
"""

import sqlite3
import subprocess
import sys
import threading

import pytest

from specgym.feedback.store import (
    CHOICES,
    BadChoice,
    LabelError,
    ReplayedLabel,
    StoreUnavailable,
    open_store,
    sqlite_url,
)


def raw_rows(url):
    """What a separate connection sees: only committed rows."""
    with open_store(url) as other:
        return sorted((r["pair_id"], r["labeller"], r["choice"]) for r in other.records())


def test_add_is_committed_before_it_returns(url):
    store = open_store(url)
    store.add("p0", "left")
    store.add("p1", "cant_tell", labeller="ana")
    assert raw_rows(url) == [("p0", "", "left"), ("p1", "ana", "cant_tell")]
    store.close()


def test_label_survives_a_killed_process(url):
    # The writer exits with os._exit right after add(): no close, no atexit, no flush by Python.
    code = (f"import os; from specgym.feedback.store import open_store; s = open_store({url!r}); "
            "s.add('p7', 'right'); os._exit(9)")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 9
    with open_store(url) as store:
        assert store.labels() == {"p7": "right"}


def test_wal_mode_and_full_sync(db_path):
    store = open_store(str(db_path))  # a plain path works like sqlite:///
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.add("p0", "equal")
    assert (db_path.parent / "labels.sqlite-wal").exists()
    store.close()


def test_replay_is_rejected_and_keeps_the_first_label(url):
    store = open_store(url)
    store.add("p0", "left", labeller="ana")
    with pytest.raises(ReplayedLabel, match="already labelled"):
        store.add("p0", "right", labeller="ana")
    store.add("p0", "right", labeller="ben")  # another labeller may label the same pair
    assert store.labels() == {"p0": "left"}
    assert store.labels(labeller="ben") == {"p0": "right"}
    assert [r["labeller"] for r in store.records()] == ["ana", "ben"]
    store.add("p1", "equal", labeller="ana")  # the failed insert left the connection usable
    assert raw_rows(url) == [("p0", "ana", "left"), ("p0", "ben", "right"), ("p1", "ana", "equal")]
    store.close()


@pytest.mark.parametrize("choice", ["LEFT", "up", "", None, 1, "cant tell"])
def test_bad_choice_is_rejected(url, choice):
    store = open_store(url)
    with pytest.raises(BadChoice, match="valid: left, right, equal, cant_tell"):
        store.add("p0", choice)
    assert store.count() == 0
    store.close()


@pytest.mark.parametrize("pair_id, labeller", [("", ""), (None, ""), ("x" * 201, ""), ("p0", 5), ("p\x000", "")])
def test_bad_ids_are_rejected(url, pair_id, labeller):
    store = open_store(url)
    with pytest.raises(LabelError):
        store.add(pair_id, "left", labeller=labeller)
    assert raw_rows(url) == []
    store.close()


def test_database_refuses_bad_choice_even_behind_the_store(db_path):
    open_store(sqlite_url(db_path)).close()
    with sqlite3.connect(db_path) as raw, pytest.raises(sqlite3.IntegrityError):
        raw.execute("INSERT INTO specgym_labels VALUES ('p0', '', 'sideways', 0.0)")


def test_reopen_keeps_labels_in_arrival_order(url):
    store = open_store(str(url))  # a plain path works like sqlite:///
    for i, choice in enumerate(["right", "left", "equal", "cant_tell"]):
        store.add(f"p{3 - i}", choice)
    store.close()
    again = open_store(url)
    assert list(again.labels().items()) == [("p3", "right"), ("p2", "left"), ("p1", "equal"), ("p0", "cant_tell")]
    assert again.count() == 4
    with pytest.raises(ReplayedLabel):
        again.add("p2", "right")
    again.close()


def errors_in_threads(work, count: int) -> list:
    """Run ``work(i)`` for i in range(count) on as many threads at once; the exceptions they raised."""
    errors = []

    def guarded(i):
        try:
            work(i)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_concurrent_writers_lose_nothing(url):
    store = open_store(url)

    def write(worker):
        for i in range(25):
            store.add(f"p{i}", CHOICES[worker % 4], labeller=f"w{worker}")

    assert errors_in_threads(write, 4) == []
    assert len(raw_rows(url)) == 100
    store.close()


def test_a_second_connection_sees_new_labels(url):
    reader, writer = open_store(url), open_store(url)
    assert reader.labels() == {}
    writer.add("p0", "left")
    assert reader.labels() == {"p0": "left"}
    with pytest.raises(ReplayedLabel):
        reader.add("p0", "right")
    reader.close()
    writer.close()


def test_bad_urls_give_one_clear_error(tmp_path, monkeypatch):
    with pytest.raises(StoreUnavailable, match="unknown database URL"):
        open_store("mysql://host/db")
    with pytest.raises(StoreUnavailable, match="does not exist"):
        open_store(sqlite_url(tmp_path / "missing" / "labels.sqlite"))
    (tmp_path / "junk.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreUnavailable, match="cannot use the label database .*junk.sqlite: file is not a database"):
        open_store(sqlite_url(tmp_path / "junk.sqlite"))
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    with pytest.raises(StoreUnavailable, match="needs psycopg"):
        open_store("postgresql://labeller@localhost/labels")


def cut_connection(store, url):
    """Break the store's connection behind its back (a database restart, a dropped network)."""
    if url.startswith("sqlite"):
        store._db.close()
    else:
        import psycopg

        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (store._db.info.backend_pid,))


def test_lost_connection_is_reported_then_reconnected(url):
    store = open_store(url)
    store.add("p0", "left")
    cut_connection(store, url)
    with pytest.raises(StoreUnavailable, match="label database error"):
        store.add("p1", "right")
    store.add("p1", "right")  # the next call reconnects
    assert store.labels() == {"p0": "left", "p1": "right"}
    store.close()


def test_servers_starting_together_on_a_fresh_database(url):
    # Several labellers' servers creating the table at the same moment must all come up.
    barrier, stores = threading.Barrier(6), []

    def start(i):
        barrier.wait()
        stores.append(open_store(url))

    assert errors_in_threads(start, 6) == [] and len(stores) == 6
    for i, store in enumerate(stores):
        store.add("p0", "left", labeller=f"w{i}")
    assert len(raw_rows(url)) == 6
    for store in stores:
        store.close()
