"""The labelling web app: a person compares two clips at a time in a browser.

It serves the pairs queued in a run directory (``queries.jsonl``, ``clips/*.gif``)
that have no label yet, in file order, and writes each answer to the label store.
A label is acknowledged (HTTP 201) only after the store has committed it, so
killing the server at any moment loses nothing it acknowledged, and a restart
resumes with the pairs still unlabelled.

Only the standard library: ``http.server.ThreadingHTTPServer`` and the store.
Every request a client can get wrong ends in a 4xx with a one-line JSON error,
decided before the store is touched: unknown path 404, wrong method 405, body
without a length 411, body over :data:`MAX_BODY` bytes 413 (refused from its
Content-Length, before reading it), not JSON 415/400, unknown pair 404, pair
already labelled 409. POSTs must be ``application/json``, which a foreign web
page cannot send without a CORS preflight this server never grants; on a
loopback address the Host header must name the loopback too (no DNS rebinding).

``specgym label RUN_DIR`` runs it.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
import re
import socket
import threading
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from specgym.feedback.store import (
    CHOICES,
    LabelError,
    LabelStore,
    ReplayedLabel,
    RunQueue,
    StoreUnavailable,
    open_store,
    sqlite_url,
)

MAX_BODY = 4096
"""Largest request body accepted, in bytes (a label is about 60)."""

DRAIN_LIMIT = 1 << 20
"""After refusing an oversize body, read and discard at most this much so the client sees the 413."""

STATIC_DIR = Path(__file__).with_name("static")
STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".css": "text/css; charset=utf-8"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "[::1]", "::1"}


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class RequestError(Exception):
    """A request the app refuses: an HTTP status and a one-line reason for the client."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = int(status), message, headers or {}


def _jsonable(value):
    """Stats as plain JSON (numpy numbers to floats; NaN and infinities to null, which JSON lacks)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return number if math.isfinite(number) else None


class Retrainer:
    """Runs ``on_label(labels) -> stats`` off the request path; labels arriving meanwhile share the next run."""

    def __init__(self, on_label, store: LabelStore):
        self._on_label, self._store = on_label, store
        self._changed = threading.Condition()
        self._dirty = self._running = self._closed = False
        self.stats: dict | None = None
        self.error: str | None = None
        self.runs = 0
        self._thread = threading.Thread(target=self._loop, name="specgym-retrain", daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        return self._dirty or self._running

    def notify(self) -> None:
        with self._changed:
            self._dirty = True
            self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: not self.busy, timeout)

    def close(self, wait: float = 0.0) -> None:
        """Stop after the running retraining, waiting for it up to ``wait`` seconds."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._thread.join(wait)

    def _loop(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._dirty or self._closed)
                if self._closed:
                    return
                self._dirty, self._running = False, True
            try:
                self.stats, self.error = _jsonable(dict(self._on_label(self._store.labels()))), None
            except Exception as error:  # a failing retrain must not stop labelling; the page shows it
                self.error = f"{type(error).__name__}: {error}"
            finally:
                with self._changed:
                    self._running = False
                    self.runs += 1
                    self._changed.notify_all()


