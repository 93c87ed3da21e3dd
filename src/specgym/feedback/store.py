"""The label store: human comparisons in a real database, durable once ``add`` returns.

A label is (pair id, labeller, choice, time). ``add`` commits before it returns,
so whoever acknowledges a label after ``add`` (the web app answers HTTP 2xx)
never acknowledges one a crash can lose. The default is an SQLite file in WAL
mode with ``synchronous=FULL`` (a committed label survives a killed process and
a power cut); a ``postgresql://`` URL puts a team of labellers on one shared
database (needs the optional ``psycopg`` package). The SQL is the portable
subset both speak; only the placeholder style differs.

The pairs waiting for a label live beside the run's clips, one JSON line per pair
in ``RUN_DIR/queries.jsonl`` (appended by the loop, read by the web app); the
queue section below reads and appends it.

A labeller labels a pair at most once: a second label for the same
(pair, labeller) is a replay and raises :class:`ReplayedLabel`; the database's
primary key enforces it, so two racing requests cannot both get in.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHOICES = ("left", "right", "equal", "cant_tell")
"""What a person can answer about a pair, in the order the page shows them."""

MAX_ID_LENGTH = 200
"""Longest pair id or labeller name the store accepts (ids are short slugs; this stops abuse)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS specgym_labels (
    pair_id VARCHAR(200) NOT NULL,
    labeller VARCHAR(200) NOT NULL,
    choice VARCHAR(16) NOT NULL CHECK (choice IN ('left', 'right', 'equal', 'cant_tell')),
    created_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (pair_id, labeller)
)
"""


class LabelError(ValueError):
    """A label the store refuses; the message says why in one line."""


class BadChoice(LabelError):
    """The choice is not one of :data:`CHOICES`."""


class ReplayedLabel(LabelError):
    """This labeller already labelled this pair."""


class StoreUnavailable(RuntimeError):
    """The database cannot be opened or reached (bad URL, missing driver, server down)."""


def check_label(pair_id, choice, labeller) -> None:
    """Refuse a malformed label before it reaches the database."""
    if choice not in CHOICES:
        raise BadChoice(f"bad choice {choice!r}; valid: {', '.join(CHOICES)}")
    for name, value in (("pair id", pair_id), ("labeller", labeller)):
        if not isinstance(value, str) or len(value) > MAX_ID_LENGTH or "\x00" in value:
            raise LabelError(f"{name} must be a string of at most {MAX_ID_LENGTH} characters")
    if not pair_id:
        raise LabelError("pair id must not be empty")


@dataclass(frozen=True)
class Backend:
    """What differs between databases: how to connect, the placeholder, the driver's error classes."""

    connect: Callable[[], Any]
    """Opens a new DB-API connection (raises ``operational_error`` when it cannot)."""
    placeholder: str
    """Parameter marker in SQL: ``?`` (sqlite3) or ``%s`` (psycopg)."""
    integrity_error: type[Exception]
    """Raised on a primary-key clash: the replay."""
    operational_error: type[Exception]
    """Raised when the database is unreachable, locked past its timeout, or out of disk."""


