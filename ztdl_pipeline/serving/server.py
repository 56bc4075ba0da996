"""`ztdl-serve`: TF Serving's REST API for every SavedModel under the export folder (FastAPI + uvicorn).

    ztdl-serve                                  # 127.0.0.1:8501, models in $ZTDL_DATA_DIR/exports
    ztdl-serve --port 9000 --exports /srv/exports --host 0.0.0.0
    ztdl-serve --exports s3://bucket/prefix/exports   # an object store, mirrored locally (serving/mirror.py)

Endpoints (the same paths and JSON as TF Serving; https://www.tensorflow.org/tfx/serving/api_rest):

    GET  /v1/models/<name>[/versions/<v>]             version status
    GET  /v1/models/<name>[/versions/<v>]/metadata    signatures (input/output names, dtypes, shapes)
    POST /v1/models/<name>[/versions/<v>]:predict     {"instances": [...]} or {"inputs": ...}
    GET  /v1/models                                    (extension) the models, versions, batching counters

Without a version, the manifest's current version is served (the newest: the export asset makes each
new version current). A new version folder is served as soon as it appears, without a restart.
Every error is a JSON object {"error": "..."} with a 4xx status for a bad request (400 malformed JSON,
wrong shape or dtype, invalid model name; 404 unknown model or version; 413 body over the limit).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from ztdl_pipeline import settings
from ztdl_pipeline.core.profile import PROFILES
from ztdl_pipeline.core.stores import is_remote, root_of
from ztdl_pipeline.serving import rest
from ztdl_pipeline.serving.mirror import ExportMirror, mirror_folder
from ztdl_pipeline.serving.registry import NAME_PATTERN, InvalidName, NotFound
from ztdl_pipeline.serving.store import LoadError, ModelStore

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8501
MAX_BODY_BYTES = 10 * 1024 * 1024
log = logging.getLogger("ztdl_serve")

# <name>[/versions/<v>][/metadata | :<verb>] after /v1/models/
_ROUTE = re.compile(r"(?P<name>[^/:]+)(?:/versions/(?P<version>[^/:]+))?(?P<tail>/metadata|:[A-Za-z]+)?")


def _json(status: int, obj) -> Response:
    try:
        content = rest.dumps(obj)
    except ValueError:  # NaN or infinity in an answer: never send the invalid JSON json.dumps would write
        status, content = 500, rest.dumps({"error": "the model answered with NaN or infinity, which JSON cannot "
                                                    "carry; check the inputs of this request"})
    return Response(content=content, status_code=status, media_type="application/json")


def _error(status: int, message: str) -> Response:
    return _json(status, {"error": message})


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise rest.BadRequest(f"invalid Content-Length {declared[:40]!r}")
        if int(declared) > limit:
            raise _TooLarge(f"request body of {int(declared)} bytes is over the limit of {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge(f"request body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(exports: str | Path, *, max_body_bytes: int = MAX_BODY_BYTES, poll_interval: float = 1.0,
               preload: bool = False, batching: bool = True, max_batch_rows: int = 512,
               store_poll_interval: float = 5.0) -> FastAPI:
    """The ASGI app serving every model under `exports` (a folder of <model>/<version>/ SavedModels, or an
    object store's, mirrored into settings.machine_cache_dir() and polled every `store_poll_interval` s)."""
    mirror = None
    if is_remote(exports):
        mirror = ExportMirror(exports, mirror_folder(exports, settings.machine_cache_dir()), store_poll_interval)
    store = ModelStore(mirror.local if mirror else exports, poll_interval=poll_interval, batching=batching,
                       max_batch_rows=max_batch_rows)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        if mirror is not None:
            await run_in_threadpool(mirror.sync)  # the current versions are here before the first request
            mirror.start()
        if preload:
            await run_in_threadpool(store.preload)
        yield
        if mirror is not None:
            mirror.stop()
        stats = store.batching_stats()
        if stats["enabled"]:
            log.info("batching: %d predict requests in %d model calls", stats["requests"], stats["model_calls"])

    app = FastAPI(title="ztdl-serve", description="TF Serving's REST API for the ztdl-pipeline exports",
                  docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.store, app.state.mirror = store, mirror

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: f"unknown endpoint {request.method} {request.url.path}; this server answers "
                        "/v1/models/<name>[/versions/<v>][/metadata|:predict]",
                   405: f"method {request.method} not allowed on {request.url.path}"}.get(exc.status_code,
                                                                                          str(exc.detail))
        return _error(exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        return _error(400, f"bad request: {exc.errors()[:3]}")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:  # pragma: no cover - a bug if reached
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error(500, f"internal error: {type(exc).__name__}: {exc}")

    @app.get("/v1/models")
    async def list_models() -> Response:
        def answer():
            models = []
            for name in store.models():
                try:
                    scan = store.scan(name)
                except (NotFound, InvalidName):
                    continue
                models.append({"name": name, "versions": [str(v) for v in scan.versions],
                               "current": str(scan.current) if scan.current is not None else None})
            return {"models": models, "batching": store.batching_stats()}

        return _json(200, await run_in_threadpool(answer))

    @app.api_route("/v1/models/{path:path}", methods=["GET", "POST"])
    async def models(path: str, request: Request) -> Response:
        first = re.split(r"[/:]", path, maxsplit=1)[0]
        if ".." in path or "\\" in path or "\x00" in path or not NAME_PATTERN.fullmatch(first):
            return _error(400, f"invalid model name {first!r} in {request.url.path!r}: a model name is "
                               "letters, digits, '_' and '-' (no path characters)")
        match = _ROUTE.fullmatch(path)
        if match is None:
            return _error(404, f"unknown endpoint {request.method} {request.url.path}; this server answers "
                               "/v1/models/<name>[/versions/<v>][/metadata|:predict]")
        name, version, tail = match["name"], match["version"], match["tail"] or ""
        if tail.startswith(":"):
            if request.method != "POST":
                return _error(405, f"{tail} takes POST, not {request.method}")
            if tail != ":predict":
                return _error(400, f"{tail} is not supported: this server implements :predict only")
        elif request.method != "GET":
            return _error(405, f"{request.url.path} takes GET; predictions are POST .../{name}:predict")
        try:
            if tail == ":predict":
                body = await _read_body(request, max_body_bytes)
                payload = rest.parse_json(body)
                return _json(200, await run_in_threadpool(store.predict, name, version, payload))
            if tail == "/metadata":
                return _json(200, await run_in_threadpool(store.metadata, name, version))
            return _json(200, await run_in_threadpool(store.status, name, version))
        except _TooLarge as exc:
            return _error(413, str(exc))
        except (rest.BadRequest, InvalidName) as exc:
            return _error(400, str(exc))
        except NotFound as exc:
            return _error(404, str(exc))
        except LoadError as exc:
            return _error(503, str(exc))

    return app


def exports_folder(exports: str | None, profile: str | None) -> Path:
    """--exports as given; else the profile's export folder; else the book profile's (never $ZTDL_PROFILE)."""
    from ztdl_pipeline.serving import registry

    if exports:
        return root_of(exports) if is_remote(exports) else registry.exports_root(exports)
    return settings.profile_root(profile or "book") / "exports"


def argument_parser() -> argparse.ArgumentParser:
    """ztdl-serve's command line (tests/unit/test_doc_commands.py checks the documented flags against it)."""
    parser = argparse.ArgumentParser(prog="ztdl-serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=os.environ.get("ZTDL_SERVE_HOST", DEFAULT_HOST),
                        help=f"address to bind (default {DEFAULT_HOST}; 0.0.0.0 exposes it to the network)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("ZTDL_SERVE_PORT", DEFAULT_PORT)),
                        help=f"port (default {DEFAULT_PORT}, TF Serving's REST port)")
    parser.add_argument("--exports", default=None,
                        help="the export folder or s3://bucket/prefix/exports (default $ZTDL_DATA_DIR/exports, i.e. "
                             "./data/exports: the book profile's; $ZTDL_PROFILE is ignored, so smoke runs are never "
                             "served by accident)")
    parser.add_argument("--profile", default=None, choices=PROFILES,
                        help="serve this profile's exports instead (e.g. fast: <data dir>/fast/exports)")
    parser.add_argument("--max-body-mb", type=float, default=MAX_BODY_BYTES / 2**20,
                        help="largest request body accepted, in MiB (default 10); larger ones get 413")
    parser.add_argument("--poll-interval", type=float, default=1.0,
                        help="rescan a model folder at least this often, in seconds (default 1; an mtime "
                             "change is seen at once)")
    parser.add_argument("--store-poll-interval", type=float, default=5.0,
                        help="with an object store: ask for each model's registry.json this often, in seconds "
                             "(default 5; one HEAD request per model)")
    parser.add_argument("--preload", action="store_true", help="load every model's current version at start")
    parser.add_argument("--batching", action=argparse.BooleanOptionalAction, default=True,
                        help="merge concurrent predict requests for the same model into one call (default on; "
                             "no waiting: batches form only while the model is busy)")
    parser.add_argument("--max-batch-rows", type=int, default=512, help="largest merged batch (default 512)")
    parser.add_argument("--access-log", action="store_true", help="log every request")
    parser.add_argument("--log-level", default="info")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = argument_parser()
    args = parser.parse_args(argv)

    import uvicorn

    from ztdl_pipeline.core import quiet_tensorflow, requirements
    from ztdl_pipeline.serving import registry

    if args.exports and args.profile:
        parser.error("give --exports or --profile, not both")
    exports = exports_folder(args.exports, args.profile)
    quiet_tensorflow.install(args.log_level.lower())  # TensorFlow's known start-up notices, unless debug
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:  # imported before the first request, not during it; a missing build fails here with its install command
        requirements.require_tensorflow("serving the exports")
    except requirements.MissingDependency as error:
        parser.exit(2, f"ztdl-serve: {error}\n")

    app = create_app(exports, max_body_bytes=int(args.max_body_mb * 2**20), poll_interval=args.poll_interval,
                     preload=args.preload, batching=args.batching, max_batch_rows=args.max_batch_rows,
                     store_poll_interval=args.store_poll_interval)
    if is_remote(exports):
        log.info("serving %s (copied to %s, registries polled every %g s) on http://%s:%d/v1/models/<name>", exports,
                 app.state.mirror.local, args.store_poll_interval, args.host, args.port)
    else:
        models = registry.list_models(exports)
        log.info("serving %s (%s) on http://%s:%d/v1/models/<name>", exports,
                 ", ".join(models) if models else "no models yet; new exports are picked up", args.host, args.port)
    uvicorn.run(app, host=args.host, port=args.port, access_log=args.access_log, log_level=args.log_level,
                timeout_graceful_shutdown=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