class LabelSession:
    """The labelling state: the run's queue, the store, the budget and the optional retrainer."""

    def __init__(self, run_dir, store: LabelStore, budget: int | None = None, labeller: str = "", on_label=None):
        self.run_dir, self.store, self.budget, self.labeller = Path(run_dir), store, budget, labeller
        self.queue = RunQueue(self.run_dir)
        self._submit = threading.Lock()
        self.retrainer = Retrainer(on_label, store) if on_label is not None else None
        if self.retrainer is not None and store.count() > 0:
            self.retrainer.notify()  # a resumed session shows the model trained on the labels it already has

    def _clip_ready(self, clip: str) -> bool:
        return (self.run_dir / "clips" / f"{clip}.gif").is_file()

    def state(self) -> dict:
        """Progress, the next pair to show (the first unlabelled one whose clips exist) and the latest stats."""
        labels, queries = self.store.labels(), self.queue.queries()
        pending = [q for q in queries if q.pair_id not in labels]
        shown = next((q for q in pending if self._clip_ready(q.left) and self._clip_ready(q.right)), None)
        pair = None if shown is None else {
            "pair_id": shown.pair_id, "round": shown.round, "left": shown.left, "right": shown.right,
            "left_url": f"/clips/{shown.left}.gif", "right_url": f"/clips/{shown.right}.gif"}
        retrainer = self.retrainer
        return {"labelled": len(queries) - len(pending), "budget": self.budget or len(queries),
                "queued": len(queries), "remaining": len(pending), "pair": pair, "labeller": self.labeller,
                "stats": None if retrainer is None else retrainer.stats,
                "stats_error": None if retrainer is None else retrainer.error,
                "retraining": bool(retrainer and retrainer.busy), "skipped_lines": self.queue.skipped_lines}

    def submit(self, payload) -> dict:
        """Validate one label from a client and commit it; RequestError (4xx) for anything wrong."""
        if not isinstance(payload, dict):
            raise RequestError(HTTPStatus.BAD_REQUEST, 'body must be a JSON object {"pair_id": ..., "choice": ...}')
        for field in ("pair_id", "choice"):
            if field not in payload:
                raise RequestError(HTTPStatus.BAD_REQUEST, f"missing field {field!r}")
            if not isinstance(payload[field], str):
                raise RequestError(HTTPStatus.BAD_REQUEST, f"field {field!r} must be a string")
        extra = sorted(set(payload) - {"pair_id", "choice"})
        if extra:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"unexpected field {extra[0]!r}; send pair_id and choice")
        pair_id, choice = payload["pair_id"], payload["choice"]
        if choice not in CHOICES:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"bad choice {choice[:40]!r}; valid: {', '.join(CHOICES)}")
        if pair_id not in {q.pair_id for q in self.queue.queries()}:
            raise RequestError(HTTPStatus.NOT_FOUND, f"unknown pair id {pair_id[:80]!r}")
        with self._submit:
            if pair_id in self.store.labels():
                raise RequestError(HTTPStatus.CONFLICT, f"pair {pair_id!r} is already labelled")
            try:
                self.store.add(pair_id, choice, self.labeller)
            except ReplayedLabel as error:
                raise RequestError(HTTPStatus.CONFLICT, str(error)) from None
            except LabelError as error:
                raise RequestError(HTTPStatus.BAD_REQUEST, str(error)) from None
        if self.retrainer is not None:
            self.retrainer.notify()
        return {"pair_id": pair_id, "choice": choice}

    def clip_bytes(self, clip: str) -> bytes:
        """A queued clip's GIF; clips no query names are not served."""
        if not any(clip in (q.left, q.right) for q in self.queue.queries()):
            raise RequestError(HTTPStatus.NOT_FOUND, f"no queued clip {clip!r}")
        try:
            return (self.run_dir / "clips" / f"{clip}.gif").read_bytes()
        except OSError:
            raise RequestError(HTTPStatus.NOT_FOUND, f"clip {clip!r} is queued but its GIF is missing") from None

    def close(self, wait_for_retraining: float = 0.0) -> None:
        if self.retrainer is not None:
            self.retrainer.close(wait_for_retraining)
        self.store.close()


