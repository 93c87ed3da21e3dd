"""Time a full diagnosis: coin-run, 8 fix combinations x 8 seeds, every part, default budget.

    python bench/diagnose.py                 # the default diagnosis (no-op levers trained once)
    python bench/diagnose.py --all-eight     # also train the combinations no-op levers make identical
    python bench/diagnose.py --set total_steps=200000   # a smaller budget (smoke run)

Prints the wall time, the time per trained combination and each part's share,
and writes bench/diagnose-results.json. The target is under 10 minutes on two
idle CPU cores; on a shared machine, read the per-combination times as ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from specgym import seed_parallel

seed_parallel.use_cpu_cores()  # as the specgym command does

import jax

from specgym.cli_options import scenario_overrides
from specgym.diagnose.diagnosis import DiagnoseConfig, diagnose_scenario
from specgym.scenarios import get


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="coin-run")
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--all-eight", action="store_true", help="train all 8 combinations even where identical")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    config = DiagnoseConfig(seeds=args.seeds, share_noops=not args.all_eight)
    load = os.getloadavg()
    started, cpu_started = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as out:
        scenario = get(args.scenario)
        result = diagnose_scenario(scenario, scenario_overrides(scenario, args.settings), config,
                                   out_root=Path(out), progress=True)
    wall = time.perf_counter() - started
    trained = [r for r in result["combinations"] if r["shared_with"] is None]
    row = {"scenario": args.scenario, "seeds": args.seeds, "settings": args.settings, "all_eight": args.all_eight,
           "wall_seconds": wall, "load_average_before": load, "load_average_after": os.getloadavg(),
           "trained_combinations": len(trained),
           "seconds_per_combination": {r["fixed"]: r["seconds"] for r in trained},
           "training_share": sum(r["seconds"] for r in trained) / wall, "cpu_count": os.cpu_count(),
           "cpu_seconds": time.process_time() - cpu_started, "devices": len(jax.local_devices()),
           "verdict": result["attribution"]["verdict"]}
    print(json.dumps(row, indent=2))
    path = Path(__file__).with_name("diagnose-results.json")
    history = json.loads(path.read_text()) if path.exists() else []
    path.write_text(json.dumps(history + [row], indent=2))


if __name__ == "__main__":
    main()
