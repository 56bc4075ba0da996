"""Soak: `ztdl-serve` under 16 concurrent clients for 10,000 predict requests, a new version published midway.

On loopback. The real `ztdl-serve` process serves wifi_fc from a temporary exports folder that holds
version 1. Two versions of the model come from the pipeline itself, materialized with the real CLI under the
fast profile into a scratch storage root (run 1: `+key:"exports/wifi_fc_export"`; run 2: the model retrained with
`epochs: 45`, a value neither the card nor the fast profile uses, then its report and export), unless --source points at a storage root whose
exports/wifi_fc already has two versions. Version 2 is staged beside the served versions before the load
starts; when half the requests have been answered it is published the way the export asset publishes it:
`core.export.publish_version` (an atomic rename to the next integer version) then `core.registry.record`
(under the registry lock, making it current). The server picks it up without a restart.

Each client keeps one HTTP connection (reconnecting after an error) and sends one raw test row per request
({"instances": [{"a_1": ..., ..., "a_7": ...}]}). Which version answered is read from the answer itself:
the rows used are those where the two versions' probabilities differ by more than 1e-3, and each answer
must match one version's in-process prediction (the SavedModel loaded with TensorFlow) within 1e-4.
An error is a non-200 answer, an answer that matches neither version, or a dropped request (the
connection failed or timed out, so no answer came back). Exit status 1 when any request erred, or when
version 2 never answered or version 1 still answered at the end.

    python bench/soak.py [--requests 10000] [--clients 16] [--source ROOT] [--results bench/results]
      -> <results>/soak.json and soak.md
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.serving_latency import free_port  # noqa: E402  (the same server start-up and stop)
from bench.serving_latency import stop as stop_server  # noqa: E402
from ztdl_pipeline.core import export, registry  # noqa: E402
from ztdl_pipeline.core.names import op_name, user_key  # noqa: E402

RESULTS = REPO / "bench" / "results"
BIN = Path(sys.executable).parent
MODEL = "wifi_fc"
INPUTS = [f"a_{i}" for i in range(1, 8)]
DISTINCT = 1e-3  # rows used: the versions' answers differ by more than this
MATCH = 1e-4  # an answer is a version's when it is this close to that version's in-process prediction
TIMEOUT = 30.0  # per request: longer counts as dropped


# ------------------------------------------------------------------ the two versions


def materialize_versions(work: Path) -> Path:
    """A scratch fast-profile storage root with exports/wifi_fc versions 1 and 2, made by the real CLI."""
    root = work / "source"
    mirror = Path(os.environ.get("ZTDL_DATA_MIRROR") or REPO.parent / "shared" / "data").resolve()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZTDL_", "DAGSTER_"))}
    env.update({"ZTDL_DATA_DIR": str(root), "ZTDL_DATA_MIRROR": str(mirror), "ZTDL_PROFILE": "fast",
                "DAGSTER_HOME": str(work / "dagster_home"), "TF_CPP_MIN_LOG_LEVEL": "2"})
    (work / "dagster_home").mkdir()
    shutil.copy(REPO / "ztdl_pipeline" / "instance" / "dagster.yaml", work / "dagster_home" / "dagster.yaml")
    runs = [
        ("version 1", ["--select", f'+key:"{user_key("exports", MODEL)}"']),
        ("version 2 (retrained for 45 epochs)",
         ["--select", " or ".join(f'key:"{user_key(layer, MODEL)}"' for layer in ("models", "reports", "exports")),
          "--config-json", json.dumps({"ops": {op_name("models", MODEL): {"config": {"epochs": 45}}}})]),
    ]
    for what, args in runs:
        print(f"materializing {what} of {MODEL} (fast profile) ...", flush=True)
        proc = subprocess.run([str(BIN / "dagster"), "asset", "materialize", "-m", "ztdl_pipeline.definitions",
                               *args], cwd=REPO, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.exit(f"materializing {what} failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
    published = export.existing_versions(root / "fast" / "exports" / MODEL)
    if published != [1, 2]:
        lines = [line for line in (proc.stdout + proc.stderr).splitlines() if user_key("exports", MODEL) in line]
        sys.exit(f"the two runs published versions {published} of {MODEL}, not [1, 2]:\n" + "\n".join(lines[-5:]))
    return root / "fast"


def test_rows(root: Path, n: int = 400) -> list[dict[str, float]]:
    import pyarrow.parquet as pq

    raw = pq.read_table(root / "raw" / "wifi_location.parquet").to_pandas()
    split = pq.read_table(root / "features" / "wifi_location.parquet", columns=["split"]).to_pandas()["split"]
    rows = raw[split.astype(str).to_numpy() == "test"][INPUTS].head(n)
    return [{name: float(value) for name, value in zip(INPUTS, row)} for row in rows.to_numpy()]


def predictions(path: Path, rows: list[dict[str, float]]):
    import numpy as np
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    serve = loaded.signatures["serving_default"]
    outputs = serve(**{name: tf.constant([row[name] for row in rows], tf.float32) for name in INPUTS})
    return np.asarray(next(iter(outputs.values())), dtype="float64")


# ------------------------------------------------------------------ server and clients


def start_server(exports: Path, port: int, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZTDL_", "DAGSTER_"))}
    env.update({"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONDONTWRITEBYTECODE": "1"})
    handle = open(log, "wb")  # noqa: SIM115 - the child writes to it
    proc = subprocess.Popen([str(BIN / "ztdl-serve"), "--port", str(port), "--exports", str(exports)],
                            cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    handle.close()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"ztdl-serve exited {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/v1/models")
            if connection.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    stop_server(proc)
    raise RuntimeError(f"ztdl-serve did not answer in 120 s:\n{log.read_text()[-3000:]}")


class Client:
    """One keep-alive connection; reconnects after an error."""

    def __init__(self, port: int):
        self.port = port
        self.connection: http.client.HTTPConnection | None = None

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            self.connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            response = self.connection.getresponse()
            return response.status, response.read()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def which_version(answer: bytes, row: int, expected: dict[int, object]) -> int | None:
    import numpy as np

    try:
        got = np.asarray(json.loads(answer)["predictions"][0], dtype="float64")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    for version, table in expected.items():
        if got.shape == table[row].shape and np.max(np.abs(got - table[row])) <= MATCH:
            return version
    return None


def soak(port: int, bodies: list[bytes], expected: dict[int, object], requests: int, clients: int,
         publish) -> tuple[list[dict], dict]:
    """`requests` predict requests from `clients` threads; `publish()` runs once half have been answered."""
    path = f"/v1/models/{MODEL}:predict"
    records: list[dict] = []
    lock = threading.Lock()
    counter = iter(range(requests))
    half = threading.Event()
    publication: dict = {}

    def publisher() -> None:
        half.wait()
        publication["start"] = time.perf_counter()
        publication.update(publish())
        publication["end"] = time.perf_counter()

    def worker() -> None:
        client = Client(port)
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                client.close()
                return
            row = index % len(bodies)
            started = time.perf_counter()
            try:
                status, body = client.post(path, bodies[row])
                error = None if status == 200 else f"HTTP {status}: {body[:200]!r}"
                version = which_version(body, row, expected) if status == 200 else None
                if status == 200 and version is None:
                    error = f"an answer that matches no version: {body[:200]!r}"
                dropped = False
            except (OSError, http.client.HTTPException) as exc:
                status, version, error, dropped = 0, None, f"dropped: {type(exc).__name__}: {exc}", True
            ended = time.perf_counter()
            with lock:
                records.append({"index": index, "start": started, "end": ended, "status": status,
                                "version": version, "error": error, "dropped": dropped})
                if len(records) >= requests // 2:
                    half.set()

    threads = [threading.Thread(target=publisher, daemon=True)]
    threads += [threading.Thread(target=worker) for _ in range(clients)]
    wall_start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads[1:]:
        thread.join()
    wall_end = time.perf_counter()
    threads[0].join(timeout=60)
    for record in records:
        record["start"] -= wall_start
        record["end"] -= wall_start
    publication = {**publication, "wall_seconds": wall_end - wall_start}
    for key in ("start", "end"):
        if key in publication:
            publication[key] -= wall_start
    return records, publication


# ------------------------------------------------------------------ summary


def latency_summary(records: list[dict]) -> dict:
    answered = sorted((r["end"] - r["start"]) * 1000 for r in records if not r["dropped"])
    if not answered:
        return {"requests": len(records), "p50_ms": None, "p99_ms": None, "mean_ms": None, "max_ms": None}

    def percentile(q: float) -> float:
        return answered[min(len(answered) - 1, max(0, round(q * len(answered)) - 1))]

    span = max(r["end"] for r in records) - min(r["start"] for r in records)
    return {"requests": len(records), "p50_ms": percentile(0.50), "p90_ms": percentile(0.90),
            "p99_ms": percentile(0.99), "mean_ms": statistics.fmean(answered), "max_ms": answered[-1],
            "requests_per_second": len(records) / span if span > 0 else None,
            "errors": sum(r["error"] is not None for r in records)}


def timeline(records: list[dict], wall: float, buckets: int = 20) -> list[dict]:
    out = []
    for i in range(buckets):
        low, high = wall * i / buckets, wall * (i + 1) / buckets
        inside = [r for r in records if low <= r["end"] < high or (i == buckets - 1 and r["end"] >= high)]
        out.append({"from_s": round(low, 3), "to_s": round(high, 3),
                    "version_1": sum(r["version"] == 1 for r in inside),
                    "version_2": sum(r["version"] == 2 for r in inside),
                    "errors": sum(r["error"] is not None for r in inside)})
    return out


def summarize(records: list[dict], publication: dict, requests: int, clients: int, rows: int) -> dict:
    wall = publication["wall_seconds"]
    published_at, published_end = publication.get("start", wall), publication.get("end", wall)
    before = [r for r in records if r["start"] < published_at]
    after = [r for r in records if r["start"] >= published_end]
    errors = [r for r in records if r["error"] is not None]
    v2_answers = sorted(r["end"] for r in records if r["version"] == 2)
    tail = sorted(records, key=lambda r: r["start"])[-max(1, requests // 10):]
    return {
        "requests": requests, "clients": clients, "distinct_rows": rows,
        "answered": sum(not r["dropped"] for r in records), "dropped": sum(r["dropped"] for r in records),
        "failed": sum(r["error"] is not None and not r["dropped"] for r in records),
        "errors": len(errors), "first_errors": [r["error"] for r in errors[:5]],
        "missing": requests - len(records),
        "wall_seconds": wall, "requests_per_second": len(records) / wall,
        "published_version": publication.get("version"),
        "published_at_s": publication.get("start"), "publish_seconds": published_end - published_at,
        "first_v2_answer_after_publish_ms": ((v2_answers[0] - published_end) * 1000 if v2_answers else None),
        "v1_answers_started_after_publish": sum(r["version"] == 1 for r in after),
        "answers_by_version": {"1": sum(r["version"] == 1 for r in records),
                               "2": sum(r["version"] == 2 for r in records)},
        "last_tenth_all_v2": all(r["version"] == 2 for r in tail),
        "before_publish": latency_summary(before), "after_publish": latency_summary(after),
        "timeline": timeline(records, wall),
    }


def ms(value) -> str:
    return "–" if value is None else f"{value:.2f}"


def markdown(result: dict) -> str:
    s = result["soak"]
    b, a = s["before_publish"], s["after_publish"]
    lines = [
        "# Soak: ztdl-serve under load while a new version is published (wifi_fc)", "",
        (f"{result['created']}, {result['cpus']} CPUs, Python {result['python']}, load average at start "
         f"{result['load_average_at_start']}; {s['requests']} predict requests from {s['clients']} concurrent "
         f"clients (keep-alive connections) over loopback, one raw test row per request ({s['distinct_rows']} "
         f"distinct rows); version {s['published_version']} published after "
         f"{s['published_at_s']:.2f} s (half the requests answered)."), "",
        "| | value |", "|---|---:|",
        f"| errors (all kinds) | **{s['errors']}** |",
        f"| dropped requests (no answer) | {s['dropped']} |",
        f"| failed requests (non-200 or an answer matching no version) | {s['failed']} |",
        f"| requests/s (whole soak) | {s['requests_per_second']:.1f} |",
        f"| answers by version 1 / 2 | {s['answers_by_version']['1']} / {s['answers_by_version']['2']} |",
        f"| publish (rename + registry record) | {s['publish_seconds'] * 1000:.1f} ms |",
        f"| first version-2 answer after the publish | {ms(s['first_v2_answer_after_publish_ms'])} ms |",
        f"| version-1 answers to requests sent after the publish | {s['v1_answers_started_after_publish']} |",
        "", "| phase | requests | p50 ms | p90 ms | p99 ms | max ms | requests/s | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, phase in (("before the publish", b), ("after the publish", a)):
        rps = "–" if phase.get("requests_per_second") is None else f"{phase['requests_per_second']:.1f}"
        lines.append(f"| {name} | {phase['requests']} | {ms(phase['p50_ms'])} | {ms(phase.get('p90_ms'))} | "
                     f"{ms(phase['p99_ms'])} | {ms(phase['max_ms'])} | {rps} | {phase.get('errors', 0)} |")
    lines += ["", "Which version answered over time (answers completed in each twentieth of the soak):", "",
              "| from s | to s | version 1 | version 2 | errors |", "|---:|---:|---:|---:|---:|"]
    for bucket in s["timeline"]:
        lines.append(f"| {bucket['from_s']:.2f} | {bucket['to_s']:.2f} | {bucket['version_1']} | "
                     f"{bucket['version_2']} | {bucket['errors']} |")
    lines += ["", result["notes"], ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--source", type=Path, default=None,
                        help="a storage root whose exports/wifi_fc has versions 1 and 2 (default: materialize them)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where soak.json and soak.md go")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (exports, server log)")
    args = parser.parse_args()

    load_average = [round(x, 2) for x in os.getloadavg()]
    work = Path(tempfile.mkdtemp(prefix="ztdl-bench-soak-"))
    source = args.source.resolve() if args.source else materialize_versions(work)
    source_dir = source / "exports" / MODEL
    entries = registry.read(source_dir)["versions"]
    if not {"1", "2"} <= set(entries):
        sys.exit(f"{source_dir}: versions 1 and 2 are needed (found {sorted(entries)})")

    # the served exports folder: version 1 published and recorded; version 2 staged beside it, unpublished
    model_dir = work / "exports" / MODEL
    model_dir.mkdir(parents=True)
    shutil.copytree(source_dir / "1", model_dir / "1")
    registry.record(model_dir, 1, {**entries["1"], "path": str(model_dir / "1")})
    staged = export.staging_dir(model_dir)
    shutil.copytree(source_dir / "2", staged, dirs_exist_ok=True)

    rows = test_rows(source)
    import numpy as np

    v1, v2 = predictions(source_dir / "1", rows), predictions(source_dir / "2", rows)
    keep = [i for i in range(len(rows)) if np.max(np.abs(v1[i] - v2[i])) > DISTINCT]
    if len(keep) < 10:
        sys.exit(f"only {len(keep)} test rows tell the two versions apart; retrain version 2 differently")
    rows = [rows[i] for i in keep]
    expected = {1: v1[keep], 2: v2[keep]}
    bodies = [json.dumps({"instances": [row]}).encode() for row in rows]

    def publish() -> dict:
        version, target = export.publish_version(staged, model_dir)
        registry.record(model_dir, version, {**entries["2"], "path": str(target)})
        return {"version": version}

    port = free_port()
    server = start_server(work / "exports", port, work / "ztdl-serve.log")
    try:
        warm = Client(port)
        for i in range(args.warmup):  # version 1 loaded and traced before the clock starts
            status, body = warm.post(f"/v1/models/{MODEL}:predict", bodies[i % len(bodies)])
            if status != 200 or which_version(body, i % len(bodies), expected) != 1:
                sys.exit(f"warm-up request {i}: HTTP {status} {body[:300]!r}")
        warm.close()
        print(f"soak: {args.requests} requests from {args.clients} clients, version 2 published midway ...",
              flush=True)
        records, publication = soak(port, bodies, expected, args.requests, args.clients, publish)
        alive = server.poll() is None
    finally:
        stop_server(server)

    summary = summarize(records, publication, args.requests, args.clients, len(rows))
    summary["server_alive_at_end"] = alive
    notes = ("Versions are told apart by their answers: only test rows where the two versions' probabilities "
             f"differ by more than {DISTINCT:g} are sent, and each answer must equal one version's in-process "
             f"prediction within {MATCH:g}. Before/after: requests sent before the publish began / after it "
             "ended; the first requests after it include loading version 2 (ztdl-serve loads a version on first "
             "use, checking its content sha256 first, and notices the new folder and registry.json by their "
             "mtime on the next request). ztdl-serve runs with its defaults (micro-batching on). Version 1 and "
             "2 are fast-profile models of the pipeline: model quality does not change the cost of a request.")
    result = {"benchmark": "soak", "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "cpus": os.cpu_count(),
              "python": platform.python_version(), "platform": platform.platform(),
              "load_average_at_start": load_average, "model": MODEL, "source": str(source),
              "soak": summary, "notes": notes}
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "soak.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.results / "soak.md").write_text(markdown(result))
    print(markdown(result))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"kept {work}")
    ok = (summary["errors"] == 0 and summary["missing"] == 0 and alive
          and summary["answers_by_version"]["1"] > 0 and summary["answers_by_version"]["2"] > 0
          and summary["last_tenth_all_v2"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
