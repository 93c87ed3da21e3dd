"""``specgym goal-inference``: naive vs bias-aware goal inference from suboptimal demonstrators."""

from __future__ import annotations

import json

import click

from specgym.cli_options import json_option


@click.command("goal-inference")
@click.option("--seeds", default=20, show_default=True, type=click.IntRange(1, 10_000), help="Demonstration draws.")
@click.option("--episodes", default=10, show_default=True, type=click.IntRange(1, 10_000), help="Walks per start cell.")
@json_option("Print the results as JSON.")
def COMMAND(seeds, episodes, as_json):
    """Infer whether a person prefers A or B from their walks; they prefer B. Naive vs bias-aware inference."""
    from specgym.learn.goal_inference import infer_over_seeds

    result = infer_over_seeds(seeds, episodes)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"true preference: B; {seeds} demonstration draws, {episodes} walks per start")
    click.echo(f"{'demonstrator':<14s}{'naive correct':>15s}{'aware correct':>15s}{'naive P(B)':>12s}{'aware P(B)':>12s}")
    for name, r in result.items():
        click.echo(f"{name:<14s}{100 * r['naive_correct']:14.0f}%{100 * r['aware_correct']:14.0f}%"
                   f"{r['naive_p_true_median']:12.3f}{r['aware_p_true_median']:12.3f}")
    click.echo("(P(B): median posterior over draws)")
