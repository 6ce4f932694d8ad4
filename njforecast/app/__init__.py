"""The planner's page (DESIGN §2 app/): a scenario explorer in the browser on the same engine.

Modules:
    service   PlannerService (base state built once, validation by the served model's rules,
              cached answers, downloads, "save scenario" as an MLflow run), RequestError
    answers   what the page draws, from the projection arrays (fan charts, enrolment, teachers,
              seat utilisation, target table)
    server    create_app(service), serve(service, host, port), serve_workers(config, …,
              workers), background_server(...)
    text      the page's words in English and Chinese (report labels reused)
    static/   index.html, app.js, charts.js (SVG charts written for this page), app.css —
              everything the page loads is served by the app (no CDN, works offline)

Start it with ``njforecast app [--config CONFIG] [--port 8050] [--host 127.0.0.1]``.
"""

from .server import background_server, create_app, serve, serve_workers
from .service import PlannerService, RequestError

__all__ = ["PlannerService", "RequestError", "background_server", "create_app", "serve",
           "serve_workers"]
