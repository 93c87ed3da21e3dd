"""Ctrl-C as a request to stop at the next safe point, not an exception at a random one.

Python raises KeyboardInterrupt wherever the main thread happens to be, and when
that is inside a finaliser or a callback the exception is printed and dropped:
training then runs on as if nothing was pressed. A handler that only sets a flag
loses nothing; the loop reads the flag between chunks. A second Ctrl-C raises
KeyboardInterrupt at once, for a user who does not want to wait for the chunk.
"""

from __future__ import annotations

import signal
import threading


class StopRequest:
    """``with StopRequest() as stop: ... if stop.requested: break`` (main thread only; a no-op elsewhere)."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
