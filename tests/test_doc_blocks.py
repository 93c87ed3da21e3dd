"""Every generated table in the docs is what its bench script renders from the stored measurements."""

import json
from pathlib import Path

import pytest
from bench import diagnoses, doc_blocks, fixes, reset_draws, sweeps
from bench.__main__ import report as throughput_report
from bench.__main__ import summary as throughput_summary

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", ROOT / "bench" / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def rendered(name: str) -> str:
    """What the script that owns block ``name`` writes into it, from bench/*.json."""
    kind, _, rest = name.partition(":")
    if kind == "fixes":
        rows = json.loads((ROOT / "bench" / "fixes.json").read_text())["rows"]
        return fixes.markdown_table([row for row in rows if not rest or row["scenario"] == rest])
    if kind == "sweep":
        scenario_id, setting = rest.split(":")
        stored = json.loads((ROOT / "bench" / "sweeps.json").read_text())["sweeps"]
        return sweeps.markdown(sweeps.kept_row(stored, scenario_id, setting))
    if kind in ("throughput", "throughput-summary"):
        stored = json.loads((ROOT / "bench" / "results.json").read_text())
        return throughput_report(stored) if kind == "throughput" else throughput_summary(stored)
    if kind == reset_draws.BLOCK:
        return reset_draws.markdown(json.loads((ROOT / "bench" / "reset-draws.json").read_text())["rows"])
    if kind in ("diagnosis", diagnoses.CATALOGUE_CASE):
        return diagnoses.rendered(name, diagnoses.read_rows(), diagnoses.read_catalogue())
    raise AssertionError(f"no script owns the docs block {name!r}")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_generated_blocks_match_their_script(page):
    for name, content in doc_blocks.blocks(page.read_text(encoding="utf-8")).items():
        if content.strip():  # an empty block waits for its first measurement
            assert content == rendered(name), f"{page.name}: block {name} differs from its script's output"


def test_replace_block_rewrites_only_the_named_block(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("intro\n<!-- begin a -->\nold\n<!-- end a -->\n<!-- begin b -->\nkeep\n<!-- end b -->\n")
    assert doc_blocks.replace_block(page, "a", "new\n")
    assert not doc_blocks.replace_block(page, "missing", "x\n")
    assert doc_blocks.blocks(page.read_text()) == {"a": "new\n", "b": "keep\n"}
