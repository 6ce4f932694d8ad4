"""The planner's page over HTTP (FastAPI + uvicorn), loopback by default, no internet needed.

Public functions:
    create_app(service)                    the FastAPI application over a PlannerService
    serve(service, host, port)             run it with uvicorn until interrupted
    serve_workers(config, host, port, workers, tracking_uri)   the same in ``workers``
                                           processes, each with its own state and cache
    app_from_env()                         uvicorn's factory for those worker processes
    background_server(service, host, port) context manager: the app on a thread → base URL
                                           (tests and the load benchmark)

Routes (JSON unless stated; every error is ``{"error": message, "field": lever or null}``):

=========================================  ==============================================
``GET /``                                  the page (static/index.html)
``GET /static/…``                          its script, style sheet and chart code
``GET /api/meta``                          presets, levers (bounds from FIELDS), areas
``POST /api/scenario``                     charts and target table of one scenario and area
``POST /api/projection``                   ``Results.projection_summary()`` rows (every area)
``GET /api/download/<table>.csv?…``        one table (scenario fields as query parameters)
``GET /api/download/tables.xlsx?…``        every table in one workbook
``POST /api/save``                         log the scenario as an MLflow run → run id
``GET /api/health``                        ``{"ok": true}`` and counters
=========================================  ==============================================

Caps (DESIGN §7): request bodies ≤ ``MAX_BODY_BYTES`` (413), one scenario per request, draws ≤
``SERVE_MAX_DRAWS``, at most ``MAX_CONNECTIONS`` open connections (503 beyond). A bad value is
a 400 naming the field; an unexpected error is a 500 with a one-line message (the traceback
goes to the server log, never to the page), and the app keeps answering.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..planning.scenarios import FIELDS
from .service import MAX_BODY_BYTES, PlannerService, RequestError, json_bytes

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
#: Open connections uvicorn accepts before answering 503 (a local page has a handful).
MAX_CONNECTIONS = 100
#: The page loads only what the app serves (offline by construction).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def _error(message: str, status: int, field: str | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "field": field}, status_code=status)


async def _json_body(request: Request) -> Any:
    """The request body as JSON, read up to ``MAX_BODY_BYTES`` (RequestError 413 beyond)."""
    size = request.headers.get("content-length")
    if size is not None and (not size.isdigit() or int(size) > MAX_BODY_BYTES):
        raise RequestError(f"request body over {MAX_BODY_BYTES} bytes; send one scenario",
                           None, 413)
    chunks, n = [], 0
    async for chunk in request.stream():
        n += len(chunk)
        if n > MAX_BODY_BYTES:
            raise RequestError(f"request body over {MAX_BODY_BYTES} bytes; send one scenario",
                               None, 413)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RequestError(f"request body is not JSON ({exc}); send e.g. "
                           '{"scenario": "baseline"}') from None


def _query_request(params) -> dict[str, Any]:
    """Scenario fields from a query string, typed by ``FIELDS`` (a value that does not parse
    stays a string, so validation names the field)."""
    out: dict[str, Any] = {}
    for k, v in params.items():
        if v == "":
            continue
        typ = FIELDS.get(k, (str,))[0]
        try:
            out[k] = int(v) if typ is int else float(v) if typ is float else v
        except ValueError:
            out[k] = v
    return out


def create_app(service: PlannerService) -> FastAPI:
    """The FastAPI application answering the page over ``service``."""
    app = FastAPI(title="njforecast planner", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.service = service

    @app.middleware("http")
    async def headers(request: Request, call_next):
        """Security and caching headers; a 500 with a one-line message for any escape."""
        try:
            response = await call_next(request)
        except Exception:  # pragma: no cover - handlers below answer first
            log.exception("unhandled error on %s", request.url.path)
            response = _error("internal error (logged by the server); the app keeps answering",
                              500)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        if request.url.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(RequestError)
    async def bad_request(_request: Request, exc: RequestError):
        return _error(exc.message, exc.status, exc.field)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException):
        return _error(str(exc.detail), exc.status_code)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception):
        log.error("error answering %s", request.url.path, exc_info=exc)
        return _error("internal error (logged by the server); the app keeps answering", 500)

    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/api/meta")
    async def meta():
        return Response(json_bytes(await run_in_threadpool(service.meta)),
                        media_type="application/json")

    @app.get("/api/health")
    async def health():
        return {"ok": True, **service.stats}

    @app.post("/api/scenario")
    async def scenario(request: Request):
        body = await _json_body(request)
        t0 = time.perf_counter()
        answer = await run_in_threadpool(service.answer, body)
        return Response(answer, media_type="application/json", headers={
            "Server-Timing": f"app;dur={(time.perf_counter() - t0) * 1e3:.1f}"})

    @app.post("/api/projection")
    async def projection(request: Request):
        body = await _json_body(request)
        df = await run_in_threadpool(service.projection, body)
        return Response(df.to_json(orient="records"), media_type="application/json")

    @app.get("/api/download/{name}.{fmt}")
    async def download(name: str, fmt: str, request: Request):
        req = _query_request(request.query_params)
        data, media, filename = await run_in_threadpool(service.download, req, name, fmt)
        return Response(data, media_type=media, headers={
            "Content-Disposition": f'attachment; filename="{filename}"'})

    @app.post("/api/save")
    async def save(request: Request):
        body = await _json_body(request)
        return await run_in_threadpool(service.save, body)

    return app


def _config(service: PlannerService, host: str, port: int):
    import uvicorn

    return uvicorn.Config(create_app(service), host=host, port=port, log_level="warning",
                          limit_concurrency=MAX_CONNECTIONS, timeout_keep_alive=5,
                          h11_max_incomplete_event_size=MAX_BODY_BYTES, server_header=False,
                          access_log=False)


def serve(service: PlannerService, host: str = "127.0.0.1", port: int = 8050) -> None:
    """Run the page with uvicorn on ``host:port`` until interrupted (Ctrl-C)."""
    import uvicorn

    uvicorn.Server(_config(service, host, port)).run()


#: Environment variables that hand the config and tracking URI to worker processes.
ENV_CONFIG, ENV_TRACKING = "NJFORECAST_APP_CONFIG", "NJFORECAST_APP_TRACKING_URI"


def app_from_env() -> FastAPI:
    """The application of one worker process: its own PlannerService (base state built once
    per process) over the config named by ``NJFORECAST_APP_CONFIG``."""
    import os

    return create_app(PlannerService(os.environ[ENV_CONFIG],
                                     os.environ.get(ENV_TRACKING) or None))


def serve_workers(config: str | Path, host: str = "127.0.0.1", port: int = 8050,
                  workers: int = 2, tracking_uri: str | None = None) -> None:
    """Run the page in ``workers`` processes sharing one port (uvicorn's supervisor).

    Python runs one thread of pandas at a time, so a second process is what puts a second core
    to work; each process builds its own base state and keeps its own cache (a browser's
    kept-alive connection stays with one process, so its repeats still hit its cache).
    """
    import os

    import uvicorn

    os.environ[ENV_CONFIG] = str(Path(config).resolve())
    if tracking_uri:
        os.environ[ENV_TRACKING] = tracking_uri
    uvicorn.run("njforecast.app.server:app_from_env", factory=True, host=host, port=port,
                workers=workers, log_level="warning", limit_concurrency=MAX_CONNECTIONS,
                timeout_keep_alive=5, h11_max_incomplete_event_size=MAX_BODY_BYTES,
                server_header=False, access_log=False)


@contextlib.contextmanager
def background_server(service: PlannerService, host: str = "127.0.0.1", port: int = 0,
                      timeout: float = 20.0) -> Iterator[str]:
    """Run the page on a thread (port 0: a free port) and yield its base URL; stop it after.

    Raises:
        RuntimeError: the server did not start within ``timeout`` seconds.
    """
    import uvicorn

    server = uvicorn.Server(_config(service, host, port))
    thread = threading.Thread(target=server.run, name="njforecast-app", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the app did not start on {host}:{port}")
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout)
