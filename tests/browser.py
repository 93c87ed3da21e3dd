"""A real headless Chromium (Debian's package) driven by Playwright, for page tests.

``make test`` installs Chromium (see the Makefile's ``browser`` target). Tests
use the ``browser_page`` fixture from conftest: a fresh page whose console
errors and failed requests are collected in ``page.problems``.
"""

from __future__ import annotations

import os
import shutil
import tempfile

CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str:
    path = os.environ.get("SPECGYM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError("Chromium not found: run `make test` (it installs Debian's chromium) "
                           "or set SPECGYM_CHROMIUM to a Chromium binary")
    return path


class BrowserSession:
    """One Chromium process with a throwaway profile; ``new_page()`` records problems per page."""

    def __init__(self):
        from playwright.sync_api import sync_playwright

        self._profile = tempfile.mkdtemp(prefix="specgym-chromium-")
        self._playwright = sync_playwright().start()
        self.context = self._playwright.chromium.launch_persistent_context(
            self._profile, executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS)

    def new_page(self):
        page = self.context.new_page()
        page.problems = []
        page.on("console", lambda msg: msg.type == "error" and page.problems.append(f"console: {msg.text}"))
        page.on("pageerror", lambda err: page.problems.append(f"page error: {err}"))
        page.on("requestfailed", lambda req: page.problems.append(f"request failed: {req.url}"))
        return page

    def close(self):
        self.context.close()
        self._playwright.stop()
        shutil.rmtree(self._profile, ignore_errors=True)