class LabelHandler(BaseHTTPRequestHandler):
    """Routes requests; ``server.session`` holds the state. Any method without a route is 405."""

    server_version = "specgym-label"
    server: LabelServer
    ROUTES = [  # (path pattern, method -> handler name)
        (re.compile(r"/"), {"GET": "get_page"}),
        (re.compile(r"/static/(?P<name>[A-Za-z0-9_-]+\.(?:html|js|css))"), {"GET": "get_static"}),
        (re.compile(r"/clips/(?P<clip>[^/]+)\.gif"), {"GET": "get_clip"}),
        (re.compile(r"/api/state"), {"GET": "get_state"}),
        (re.compile(r"/api/labels"), {"POST": "post_label"}),
    ]

    def log_message(self, format, *args):
        if self.server.verbose:
            super().log_message(format, *args)

    def __getattr__(self, name: str):
        # http.server looks up do_<METHOD>; answering every method here turns its 501 into 404/405.
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    # --- responses -------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str, extra: dict | None = None) -> None:
        self.send_response(status)
        headers = {"Content-Type": content_type, "Content-Length": str(len(body)),
                   "Cache-Control": "no-store", **SECURITY_HEADERS, **(extra or {})}
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: dict, extra: dict | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", extra)

    def _error(self, error: RequestError) -> None:
        self._json(error.status, {"error": error.message, "status": error.status}, error.headers)

    # --- dispatch --------------------------------------------------------------------------
    def _dispatch(self) -> None:
        try:
            self._check_host()
            path = urlsplit(self.path).path
            for pattern, methods in self.ROUTES:
                match = pattern.fullmatch(path)
                if match:
                    if self.command not in methods:
                        raise RequestError(HTTPStatus.METHOD_NOT_ALLOWED,
                                           f"{self.command} is not allowed on {path}; use {', '.join(methods)}",
                                           {"Allow": ", ".join(methods)})
                    getattr(self, methods[self.command])(**match.groupdict())
                    return
            raise RequestError(HTTPStatus.NOT_FOUND, f"no such page: {path}")
        except RequestError as error:
            self._error(error)
        except StoreUnavailable as error:
            self._error(RequestError(HTTPStatus.SERVICE_UNAVAILABLE, str(error)))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:  # a bug, not the client's doing: log it, answer in JSON, keep serving
            traceback.print_exc()
            self._error(RequestError(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error; see the server's log"))

    def _check_host(self) -> None:
        if not _is_loopback(self.server.host):
            return
        host = (self.headers.get("Host") or "").strip().lower()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if name not in LOOPBACK_NAMES:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"unexpected Host header {host!r}: open the page on "
                               "127.0.0.1 or localhost")

    def _read_body(self) -> bytes:
        """The body, refused from its headers alone when it is chunked, missing a length or too big."""
        if self.headers.get("Transfer-Encoding"):
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length, not a chunked body")
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, "missing Content-Length")
        if not length_text.strip().isdigit():
            raise RequestError(HTTPStatus.BAD_REQUEST, f"bad Content-Length {length_text!r}")
        length = int(length_text)
        if length > MAX_BODY:
            self._drain(length)
            raise RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                               f"request body of {length} bytes is over the {MAX_BODY}-byte limit",
                               {"Connection": "close"})
        body = self.rfile.read(length)
        if len(body) != length:
            raise RequestError(HTTPStatus.BAD_REQUEST, "request body shorter than its Content-Length")
        return body

    def _drain(self, length: int) -> None:
        """Discard what the client already sent (never more than DRAIN_LIMIT) so it can read our answer."""
        self.close_connection = True
        self.connection.settimeout(0.5)
        left = min(length, DRAIN_LIMIT)
        try:
            while left > 0:
                chunk = self.rfile.read1(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
        except (OSError, ValueError):
            pass

    # --- routes ----------------------------------------------------------------------------
    def get_page(self) -> None:
        self.get_static("index.html")

    def get_static(self, name: str) -> None:
        file = STATIC_DIR / name
        if not file.is_file():
            raise RequestError(HTTPStatus.NOT_FOUND, f"no such file: /static/{name}")
        self._send(HTTPStatus.OK, file.read_bytes(), STATIC_TYPES[file.suffix])

    def get_clip(self, clip: str) -> None:
        data = self.server.session.clip_bytes(clip)
        self._send(HTTPStatus.OK, data, "image/gif", {"Cache-Control": "max-age=3600, immutable"})

    def get_state(self) -> None:
        self._json(HTTPStatus.OK, self.server.session.state())

    def post_label(self) -> None:
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise RequestError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                               f"send the label as application/json, not {content_type or 'no content type'!r}")
        body = self._read_body()
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise RequestError(HTTPStatus.BAD_REQUEST, "body is not valid UTF-8 JSON") from None
        stored = self.server.session.submit(payload)
        self._json(HTTPStatus.CREATED, {"stored": stored, "state": self.server.session.state()})


class LabelServer(ThreadingHTTPServer):
    """The HTTP server bound to one labelling session."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, session: LabelSession, host: str = "127.0.0.1", port: int = 0, verbose: bool = False):
        self.session, self.verbose = session, verbose
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), LabelHandler)
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        """The address it listens on; an AF_INET or AF_INET6 socket always names it in text."""
        return str(self.server_address[0])

    @property
    def url(self) -> str:
        host, port = self.host, self.server_address[1]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"

    def start(self) -> LabelServer:
        """Serve from a background thread (for tests and the human evaluator)."""
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), name="specgym-label", daemon=True)
        self._thread.start()
        return self

    def stop(self, wait_for_retraining: float = 0.0) -> None:
        self.shutdown()
        self.server_close()
        self.session.close(wait_for_retraining)

    def serve_until_interrupted(self, say=print) -> None:
        """Serve until Ctrl-C, then let a running retraining finish (a second Ctrl-C quits at once:
        the labels are committed, and leaving mid-computation is only untidy)."""
        try:
            self.serve_forever()
        except KeyboardInterrupt:
            say("specgym label: stopped; every acknowledged label is saved")
        finally:
            self.server_close()
        retrainer = self.session.retrainer
        if retrainer is not None and retrainer.busy:
            say("specgym label: letting the running retraining finish (Ctrl-C again quits now)")
        try:
            self.session.close(wait_for_retraining=600.0)
        except KeyboardInterrupt:
            os._exit(130)  # exiting the interpreter while the retraining thread is inside JAX aborts noisily


def make_server(run_dir, store_url: str | None = None, host: str = "127.0.0.1", port: int = 0,
                budget: int | None = None, labeller: str = "", on_label=None, verbose: bool = False) -> LabelServer:
    """Open the store (default: ``RUN_DIR/labels.sqlite``) and bind; raises ValueError-type errors for user mistakes."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run directory {str(run_dir)!r} does not exist")
    store = open_store(store_url or sqlite_url(run_dir / "labels.sqlite"))
    session = LabelSession(run_dir, store, budget=budget, labeller=labeller, on_label=on_label)
    try:
        return LabelServer(session, host, port, verbose)
    except OSError as error:
        session.close()
        raise OSError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
