"""Predict latency and throughput of the Wi-Fi model over loopback: `ztdl-serve` vs the book's Flask pattern.

Both servers run as subprocesses in the same run, on the same model, and get the same load:
- ours: `ztdl-serve` (FastAPI + uvicorn, TF Serving's REST API) serving the exported SavedModel
  (data/exports/wifi_fc/<version>/), request {"instances": [{"a_1": ..., ..., "a_7": ...}]}
- the book's (ch13 `13_flask_serve_model.py`): a Flask app (werkzeug, threaded) holding the trained Keras
  model and calling `model.predict(np.array(data))` per request, answering the argmax labels;
  request {"data": [[a_1, ..., a_7]]}
The client runs C concurrent threads (C = 1 and 16), each sending one request at a time on a fresh
connection (as `requests.post` does), one raw test row per request, until R requests are done (after a
warm-up). Latency is per request; requests/s is R / wall time. Both servers' answers are checked to agree.

The model: the exports are materialized first (serving group, fast profile: model quality does not change
the cost of a forward pass) into a temporary data root, unless --data-dir points at a root that has
models/wifi_fc and exports/wifi_fc.

    python bench/serving_latency.py [--requests 300] [--concurrency 1 16] [--data-dir data]
      -> bench/results/serving_latency.json and .md
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
BIN = Path(sys.executable).parent
ROUTERS = [f"a_{i}" for i in range(1, 8)]


# ------------------------------------------------------------------ the book's Flask server (child process)


def flask_child(model_path: str, port: int, direct: bool = False) -> None:
    """ch13's Flask app, as the book writes it (TF 2 / Keras 3 API): load the model once, predict per request.
    `direct`: a control, calling the model (`model(x, training=False)`) instead of `model.predict`."""
    import logging

    import keras
    import numpy as np
    from flask import Flask, jsonify, request

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no per-request log line (ztdl-serve logs none)
    loaded_model = keras.models.load_model(model_path)
    app = Flask(__name__)

    def preprocess(data):
        res = json.loads(data)
        return np.array(res["data"])

    @app.route("/", methods=["POST"])
    def predict():
        processed = preprocess(request.data)
        if direct:
            probas = np.asarray(loaded_model(processed.astype("float32"), training=False))
        else:
            probas = loaded_model.predict(processed, verbose=0)
        preds = np.argmax(probas, axis=1)
        return jsonify(preds.tolist())

    print("Model loaded.", flush=True)
    app.run(host="127.0.0.1", port=port, threaded=True, debug=False)


# ------------------------------------------------------------------ harness


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(port: int, path: str, body: bytes, timeout: float = 60.0) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def get_json(port: int, path: str) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        return json.loads(connection.getresponse().read())
    finally:
        connection.close()


def start(command: list[str], port: int, ready_path: str, ready_body: bytes, log: Path, env: dict
          ) -> subprocess.Popen:
    handle = open(log, "wb")  # noqa: SIM115 - the child writes to it
    proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)
    handle.close()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{command[0]} exited {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            status, _ = post(port, ready_path, ready_body, timeout=30)
            if status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.3)
    stop(proc)
    raise RuntimeError(f"{command[0]} did not answer in 120 s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def load(port: int, path: str, bodies: list[bytes], requests: int, concurrency: int, warmup: int) -> dict:
    """`requests` POSTs from `concurrency` threads (one request in flight per thread)."""
    for i in range(warmup):
        status, _ = post(port, path, bodies[i % len(bodies)])
        assert status == 200, status
    latencies: list[float] = []
    errors: list[str] = []
    counter = iter(range(requests))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            start_time = time.perf_counter()
            try:
                status, body = post(port, path, bodies[index % len(bodies)])
            except OSError as exc:
                status, body = 0, str(exc).encode()
            elapsed = time.perf_counter() - start_time
            with lock:
                latencies.append(elapsed)
                if status != 200:
                    errors.append(f"{status}: {body[:200]!r}")

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    wall_start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - wall_start
    ordered = sorted(latencies)

    def percentile(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] * 1000

    return {"requests": requests, "concurrency": concurrency, "wall_seconds": wall,
            "requests_per_second": requests / wall, "p50_ms": percentile(0.50), "p90_ms": percentile(0.90),
            "p99_ms": percentile(0.99), "mean_ms": statistics.fmean(latencies) * 1000,
            "max_ms": ordered[-1] * 1000, "errors": len(errors), "first_errors": errors[:3]}


def ensure_model(data_dir: Path | None, work: Path) -> Path:
    if data_dir is not None:
        root = data_dir.resolve()
        if not (root / "models" / "wifi_fc" / "model.keras").is_file() or not (root / "exports" / "wifi_fc").is_dir():
            sys.exit(f"{root}: no models/wifi_fc or exports/wifi_fc; run `make run SELECT=group:serving` first")
        return root
    root = work / "data"
    mirror = Path(os.environ.get("ZTDL_DATA_MIRROR") or REPO.parent / "shared" / "data").resolve()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZTDL_", "DAGSTER_"))}
    env.update({"ZTDL_DATA_DIR": str(root), "ZTDL_DATA_MIRROR": str(mirror), "ZTDL_PROFILE": "fast",
                "DAGSTER_HOME": str(work / "dagster_home"), "TF_CPP_MIN_LOG_LEVEL": "2"})
    (work / "dagster_home").mkdir()
    (work / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    print("materializing the serving group (fast profile) ...", flush=True)
    subprocess.run([str(BIN / "dagster"), "asset", "materialize", "-m", "ztdl_pipeline.definitions", "--select",
                    "group:serving"], cwd=REPO, env=env, check=True, capture_output=True)
    return root / "fast"  # the fast profile's storage root


def test_rows(root: Path, n: int = 200) -> list[list[float]]:
    import pyarrow.parquet as pq

    raw = pq.read_table(root / "raw" / "wifi_location.parquet").to_pandas()
    features = pq.read_table(root / "features" / "wifi_location.parquet", columns=["split"]).to_pandas()
    rows = raw[features["split"].astype(str).to_numpy() == "test"][ROUTERS].head(n)
    return [[float(v) for v in row] for row in rows.to_numpy()]


def markdown(result: dict) -> str:
    lines = ["# Serving latency: ztdl-serve vs the book's Flask pattern (wifi_fc)", "",
             (f"{result['created']}, {result['cpus']} CPUs, Python {result['python']}, load average at start "
             f"{result['load_average_at_start']}; {result['requests']} requests per setting after "
             f"{result['warmup']} warm-up requests, one raw row per request, a fresh connection per request."), "",
             "| server | clients | p50 ms | p90 ms | p99 ms | requests/s | requests per model call | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for run in result["runs"]:
        per_call = f"{run['requests_per_model_call']:.2f}" if "requests_per_model_call" in run else "1 (by design)"
        lines.append(f"| {run['server']} | {run['concurrency']} | {run['p50_ms']:.2f} | {run['p90_ms']:.2f} | "
                     f"{run['p99_ms']:.2f} | {run['requests_per_second']:.1f} | {per_call} | {run['errors']} |")
    lines += ["", ("| clients | p50 flask (book) / ours | p99 flask (book) / ours | requests/s ours / flask (book) "
              "| requests/s batching / no batching | p99 no batching / batching "
              "| requests/s ours / flask model(x) |"), "|---:|---:|---:|---:|---:|---:|---:|"]
    for ratio in result["ratios"]:
        lines.append(f"| {ratio['concurrency']} | {ratio['p50_flask_over_ours']:.1f}x | "
                     f"{ratio['p99_flask_over_ours']:.1f}x | {ratio['rps_ours_over_flask']:.1f}x | "
                     f"{ratio['rps_batching_over_no_batching']:.2f}x | {ratio['p99_no_batching_over_batching']:.2f}x | "
                     f"{ratio['rps_ours_over_flask_direct_call']:.2f}x |")
    lines += ["", result["notes"], ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="a data root with models/wifi_fc and exports/wifi_fc (default: materialize one)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data root and server logs")
    parser.add_argument("--flask-child", nargs="+", metavar="MODEL PORT [direct]", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.flask_child:
        flask_child(args.flask_child[0], int(args.flask_child[1]), direct=args.flask_child[2:] == ["direct"])
        return 0

    load_average = [round(x, 2) for x in os.getloadavg()]
    work = Path(tempfile.mkdtemp(prefix="ztdl-bench-serving-"))
    root = ensure_model(args.data_dir, work)
    rows = test_rows(root)
    ours_bodies = [json.dumps({"instances": [dict(zip(ROUTERS, row))]}).encode() for row in rows]
    flask_bodies = [json.dumps({"data": [row]}).encode() for row in rows]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONDONTWRITEBYTECODE": "1"}
    servers = {}
    procs = []
    model_file = str(root / "models" / "wifi_fc" / "model.keras")
    ours_command = [str(BIN / "ztdl-serve"), "--exports", str(root / "exports")]
    flask_command = [sys.executable, str(Path(__file__).resolve()), "--flask-child", model_file]
    setups = [
        ("ztdl-serve", ours_command, [], "/v1/models/wifi_fc:predict", ours_bodies),
        ("ztdl-serve --no-batching", ours_command, ["--no-batching"], "/v1/models/wifi_fc:predict", ours_bodies),
        ("flask (book)", flask_command, [], "/", flask_bodies),
        ("flask, model(x) instead of predict", flask_command, ["direct"], "/", flask_bodies),
    ]
    try:
        for name, command, extra, path, bodies in setups:
            port = free_port()
            full = ([*command, "--port", str(port), *extra] if command is ours_command
                    else [*command, str(port), *extra])
            procs.append(start(full, port, path, bodies[0], work / f"{len(procs)}.log", env))
            servers[name] = (port, path, bodies)

        # the two answer alike: argmax of our probabilities == the Flask app's labels
        ours = [json.loads(post(servers["ztdl-serve"][0], servers["ztdl-serve"][1], b)[1])["predictions"][0]
                for b in ours_bodies[:50]]
        theirs = [json.loads(post(servers["flask (book)"][0], "/", b)[1])[0] for b in flask_bodies[:50]]
        agree = sum(int(max(range(4), key=p.__getitem__) == label) for p, label in zip(ours, theirs))

        runs = []
        for concurrency in args.concurrency:
            for name, (port, path, bodies) in servers.items():
                print(f"{name}: {args.requests} requests at {concurrency} concurrent client(s) ...", flush=True)
                counters = get_json(port, "/v1/models")["batching"] if name.startswith("ztdl") else None
                run = load(port, path, bodies, args.requests, concurrency, args.warmup)
                if counters is not None:  # predict requests per model call (> 1: requests were merged)
                    after = get_json(port, "/v1/models")["batching"]
                    run["model_calls"] = after["model_calls"] - counters["model_calls"]
                    run["requests_per_model_call"] = ((after["requests"] - counters["requests"])
                                                      / max(1, run["model_calls"]) if after["enabled"] else 1.0)
                runs.append({"server": name, **run})
                print(f"  p50 {run['p50_ms']:.2f} ms, p99 {run['p99_ms']:.2f} ms, "
                      f"{run['requests_per_second']:.1f} requests/s, {run['errors']} errors", flush=True)
    finally:
        for proc in procs:
            stop(proc)

    def pick(server: str, concurrency: int) -> dict:
        return next(r for r in runs if r["server"] == server and r["concurrency"] == concurrency)

    ratios = []
    for concurrency in args.concurrency:
        ours_run, flask_run = pick("ztdl-serve", concurrency), pick("flask (book)", concurrency)
        unbatched = pick("ztdl-serve --no-batching", concurrency)
        direct = pick("flask, model(x) instead of predict", concurrency)
        ratios.append({"concurrency": concurrency,
                       "p50_flask_over_ours": flask_run["p50_ms"] / ours_run["p50_ms"],
                       "p99_flask_over_ours": flask_run["p99_ms"] / ours_run["p99_ms"],
                       "rps_ours_over_flask": ours_run["requests_per_second"] / flask_run["requests_per_second"],
                       "rps_batching_over_no_batching": (ours_run["requests_per_second"]
                                                         / unbatched["requests_per_second"]),
                       "p99_no_batching_over_batching": unbatched["p99_ms"] / ours_run["p99_ms"],
                       "rps_ours_over_flask_direct_call": (ours_run["requests_per_second"]
                                                           / direct["requests_per_second"])})
    notes = (f"Both servers agree on {agree}/50 test rows (argmax of ztdl-serve's probabilities = the Flask app's "
             "labels). ztdl-serve runs the SavedModel's serving_default signature (a concrete tf.function) in "
             "uvicorn's thread pool; with batching on (the default) concurrent requests for the same model that "
             "queue while the model is busy are merged into one call (no timer, so a lone request is not "
             "delayed); `--no-batching` runs one call per request. The book's Flask app calls Keras' "
             "model.predict per request, which sets up a data pipeline and a predict loop every call; the "
             "control row calls the Keras model directly to show how much of the gap is model.predict itself.")
    result = {"benchmark": "serving_latency", "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
              "load_average_at_start": load_average, "requests": args.requests, "warmup": args.warmup,
              "model": "wifi_fc", "data_root": str(root), "agreement_of_50": agree, "runs": runs,
              "ratios": ratios, "notes": notes}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "serving_latency.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "serving_latency.md").write_text(markdown(result))
    print(markdown(result))
    if args.data_dir is None and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(r["errors"] == 0 for r in runs) and agree == 50 else 1


if __name__ == "__main__":
    sys.exit(main())
