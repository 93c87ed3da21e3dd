"""``python -m bench [--quick] [env ids...]``: run the throughput benchmarks and save bench/results.json.

Same measurements as ``specgym bench``; see bench/README.md for the method.
"""

import json
import sys
from pathlib import Path

from specgym import seed_parallel

if __name__ == "__main__":
    seed_parallel.use_cpu_cores()  # as the specgym command does, before JAX starts
    from specgym.benchmark import run_benchmarks

    only = [a for a in sys.argv[1:] if not a.startswith("--")]
    results = run_benchmarks(quick="--quick" in sys.argv, only_envs=only or None)
    print(results["table"])
    out = Path(__file__).with_name("results.json")
    out.write_text(json.dumps({k: v for k, v in results.items() if k != "table"}, indent=2))
    print(f"saved {out}")
