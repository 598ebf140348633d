"""Cold-synth benchmark: lazy provider imports against the idiomatic baseline.

Runs ``python main.py`` for every shipped config in a fresh process, the two
ways interleaved in one run so both see the same machine:

- baseline: ``COT_EAGER_PROVIDER_IMPORT=1``, the provider package's root
  ``__init__`` imports all of its ~1,500 modules (what a plain
  ``import cdktf_cdktf_provider_aws`` does);
- lazy: the default, only the modules the constructs use.

Prints wall time (median, min, max) and peak resident memory of the largest
process (Python or the jsii Node runtime) per mode, and the ratio of medians.

    python benchmarks/synth_benchmark.py [--runs 3] [--target 0.3] [--check]

With --check the exit code is 1 when the ratio is above the target.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
MODES = {"baseline": {"COT_EAGER_PROVIDER_IMPORT": "1"}, "lazy": {"COT_EAGER_PROVIDER_IMPORT": "0"}}


def measure_child(mode: str, outdir: str) -> None:
    """Run one synth and print its wall time and its largest process's peak RSS."""
    env = {**os.environ, **MODES[mode]}
    start = time.perf_counter()
    subprocess.run([sys.executable, str(PROJECT / "main.py"), "--output", outdir], env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    # ru_maxrss of RUSAGE_CHILDREN is the peak of the largest waited-for descendant (KiB on Linux).
    print(f"{wall:.3f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")


def run_once(mode: str) -> tuple[float, int]:
    """A fresh measuring process per run, so rusage covers this run only."""
    with tempfile.TemporaryDirectory(prefix="synth-bench-") as outdir:
        result = subprocess.run(
            [sys.executable, __file__, "--child", mode, str(Path(outdir) / "cdktf.out")],
            capture_output=True,
            text=True,
            check=True,
        )
    wall, rss_kib = result.stdout.split()
    return float(wall), int(rss_kib)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per mode (default 3)")
    parser.add_argument("--target", type=float, default=0.3, help="largest acceptable lazy/baseline ratio (default 0.3)")
    parser.add_argument("--check", action="store_true", help="exit 1 when the ratio is above the target")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "OUTDIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        measure_child(*args.child)
        return 0

    samples: dict[str, list[tuple[float, int]]] = {mode: [] for mode in MODES}
    for run in range(args.runs):
        for mode in MODES:
            samples[mode].append(run_once(mode))
            print(f"run {run + 1}/{args.runs} {mode:8} {samples[mode][-1][0]:6.2f} s", file=sys.stderr)

    print(f"{'mode':10} {'runs':>4} {'median s':>9} {'min s':>7} {'max s':>7} {'peak RSS MiB':>13}")
    medians = {}
    for mode, runs in samples.items():
        walls = [wall for wall, _ in runs]
        medians[mode] = statistics.median(walls)
        peak = max(rss for _, rss in runs) / 1024
        print(f"{mode:10} {len(runs):>4} {medians[mode]:>9.2f} {min(walls):>7.2f} {max(walls):>7.2f} {peak:>13.0f}")
    ratio = medians["lazy"] / medians["baseline"]
    verdict = "meets" if ratio <= args.target else "misses"
    print(f"lazy/baseline wall-time ratio: {ratio:.2f} ({verdict} the target of {args.target:.2f})")
    return 1 if args.check and ratio > args.target else 0


if __name__ == "__main__":
    sys.exit(main())
