"""``python -m bench [--quick] [env ids...]``: run the throughput benchmarks, save bench/results.json and the
markdown report bench/results.md, and put that report in bench/README.md's ``throughput`` block.

Same measurements as ``specgym bench``, plus the reference grid env (bench/reference_grid.py) that the
installed package cannot import; see bench/README.md for the method.
"""

import json
import sys
from pathlib import Path

from specgym import seed_parallel


def report(results: dict) -> str:
    """The markdown bench/results.md holds (and bench/README.md quotes), from the stored measurements."""
    from specgym.benchmark import results_table

    return f"`{results['command']}` on {results['device']}:\n\n{results_table(results)}\n"


def summary(results: dict) -> str:
    """The lines README quotes from the stored measurements: boat-race, the range over scenarios, PPO."""
    from specgym.benchmark import short

    rows = results["env_throughput"]
    largest = max(r["batch"] for r in rows)
    boat = sorted((r for r in rows if r["env"] == "boat-race"), key=lambda r: r["batch"])
    at_largest = sorted((r for r in rows if r["batch"] == largest), key=lambda r: r["ratio_to_reference"])
    slow = [r["env"] for r in at_largest if r["ratio_to_reference"] < 0.5]
    ppo = results["ppo"]
    return "\n".join([
        f"- boat-race env steps/s at {' / '.join(str(r['batch']) for r in boat)} vmapped envs: "
        f"{' / '.join(short(r['steps_per_second']) for r in boat)}, "
        f"{' / '.join(format(r['ratio_to_reference'], '.2f') + 'x' for r in boat)} the reference grid;",
        f"- every scenario at {largest} envs: {at_largest[0]['ratio_to_reference']:.2f}x ({at_largest[0]['env']}) to "
        f"{at_largest[-1]['ratio_to_reference']:.2f}x ({at_largest[-1]['env']}) the reference grid; below 0.5x: "
        f"{', '.join(slow) or 'none'} (why: bench/README.md);",
        f"- PPO on boat-race, {ppo['seeds']} seeds: {ppo['steps_per_second'] / 1e3:.0f}k steps/s, of which the env "
        f"is {ppo['env_fraction']:.0%}" + (f"; `specgym run boat-race` end to end, 8 seeds: "
                                             f"{results['run_wall_time']['wall_seconds']:.1f} s."
                                             if results["run_wall_time"] else "."),
    ]) + "\n"


if __name__ == "__main__":
    seed_parallel.use_cpu_cores()  # as the specgym command does, before JAX starts
    from bench.doc_blocks import replace_block
    from bench.reference_grid import SUBJECT, widened

    from specgym.benchmark import run_benchmarks

    only = [a for a in sys.argv[1:] if not a.startswith("--")]
    results = run_benchmarks(quick="--quick" in sys.argv, only_envs=only or None, reference=SUBJECT,
                             widen=widened)
    print(results["table"])
    here = Path(__file__).parent
    stored = {**{k: v for k, v in results.items() if k != "table"}, "command": " ".join(["python -m bench", *sys.argv[1:]])}
    (here / "results.json").write_text(json.dumps(stored, indent=2))
    (here / "results.md").write_text(report(stored))
    replace_block(here / "README.md", "throughput", report(stored))
    replace_block(here.parent / "README.md", "throughput-summary", summary(stored))
    print(f"saved {here / 'results.json'} and {here / 'results.md'}; bench/README.md's table updated")
