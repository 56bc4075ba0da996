"""GloVe-format loading: gensim KeyedVectors (what embeddings/glove_6b_50d does) vs the book's line-by-line
Python dictionary loop, on a 400,000 × 50 file in GloVe's text format that this benchmark writes (seeded
random words and vectors: the size of glove.6B.50d.txt, which is not available here).

Each load runs in a fresh interpreter, alternating the two ways for `--rounds` rounds; reported: seconds
(median and fastest) and the growth of peak RSS over RSS after imports (/proc/self/status VmHWM − VmRSS).
Also timed: the asset's optional reader "pandas" (pandas' C parser into KeyedVectors.add_vectors, same words and
values), and what downstream assets do after the first load: KeyedVectors.load of the saved .kv file.

    python bench/glove_loading.py [--words 400000] [--dim 50] [--rounds 3]
      -> bench/results/glove_loading.json and .md
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
sys.path.insert(0, str(REPO))

CHILD = r"""
import json, sys, time
import numpy as np
how, path = sys.argv[1], sys.argv[2]
def vm(key):
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith(key + ":")) / 1024
if how != "book":
    from gensim.models import KeyedVectors
    import pandas  # noqa: F401  (imports are not timed)
    from ztdl_pipeline.core.embeddings import load_glove
before = vm("VmRSS")
start = time.perf_counter()
if how == "gensim":  # ours: embeddings/glove_6b_50d
    kv = KeyedVectors.load_word2vec_format(path, binary=False, no_header=True)
    words, check = len(kv.index_to_key), float(kv.vectors[-1].sum())
elif how == "pandas":  # ours, reader "pandas": pandas' C parser + KeyedVectors.add_vectors
    kv = load_glove(path, reader="pandas")
    words, check = len(kv.index_to_key), float(kv.vectors[-1].sum())
elif how == "kv":  # ours, every later read: the saved KeyedVectors file
    kv = KeyedVectors.load(path)
    words, check = len(kv.index_to_key), float(kv.vectors[-1].sum())
else:  # the book, ch12.glove_load
    embeddings = {}
    with open(path) as f:
        for line in f:
            values = line.split()
            word = values[0]
            coefs = np.asarray(values[1:], dtype='float32')
            embeddings[word] = coefs
    words, check = len(embeddings), float(coefs.sum())
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "peak_rss_growth_mb": vm("VmHWM") - before, "words": words, "check": check}))
"""


def write_file(path: Path, words: int, dim: int, seed: int = 0) -> float:
    """A GloVe-format file: unique random lowercase words, vectors with 5 decimals (GloVe prints up to 5–6)."""
    import numpy as np

    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    with open(path, "w") as out:
        for first in range(0, words, 20000):
            n = min(20000, words - first)
            vectors = rng.normal(0, 0.5, size=(n, dim)).astype(np.float32)
            lengths = rng.integers(2, 10, size=n)
            stems = ["".join(rng.choice(letters, size=k)) for k in lengths]
            lines = [f"{stem}{first + i} " + " ".join(f"{v:.5f}" for v in row)
                     for i, (stem, row) in enumerate(zip(stems, vectors))]
            out.write("\n".join(lines) + "\n")
    return time.perf_counter() - start


def run(how: str, path: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", CHILD, how, str(path)], capture_output=True, text=True, env=env,
                          check=True, timeout=1800)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=400_000)
    parser.add_argument("--dim", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from gensim.models import KeyedVectors

    from ztdl_pipeline.core.embeddings import save_keyed_vectors

    with tempfile.TemporaryDirectory(prefix="glove-bench-") as tmp:
        text = Path(tmp) / "glove.bench.50d.txt"
        write_seconds = write_file(text, args.words, args.dim)
        kv_file = save_keyed_vectors(KeyedVectors.load_word2vec_format(str(text), no_header=True),
                                     Path(tmp) / "vectors.kv")
        runs: dict[str, list[dict]] = {"gensim": [], "book": [], "pandas": [], "kv": []}
        for _ in range(args.rounds):
            for how in runs:
                runs[how].append(run(how, kv_file if how == "kv" else text))
                print(how, json.dumps(runs[how][-1]), flush=True)
        sizes = {"text_mb": text.stat().st_size / 2**20, "kv_mb": kv_file.stat().st_size / 2**20}
    assert {r["words"] for rs in runs.values() for r in rs} == {args.words}, "a loader lost words"
    summary = {how: {"median_s": statistics.median(r["seconds"] for r in rs),
                     "fastest_s": min(r["seconds"] for r in rs),
                     "peak_rss_growth_mb": statistics.median(r["peak_rss_growth_mb"] for r in rs)}
               for how, rs in runs.items()}
    ratio = summary["book"]["median_s"] / summary["gensim"]["median_s"]
    ratio_fast = summary["book"]["fastest_s"] / summary["gensim"]["fastest_s"]
    ratio_pandas = summary["book"]["median_s"] / summary["pandas"]["median_s"]
    result = {"words": args.words, "dim": args.dim, "rounds": args.rounds, "write_seconds": write_seconds, **sizes,
              "summary": summary, "ratio_book_over_gensim_median": ratio, "ratio_book_over_gensim_fastest": ratio_fast,
              "ratio_book_over_pandas_median": ratio_pandas,
              "runs": runs, "python": platform.python_version(), "cpus": os.cpu_count(),
              "load_average_1min": os.getloadavg()[0]}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "glove_loading.json").write_text(json.dumps(result, indent=2) + "\n")
    names = {"gensim": "gensim load_word2vec_format(no_header=True) (reader: gensim)",
             "book": "line-by-line dict loop (book ch12)",
             "pandas": "pandas C parser + KeyedVectors.add_vectors (ours, the default reader)", "kv": "KeyedVectors.load of the saved .kv (ours, later reads)"}
    lines = [
        "# GloVe-format loading: gensim KeyedVectors vs the book's Python loop", "",
        f"{platform.python_version()} on {os.cpu_count()} CPUs; a generated {args.words:,} × {args.dim} file in GloVe's "
        f"text format ({sizes['text_mb']:.0f} MB, written in {write_seconds:.1f} s), {args.rounds} rounds, each load in a "
        "fresh interpreter.", "",
        "| loader | seconds, median | seconds, fastest | peak RSS growth MB |", "|---|---:|---:|---:|"]
    for how in runs:
        s = summary[how]
        lines.append(f"| {names[how]} | {s['median_s']:.2f} | {s['fastest_s']:.2f} | {s['peak_rss_growth_mb']:.0f} |")
    lines += [f"| **ratio book / gensim (time)** | **{ratio:.2f}** | **{ratio_fast:.2f}** | |",
              f"| **ratio book / pandas reader (time, median)** | **{ratio_pandas:.2f}** | | |", "",
              f"The saved .kv file is {sizes['kv_mb']:.0f} MB. 1-minute load average at the end: "
              f"{result['load_average_1min']:.2f} on {os.cpu_count()} CPUs (a shared machine adds noise)."]
    (RESULTS / "glove_loading.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
