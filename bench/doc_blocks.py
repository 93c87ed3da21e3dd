"""Generated tables inside hand-written pages: a block between ``<!-- begin NAME -->`` and ``<!-- end NAME -->``.

The bench scripts rewrite their blocks in the docs after measuring, so a page's
numbers are always the script's output, never a copy; a test re-renders every
block from the stored JSON and compares.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pattern(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- begin {re.escape(name)} -->\n).*?(<!-- end {re.escape(name)} -->)", re.S)


def blocks(text: str) -> dict[str, str]:
    """Every block of a page, name -> content."""
    return {m.group(1): m.group(2) for m in re.finditer(r"<!-- begin (\S+) -->\n(.*?)<!-- end \1 -->", text, re.S)}


def replace_block(path: Path, name: str, content: str) -> bool:
    """Put ``content`` in the page's block ``name``; False (and the page untouched) where it has no such block."""
    text = path.read_text(encoding="utf-8")
    new, count = _pattern(name).subn(lambda m: m.group(1) + content + m.group(2), text)
    if count:
        path.write_text(new, encoding="utf-8")
    return bool(count)


def scenario_page(scenario_id: str) -> Path:
    return ROOT / "docs" / "scenarios" / f"{scenario_id}.md"
