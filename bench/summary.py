"""One table of every benchmark's headline ratio, read from the results the benchmarks wrote (issue 17).

`make bench` runs the benchmarks and then this script; `python bench/summary.py` alone summarizes the results on
disk. Each row names its results file, what the ratio compares (always "ours" against the plain or book way, so
above 1 means ours is better unless the row says otherwise), the goal where an issue set one, and whether it is
met. A missing or malformed results file is a row that says so, never a silent gap. Writes
bench/results/summary.md and summary.json.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Headline:
    benchmark: str
    file: str
    measure: str  # what the ratio compares
    ratio: Callable[[dict], float]
    goal: float | None = None  # the ratio an issue asks for (ratio >= goal), if any
    lower_is_better: bool = False


def _book_size_run(data: dict) -> dict:
    return next(run for run in data["runs"] if run["size"] == 299)  # the book's 299×299 pictures


HEADLINES = [
    Headline("import_time", "import_time.json", "loading the code location ÷ a bare `import dagster` (time)",
             lambda d: d["ratio_definitions_over_dagster"], goal=1.3, lower_is_better=True),
    Headline("whole_graph", "whole_graph.json", "the book's own code ÷ our CLI run, the same examples of every "
             "chapter compared, book settings (time)", lambda d: d["totals"]["ratio_book_over_ours"], goal=5.0),
    Headline("living_cycle", "living_cycle.json", "full `make run` ÷ a no-op `make run` (time)",
             lambda d: d["measured"]["full_over_noop"], goal=50.0),
    Headline("materialize_time (book)", "materialize_time_book.json",
             "plain script ÷ our steps, banknotes_logreg at book settings (time, imports + work)",
             lambda d: 1.0 / d["banknotes"]["headline_ratio"]),
    Headline("windows", "windows.json", "book's pandas shift ÷ our sliding windows (time)",
             lambda d: d["speedup"], goal=20.0),
    Headline("vision_throughput", "vision_throughput.json", "MNIST epoch from parquet vs numpy model.fit (images/s)",
             lambda d: d["ratio_ours_over_book"]),
    Headline("bottleneck_throughput", "bottleneck_throughput.json",
             "Xception bottlenecks at 299×299, tf.data vs the book's generator (images/s)",
             lambda d: _book_size_run(d)["ratio_median"]),
    Headline("text_tokenize", "text_tokenize.json", "TextVectorization in the SavedModel vs the book's Tokenizer "
             "(docs/s)", lambda d: max(row["ratio_vs_book"] for row in d["rows"])),
    Headline("glove_loading", "glove_loading.json", "the book's GloVe loader ÷ our pandas reader (time)",
             lambda d: d["ratio_book_over_pandas_median"]),
    Headline("serving_latency", "serving_latency.json", "ztdl-serve vs the book's Flask app, 16 clients "
             "(requests/s)", lambda d: max(r["rps_ours_over_flask"] for r in d["ratios"])),
    Headline("soak", "soak.json", "requests answered ÷ sent, 16 clients across a publish",
             lambda d: d["soak"]["answered"] / d["soak"]["requests"], goal=1.0),
    Headline("tuning", "tuning.json", "tuned examples beating the book's printed test number ÷ those run that print "
             "one", lambda d: d["goal"]["wins"] / d["goal"]["judged"], goal=0.5),
]


def row(headline: Headline, results: Path = RESULTS) -> dict:
    path = results / headline.file
    base = {"benchmark": headline.benchmark, "file": f"bench/results/{headline.file}", "measure": headline.measure,
            "goal": headline.goal, "ratio": None, "met": None, "created": None, "problem": None}
    if not path.is_file():
        return {**base, "problem": "no results yet: run the benchmark"}
    try:
        data = json.loads(path.read_text())
        ratio = float(headline.ratio(data))
    except (ValueError, KeyError, IndexError, TypeError, ZeroDivisionError, StopIteration) as error:
        return {**base, "problem": f"unreadable results ({type(error).__name__}: {error})"}
    met = None
    if headline.goal is not None:
        met = ratio <= headline.goal if headline.lower_is_better else ratio >= headline.goal
    return {**base, "ratio": round(ratio, 3), "met": met, "created": data.get("created") or data.get("generated")}


def table(rows: list[dict]) -> str:
    lines = ["| benchmark | measure | ratio | goal | met | results |", "|---|---|---:|---:|---|---|"]
    for r in rows:
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else r["problem"]
        goal = "" if r["goal"] is None else (f"≤ {r['goal']:g}" if _lower(r) else f"≥ {r['goal']:g}")
        met = {True: "yes", False: "**no**", None: ""}[r["met"]]
        lines.append(f"| {r['benchmark']} | {r['measure']} | {ratio} | {goal} | {met} | [{r['file']}]({Path(r['file']).name}) |")
    return "\n".join(lines)


def _lower(r: dict) -> bool:
    return next(h.lower_is_better for h in HEADLINES if h.benchmark == r["benchmark"])


def main(results: Path = RESULTS) -> int:
    rows = [row(h, results) for h in HEADLINES]
    text = table(rows)
    print(text)
    (results / "summary.json").write_text(json.dumps(rows, indent=2) + "\n")
    (results / "summary.md").write_text(
        "# Benchmarks: the headline ratios\n\nWritten by `bench/summary.py` from the results files beside it "
        "(each row links to its own, with its machine, load and date).\n\n" + text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS))
