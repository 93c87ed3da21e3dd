"""``specgym report``: one self-contained HTML page for a run or diagnosis directory."""

from __future__ import annotations

import click

from specgym.cli_options import out_option


@click.command("report")
@click.argument("directory", type=click.Path(file_okay=False))
@out_option(None, help="Where to write the page (default: DIRECTORY/report.html).", file=True)
def COMMAND(directory, out):
    """Write an HTML page (pictures embedded, no network needed) for a run or diagnosis DIRECTORY."""
    from specgym.report.html import build_report

    click.echo(str(build_report(directory, out)))
