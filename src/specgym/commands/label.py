"""``specgym label RUN_DIR``: the labelling web app for a run's queued clip pairs."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import click

from specgym.cli_options import PORT
from specgym.errors import ScenarioError


def reward_model_retrainer(run_dir: Path):
    """``on_label`` for the app: retrain the run's reward model on the labels so far, if the loop offers it."""
    try:
        from specgym.runners.retrain import retrain_from_run_dir
    except ImportError:
        return None
    return functools.partial(retrain_from_run_dir, run_dir)


def planned_labels(run_dir: Path) -> int | None:
    """The label budget an RLHF run directory records (its largest, if it trained several).

    None where the directory records none (no config.json, or a run that is not RLHF's);
    a budget that is there but not a list of positive integers is refused in one line.
    """
    try:
        config = json.loads((run_dir / "config.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(config, dict) or not isinstance(config.get("rlhf"), dict) or "labels" not in config["rlhf"]:
        return None
    budgets = config["rlhf"]["labels"]
    if not (isinstance(budgets, list) and budgets
            and all(isinstance(b, int) and not isinstance(b, bool) and b > 0 for b in budgets)):
        raise ScenarioError(f"config.json in {str(run_dir)!r} records label budgets {str(budgets)[:60]}, not positive "
                            "integers; give the planned number with --budget")
    return max(budgets)


def check_queue(run_dir: Path) -> None:
    """Refuse a ``queries.jsonl`` that holds lines but not one readable pair (rather than serve 0 pairs)."""
    from specgym.feedback.store import RunQueue

    queue = RunQueue(run_dir)
    if not queue.queries() and queue.skipped_lines:
        raise ScenarioError(f"{str(queue.path)!r} holds {queue.skipped_lines} lines and not one readable pair "
                            "(each line must be a JSON object with pair_id, left and right)")


@click.command("label")
@click.argument("run_dir", type=click.Path())
@click.option("--db", "store_url", default=None,
              help="Database URL: sqlite:///path (default RUN_DIR/labels.sqlite) or postgresql://user@host/db.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 shows the page to your whole network.")
@click.option("--port", default=8765, show_default=True, type=PORT,
              help="Port to listen on; 0 picks a free one.")
@click.option("--budget", default=None, type=click.IntRange(min=1),
              help="Labels planned, for the progress bar [default: the run's RLHF budget, else the pairs queued].")
@click.option("--labeller", default="", help="Name stored with each label (a team sharing one database).")
@click.option("--retrain/--no-retrain", default=True, show_default=True,
              help="Retrain the run's reward model as labels arrive and show its stats.")
@click.option("--verbose", is_flag=True, help="Log every request.")
def label_command(run_dir, store_url, host, port, budget, labeller, retrain, verbose):
    """Compare the queued clip pairs of RUN_DIR in a browser; labels are saved as they are given."""
    from specgym.feedback.store import StoreUnavailable
    from specgym.feedback.webapp import make_server

    if not run_dir.strip():  # Path("") would be the current directory
        raise ScenarioError("RUN_DIR is empty: give the directory a `specgym rlhf --evaluator human` run wrote")
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ScenarioError(f"run directory {str(run_dir)!r} does not exist")
    if store_url is not None and not store_url.strip():
        raise ScenarioError("--db is empty: give a database URL (sqlite:///path or postgresql://...), "
                            "or leave --db out for RUN_DIR/labels.sqlite")
    check_queue(run_dir)
    budget = budget or planned_labels(run_dir)
    on_label = reward_model_retrainer(run_dir) if retrain else None
    try:
        server = make_server(run_dir, store_url, host, port, budget, labeller, on_label, verbose)
    except (OSError, StoreUnavailable) as error:
        raise ScenarioError(str(error)) from None
    queued = len(server.session.queue.queries())
    click.echo(f"specgym label: {queued} pairs queued, {server.session.state()['remaining']} unlabelled; "
               f"labels go to {server.session.store.url}")
    if server.session.queue.skipped_lines:
        click.echo(f"specgym label: skipped {server.session.queue.skipped_lines} lines of queries.jsonl that are "
                   "not readable pairs (or repeat a pair id)")
    click.echo("reward model: " + ("retrained as labels arrive" if on_label else "not retrained here"))
    click.echo(f"specgym label: serving {server.url}  (Ctrl-C stops; every saved label is kept)", nl=True)
    server.serve_until_interrupted(click.echo)


COMMAND = label_command
