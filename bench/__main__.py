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
    print(f"saved {here / 'results.json'} and {here / 'results.md'}; bench/README.md's table updated")
