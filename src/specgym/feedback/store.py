"""The label store: human comparisons in a real database, durable once ``add`` returns.

A label is (pair id, labeller, choice, time). ``add`` commits before it returns,
so whoever acknowledges a label after ``add`` (the web app answers HTTP 2xx)
never acknowledges one a crash can lose. The default is an SQLite file in WAL
mode with ``synchronous=FULL`` (a committed label survives a killed process and
a power cut); a ``postgresql://`` URL puts a team of labellers on one shared
database (needs the optional ``psycopg`` package). The SQL is the portable
subset both speak; only the placeholder style differs.

A labeller labels a pair at most once: a second label for the same
(pair, labeller) is a replay and raises :class:`ReplayedLabel`; the database's
primary key enforces it, so two racing requests cannot both get in.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

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


class LabelStore:
    """One database connection shared by the app's threads (a lock serialises its use)."""

    def __init__(self, connection, placeholder: str, integrity_error: type, url: str):
        self._db = connection
        self._ph = placeholder
        self._integrity_error = integrity_error
        self._lock = threading.Lock()
        self.url = url
        with self._lock:
            self._db.cursor().execute(SCHEMA)
            self._db.commit()

    def add(self, pair_id: str, choice: str, labeller: str = "") -> None:
        """Store one label and commit it; raises BadChoice, ReplayedLabel or LabelError."""
        check_label(pair_id, choice, labeller)
        sql = ("INSERT INTO specgym_labels (pair_id, labeller, choice, created_at) "
               f"VALUES ({self._ph}, {self._ph}, {self._ph}, {self._ph})")
        with self._lock:
            try:
                self._db.cursor().execute(sql, (pair_id, labeller, choice, time.time()))
                self._db.commit()
            except self._integrity_error:
                self._db.rollback()
                raise ReplayedLabel(f"pair {pair_id!r} is already labelled by {labeller or 'this labeller'!r}") from None
            except BaseException:
                self._db.rollback()
                raise

    def _rows(self, labeller: str | None) -> list[tuple]:
        sql = "SELECT pair_id, choice, labeller FROM specgym_labels"
        args: tuple = ()
        if labeller is not None:
            sql += f" WHERE labeller = {self._ph}"
            args = (labeller,)
        with self._lock:
            cursor = self._db.cursor()
            cursor.execute(sql + " ORDER BY created_at, pair_id, labeller", args)
            rows = cursor.fetchall()
            self._db.commit()  # end the read transaction so the next read sees new commits
        return rows

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
            self._db.close()

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
    try:
        # isolation_level=None would autocommit; keep explicit commits so add() is one transaction.
        db = sqlite3.connect(file, timeout=30.0, check_same_thread=False)
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA busy_timeout=30000")
    except sqlite3.DatabaseError as error:
        raise StoreUnavailable(f"cannot open label database {str(file)!r}: {error}") from None
    if mode.lower() != "wal":
        db.close()
        raise StoreUnavailable(f"label database {str(file)!r} cannot use WAL mode (got {mode!r})")
    return LabelStore(db, "?", sqlite3.IntegrityError, url)


def _open_postgres(url: str) -> LabelStore:
    try:
        import psycopg
    except ImportError:
        raise StoreUnavailable("a postgresql:// label database needs psycopg: pip install 'psycopg[binary]'") from None
    try:
        db = psycopg.connect(url)
    except psycopg.Error as error:
        raise StoreUnavailable(f"cannot connect to the label database: {str(error).strip()}") from None
    return LabelStore(db, "%s", psycopg.IntegrityError, url)


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
