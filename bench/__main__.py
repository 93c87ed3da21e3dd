"""``python -m bench [--quick] [env ids...]``: run the throughput benchmarks, save bench/results.json and the
markdown table bench/results.md (pasted verbatim into bench/README.md).

Same measurements as ``specgym bench``, plus the reference grid env (bench/reference_grid.py) that the
installed package cannot import; see bench/README.md for the method.
"""

import json
import sys
from pathlib import Path

from specgym import seed_parallel

if __name__ == "__main__":
    seed_parallel.use_cpu_cores()  # as the specgym command does, before JAX starts
    from bench.reference_grid import SUBJECT

    from specgym.benchmark import run_benchmarks

    only = [a for a in sys.argv[1:] if not a.startswith("--")]
    results = run_benchmarks(quick="--quick" in sys.argv, only_envs=only or None, reference=SUBJECT)
    print(results["table"])
    here = Path(__file__).parent
    (here / "results.json").write_text(json.dumps({k: v for k, v in results.items() if k != "table"}, indent=2))
    command = " ".join(["python -m bench", *sys.argv[1:]])
    (here / "results.md").write_text(f"`{command}` on {results['device']}:\n\n{results['table']}\n")
    print(f"saved {here / 'results.json'} and {here / 'results.md'}")
