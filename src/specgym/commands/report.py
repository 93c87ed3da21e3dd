"""``specgym report``: one self-contained HTML page for a run or diagnosis directory."""

from __future__ import annotations

import click


@click.command("report")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--out", default=None, type=click.Path(dir_okay=False),
              help="Where to write the page (default: DIRECTORY/report.html).")
def COMMAND(directory, out):  # noqa: N802
    """Write an HTML page (pictures embedded, no network needed) for a run or diagnosis DIRECTORY."""
    from specgym.report.html import build_report

    click.echo(str(build_report(directory, out)))
