"""Local storage paths before and after object-store support: the calls every local run makes, timed in the
package as it was at a base commit and as it is now (core/stores.py adds one `isinstance` test to each).

The base commit's package is extracted with `git archive` into a temporary folder; each round runs both
packages in fresh interpreters, alternating. The fastest round of each is compared (on a shared machine the
other rounds measure the neighbours' load more than the code); the medians are recorded too.

    python bench/local_paths.py [--base 325978c] [--rounds 15]      -> bench/results/local_paths.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"

CHILD = """
import json, os, sys, tempfile, time
from pathlib import Path
os.environ["ZTDL_DATA_DIR"] = tempfile.mkdtemp()
from ztdl_pipeline import settings
from ztdl_pipeline.core import atomic, export, registry
folder = Path(os.environ["ZTDL_DATA_DIR"]) / "exports" / "m"
registry.record(folder, 1, {"path": str(folder / "1")})
(folder / "1").mkdir()
N = int(sys.argv[1])

def timed(call):
    start = time.perf_counter()
    for i in range(N):
        call(i)
    return (time.perf_counter() - start) / N * 1e6

print(json.dumps({
    "profile_root": timed(lambda i: settings.profile_root("fast")),
    "atomic_write_json": timed(lambda i: atomic.write_json(folder / "x.json", {"i": i})),
    "registry_read": timed(lambda i: registry.read(folder)),
    "existing_versions": timed(lambda i: export.existing_versions(folder)),
}))
"""


def run(package_parent: Path, iterations: int) -> dict[str, float]:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(iterations)], cwd=package_parent, capture_output=True,
                          text=True, check=True, env={"PYTHONPATH": str(package_parent), "PATH": "/usr/bin:/bin",
                                                      "PYTHONDONTWRITEBYTECODE": "1"})
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="325978c", help="the commit before object-store support")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--iterations", type=int, default=300)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "archive", args.base, "ztdl_pipeline"], cwd=REPO, capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        samples: dict[str, list[dict]] = {"base": [], "now": []}
        for _ in range(args.rounds):
            samples["base"].append(run(Path(tmp), args.iterations))
            samples["now"].append(run(REPO, args.iterations))
    fastest = {side: {op: min(s[op] for s in runs) for op in runs[0]} for side, runs in samples.items()}
    medians = {side: {op: statistics.median(s[op] for s in runs) for op in runs[0]} for side, runs in samples.items()}
    result = {"generated": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "base_commit": args.base,
              "now_commit": subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True,
                                           text=True).stdout.strip(),
              "machine": f"{platform.machine()}, {platform.python_version()}", "rounds": args.rounds,
              "iterations": args.iterations, "load_average_at_start": load, "load_average_at_end": os.getloadavg()[0],
              "microseconds_per_call_fastest_round": fastest, "microseconds_per_call_median": medians,
              "ratio_now_to_base_fastest": {op: round(fastest["now"][op] / fastest["base"][op], 3) for op in fastest["base"]},
              "ratio_now_to_base_median": {op: round(medians["now"][op] / medians["base"][op], 3) for op in medians["base"]}}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "local_paths.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["ratio_now_to_base_fastest"]), json.dumps(result["ratio_now_to_base_median"]))


if __name__ == "__main__":
    main()