class LabelStore:
    """One database connection shared by the app's threads (a lock serialises its use).

    A failing connection (a PostgreSQL restart, a full disk) raises StoreUnavailable and is
    dropped; the next call reconnects, so a server outlives a database restart.
    """

    def __init__(self, backend: Backend, url: str):
        self._backend, self._ph, self.url = backend, backend.placeholder, url
        self._db = None
        self._lock = threading.Lock()
        with self._lock:
            self._connection()

    def _connection(self):
        if self._db is None:
            try:
                db = self._backend.connect()
            except self._backend.operational_error as error:
                raise StoreUnavailable(f"cannot use the label database {self.url}: {str(error).strip()}") from None
            try:
                for attempt in range(2):
                    try:
                        db.cursor().execute(SCHEMA)
                        db.commit()
                        break
                    except self._backend.integrity_error:
                        # PostgreSQL: two servers creating the table at once; the other one won, so retry.
                        db.rollback()
                        if attempt:
                            raise
            except self._backend.operational_error as error:
                db.close()
                raise StoreUnavailable(f"cannot use the label database {self.url}: {str(error).strip()}") from None
            self._db = db
        return self._db

    def _drop_connection(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except Exception:
                pass
        self._db = None

    def _execute(self, sql: str, args: tuple, fetch: bool) -> list[tuple]:
        """One statement in its own committed transaction."""
        with self._lock:
            db = self._connection()
            try:
                cursor = db.cursor()
                cursor.execute(sql, args)
                rows = cursor.fetchall() if fetch else []
                db.commit()  # for reads, ends the transaction so the next read sees new commits
                return rows
            except self._backend.integrity_error:
                db.rollback()
                raise
            except self._backend.operational_error as error:
                self._drop_connection()
                raise StoreUnavailable(f"label database error: {str(error).strip()}") from None
            except BaseException:
                self._drop_connection()
                raise

    def add(self, pair_id: str, choice: str, labeller: str = "") -> None:
        """Store one label and commit it; raises BadChoice, ReplayedLabel, LabelError or StoreUnavailable."""
        check_label(pair_id, choice, labeller)
        sql = ("INSERT INTO specgym_labels (pair_id, labeller, choice, created_at) "
               f"VALUES ({self._ph}, {self._ph}, {self._ph}, {self._ph})")
        try:
            self._execute(sql, (pair_id, labeller, choice, time.time()), fetch=False)
        except self._backend.integrity_error:
            raise ReplayedLabel(f"pair {pair_id!r} is already labelled by {labeller or 'this labeller'!r}") from None

    def _rows(self, labeller: str | None) -> list[tuple]:
        sql = "SELECT pair_id, choice, labeller FROM specgym_labels"
        args: tuple = ()
        if labeller is not None:
            sql += f" WHERE labeller = {self._ph}"
            args = (labeller,)
        return self._execute(sql + " ORDER BY created_at, pair_id, labeller", args, fetch=True)

    def labels(self, labeller: str | None = None) -> dict[str, str]:
        """pair id -> choice, in the order labels arrived; with several labellers, the first label wins."""
        out: dict[str, str] = {}
        for pair_id, choice, _ in self._rows(labeller):
            out.setdefault(pair_id, choice)
        return out

    def records(self) -> list[dict]:
        """Every label with its labeller, in arrival order (for agreement between labellers)."""
        return [{"pair_id": p, "choice": c, "labeller": who} for p, c, who in self._rows(None)]

    def count(self, labeller: str | None = None) -> int:
        """Number of labelled pairs (distinct pair ids)."""
        return len(self.labels(labeller))

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _open_sqlite(path: str, url: str) -> LabelStore:
    if not path:
        raise StoreUnavailable(f"no file in database URL {url!r}; use sqlite:///path/to/labels.sqlite")
    file = Path(path)
    if not file.parent.is_dir():
        raise StoreUnavailable(f"directory {str(file.parent)!r} of the label database does not exist")

    def connect():
        db = sqlite3.connect(file, timeout=30.0, check_same_thread=False)
        try:
            mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise sqlite3.OperationalError(f"cannot use WAL mode (journal mode stays {mode!r})")
            db.execute("PRAGMA synchronous=FULL")  # a commit reaches the disk before add() returns
        except BaseException:
            db.close()
            raise
        return db

    # DatabaseError covers "file is not a database" and disk errors as well as OperationalError.
    return LabelStore(Backend(connect, "?", sqlite3.IntegrityError, sqlite3.DatabaseError), url)


def _open_postgres(url: str) -> LabelStore:
    try:
        psycopg = importlib.import_module("psycopg")  # an optional extra, absent from a plain install
    except ImportError:
        raise StoreUnavailable("a postgresql:// label database needs psycopg: pip install 'psycopg[binary]'") from None
    return LabelStore(Backend(lambda: psycopg.connect(url, connect_timeout=10), "%s", psycopg.IntegrityError,
                              psycopg.OperationalError), url)


def sqlite_url(path: str | Path) -> str:
    """The database URL of an SQLite file."""
    return f"sqlite:///{Path(path)}"


def open_store(url: str) -> LabelStore:
    """``sqlite:///path`` (a plain file path works too) or ``postgresql://user@host/db``."""
    if url.startswith("sqlite:///"):
        return _open_sqlite(url[len("sqlite:///"):], url)
    if url.startswith(("postgresql://", "postgres://")):
        return _open_postgres(url)
    if "://" in url:
        raise StoreUnavailable(f"unknown database URL {url!r}; use sqlite:///path or postgresql://...")
    return _open_sqlite(url, sqlite_url(url))


# ----- the queue: pairs waiting for a label, in RUN_DIR/queries.jsonl -------------------------
CLIP_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")
"""What a clip id may look like: it names a file under clips/, so no slashes."""


@dataclass(frozen=True)
class Query:
    """One queued comparison: two clip ids and the round of the loop that asked for it."""

    pair_id: str
    left: str
    right: str
    round: int = 0


def parse_query(line: str) -> Query | None:
    """A query from one line of queries.jsonl, or None for a line that is not one (e.g. half-written)."""
    try:
        item = json.loads(line)
    except ValueError:
        return None
    if not isinstance(item, dict):
        return None
    pair_id, left, right, round_ = item.get("pair_id"), item.get("left"), item.get("right"), item.get("round", 0)
    if not (isinstance(pair_id, str) and 0 < len(pair_id) <= 200 and isinstance(round_, int)):
        return None
    if not (isinstance(left, str) and CLIP_ID.fullmatch(left) and isinstance(right, str) and CLIP_ID.fullmatch(right)):
        return None
    return Query(pair_id, left, right, round_)


class RunQueue:
    """The pairs queued in ``RUN_DIR/queries.jsonl``, re-read whenever the file changes (the loop appends)."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / "queries.jsonl"
        self._lock = threading.Lock()
        self._stamp = None
        self._queries: list[Query] = []
        self.skipped_lines = 0

    def queries(self) -> list[Query]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return []
        with self._lock:
            if (stat.st_mtime_ns, stat.st_size) != self._stamp:
                text = self.path.read_bytes().decode("utf-8", errors="replace")
                parsed, seen, skipped = [], set(), 0
                for line in filter(str.strip, text.splitlines()):
                    query = parse_query(line)
                    if query is None or query.pair_id in seen:
                        skipped += 1
                        continue
                    seen.add(query.pair_id)
                    parsed.append(query)
                self._queries, self.skipped_lines = parsed, skipped
                self._stamp = (stat.st_mtime_ns, stat.st_size)
            return self._queries


def append_queries(run_dir: Path, queries: list[dict]) -> None:
    """Append query lines (pair_id, left, right, round) and fsync, after their clips are on disk."""
    if not queries:
        return
    with open(Path(run_dir) / "queries.jsonl", "a") as f:
        f.write("".join(json.dumps(q) + "\n" for q in queries))
        f.flush()
        os.fsync(f.fileno())
