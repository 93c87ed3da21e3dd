"""``specgym off-switch``: the off-switch game's action values across the robot's uncertainty."""

from __future__ import annotations

import json
from pathlib import Path

import click

from specgym.cli_options import FINITE_FLOAT, finite_float, json_option, out_option


@click.command("off-switch")
@click.option("--mean", default=0.25, show_default=True, type=FINITE_FLOAT, help="Mean of the robot's belief about U.")
@click.option("--rationality", default=4.0, show_default=True, type=finite_float(min=0, min_open=True),
              help="Inverse temperature of the erring human (the other panel is a rational human).")
@click.option("--max-std", default=2.0, show_default=True, type=finite_float(min=0, min_open=True),
              help="Largest belief width shown.")
@out_option("runs/off-switch.png", help="Where the plot goes.", file=True)
@json_option("Print the values as JSON.")
def COMMAND(mean, rationality, max_std, out, as_json):
    """Expected values of act / switch off / wait in the off-switch game, rational and erring human."""
    import numpy as np

    from specgym.errors import ScenarioError
    from specgym.learn import cirl

    stds = np.linspace(0.0, max_std, 41)[1:]
    results = {"rational human": cirl.sweep(mean, stds),
               f"erring human (rationality {rationality:g})": cirl.sweep(mean, stds, rationality)}
    path = Path(out)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        cirl.plot(results, path)
    except OSError as error:
        raise ScenarioError(f"cannot write {out!r}: {error.strerror}") from None
    if as_json:
        click.echo(json.dumps(results, indent=2))
        return
    for label, res in results.items():
        click.echo(f"{label}, belief mean {mean:g}:")
        click.echo(f"  {'std':>6s} {'act':>8s} {'off':>8s} {'wait':>8s}  choice")
        for i in range(0, len(res["std"]), 5):
            v = res["values"]
            click.echo(f"  {res['std'][i]:6.2f} {v['act'][i]:8.3f} {v['switch_off'][i]:8.3f} {v['wait'][i]:8.3f}  "
                       f"{res['choice'][i]}")
    click.echo(f"plot: {path}")
