"""The planner's page behind the HTTP layer: one base state, validated requests, cached answers.

Public names:
    PlannerService(config_path, tracking_uri=None)   the state (built once), presets, answers
    RequestError(message, field=None, status=400)    a bad request, naming the field when one is
    MAX_BODY_BYTES, ANSWER_CACHE, DOWNLOAD_TABLES    request and memory caps, downloadable tables
    json_bytes(obj)                                  compact JSON bytes (NaN refused)

A request is a flat mapping: ``scenario`` (a preset name), any lever of
:data:`njforecast.tracking.SERVE_FIELDS`, and ``area`` (an area code, default the city). The
scenario part is validated by the served model's own checks
(:meth:`njforecast.tracking.ScenarioEngine.scenarios_for`: unknown fields, types, bounds from
``planning.scenarios.FIELDS``, draws ≤ ``SERVE_MAX_DRAWS``), so the page, the HTTP scenario
API and scenario files accept the same values. A distinct scenario costs one
:func:`njforecast.engine.project` plus its summaries; answers are kept (least recently used
dropped first), so moving back to a lever value, or switching area or language, is free.
"""

from __future__ import annotations

import json
import logging
import math
import re
import tempfile
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema as S
from ..engine import make_results, project
from ..planning.scenarios import FIELDS, STAFFING_STANDARDS, apply_to_config
from ..tracking import DEFAULT_TRACKING_URI, SERVE_FIELDS, SERVE_MAX_DRAWS, ScenarioEngine
from .answers import comparison_years, for_area, scenario_answer, target_table
from .text import ui_text

log = logging.getLogger(__name__)

#: Largest request body accepted (bytes): a scenario is a dozen fields.
MAX_BODY_BYTES = 16 * 1024
#: Distinct scenario answers kept in memory (each about 1 MB: summaries, target draws, JSON).
ANSWER_CACHE = 128
#: Scenarios computed at the same time (threads; numpy releases the GIL in its array work).
COMPUTE_SLOTS = 2
#: Tables a planner can download (CSV one by one, or all in one Excel workbook).
DOWNLOAD_TABLES = ("target_gaps", "projection_summary", "population_school_age", "enrolment",
                   "indicators", "teachers", "capacity", "quality_flags", "assumptions")
#: Request fields that are not scenario fields.
PAGE_FIELDS = ("area",)


def json_bytes(obj: Any) -> bytes:
    """Compact JSON (UTF-8, no NaN: the answers carry None for missing values)."""
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


class RequestError(ValueError):
    """A request the app refuses: ``message`` says why, ``field`` names the lever (or None)."""

    def __init__(self, message: str, field: str | None = None, status: int = 400):
        super().__init__(message)
        self.message, self.field, self.status = message, field, status


def _field_of(message: str) -> str | None:
    """The request field a validation message is about (``field 'x'`` or a field's name)."""
    m = re.search(r"field '(\w+)'", message)
    if m and m.group(1) in SERVE_FIELDS:
        return m.group(1)
    for name in SERVE_FIELDS[1:]:
        if re.search(rf"\b{name}\b", message):
            return name
    return None


class PlannerService:
    """The page's engine: built once at start-up, then answers requests from many threads.

    Args:
        config_path: experiment config (TOML), e.g. ``experiments/neijiang-baseline/config.toml``.
        tracking_uri: where "save scenario" logs its MLflow run (default: the config's
            ``tracking_uri``, else ``sqlite:///mlflow.db``).
        warm: answer every preset once at start-up (else only the baseline).

    Attributes:
        engine: the served model's :class:`~njforecast.tracking.ScenarioEngine` (config, base
            state, presets and request validation).
        stats: counters (answers computed, cache hits, refused requests).
    """

    def __init__(self, config_path: str | Path, tracking_uri: str | None = None,
                 warm: bool = True):
        t0 = time.perf_counter()
        self.engine = ScenarioEngine(config_path)  # builds the BaseState and warms it up
        self.cfg, self.state, self.presets = self.engine.cfg, self.engine.state, self.engine.presets
        self.tracking_uri = tracking_uri or self.cfg.tracking_uri or DEFAULT_TRACKING_URI
        self.region = self.state.region
        self._answers: OrderedDict[str, dict] = OrderedDict()
        self._cache_lock = threading.Lock()
        # new scenarios computed at once (one per core); others queue
        self._slots = threading.BoundedSemaphore(COMPUTE_SLOTS)
        self._inflight: dict[str, threading.Event] = {}  # scenario key -> computed
        self._save_lock = threading.Lock()  # SQLite store: one writer
        self.stats = {"computed": 0, "cache_hits": 0, "refused": 0}
        self._observed = None
        # every preset at the default draws, so the first page load and a preset switch are
        # answered from the cache (about 0.1 s each, once)
        for name in (self.presets if warm else ["baseline"]):
            self.answer({**self.default_request(), "scenario": name})
        self.start_seconds = time.perf_counter() - t0

    # --- what the page needs to draw its controls ------------------------------------------

    def default_request(self) -> dict[str, Any]:
        """The first page's request: the baseline preset at the config's draws and horizon."""
        return {"scenario": "baseline", "draws": min(self.cfg.draws or 0, SERVE_MAX_DRAWS),
                "area": self.region.code}

    def meta(self) -> dict[str, Any]:
        """Presets, levers (type, bounds, unit from ``FIELDS``), areas and defaults."""
        levers = {}
        for name in SERVE_FIELDS[1:]:
            typ, lo, hi, unit, meaning = FIELDS[name]
            hi = SERVE_MAX_DRAWS if name == "draws" else hi
            levers[name] = {"type": typ.__name__, "min": lo, "max": hi, "unit": unit,
                            "meaning": meaning}
        levers["staffing_standard"]["choices"] = list(STAFFING_STANDARDS)
        presets = {n: {"description": sc.description,
                       "fields": {k: getattr(sc, k) for k in SERVE_FIELDS[1:]}}
                   for n, sc in self.presets.items()}
        names = {lang: self.region.names(lang) for lang in ("en", "zh")}
        codes = [self.region.code, *[a.code for a in self.region.counties]]
        from ..engine.project import LEVELS, SEAT_LEVELS

        keys = [*self.state.targets[S.INDICATOR].astype(str), *LEVELS, *SEAT_LEVELS]
        return {"text": ui_text(keys, self.presets), "levers": levers, "presets": presets,
                "lever_order": list(SERVE_FIELDS[1:]),
                "areas": [{"code": c, "en": names["en"].get(c, c), "zh": names["zh"].get(c, c)}
                          for c in codes],
                "city": self.region.code,
                "defaults": {"draws": self.default_request()["draws"], "seed": self.cfg.seed,
                             "end_year": self.cfg.end_year, "base_year": self.cfg.base_year},
                "max_draws": SERVE_MAX_DRAWS, "max_body_bytes": MAX_BODY_BYTES,
                "tracking_uri": self.tracking_uri}

    # --- requests ------------------------------------------------------------------------------

    def scenario_for(self, request: Any) -> tuple[Any, str]:
        """Validate a request; return (Scenario, area code).

        Raises:
            RequestError: not a JSON object, unknown area, or a scenario field the served
                model's validation refuses (the message names the field; ``field`` is set).
        """
        if not isinstance(request, dict):
            raise RequestError("the request must be one JSON object such as "
                               '{"scenario": "baseline", "fertility_multiplier": 0.8}')
        fields = {k: v for k, v in request.items() if k not in PAGE_FIELDS}
        area = request.get("area", self.region.code)
        codes = [self.region.code, *[a.code for a in self.region.counties]]
        if not isinstance(area, str):
            raise RequestError(f"area must be a division code as text, e.g. \"{codes[-1]}\", "
                               f"got {area!r}", "area")
        if area not in codes:
            raise RequestError(f"unknown area {area!r}; one of {', '.join(codes)}", "area")
        for k, v in fields.items():  # one scenario, plain values (the served model takes tables)
            if isinstance(v, (list, dict)):
                raise RequestError(f"field '{k}' must be a single value, got a "
                                   f"{type(v).__name__}", k if k in SERVE_FIELDS else None)
            if isinstance(v, float) and not math.isfinite(v):  # a table would read it as unset
                raise RequestError(f"field '{k}' is {json.dumps(v)}; give a number (leave the field out "
                                   "for the scenario's value)", k if k in SERVE_FIELDS else None)
        fields.setdefault("scenario", "baseline")
        fields.setdefault("draws", self.default_request()["draws"])
        try:
            (sc,) = self.engine.scenarios_for(pd.DataFrame([fields]))
        except Exception as exc:  # the served model's 400 answers (MlflowException)
            if getattr(exc, "error_code", None) != "INVALID_PARAMETER_VALUE":
                raise
            msg = re.sub(r"^row 0: ", "", getattr(exc, "message", str(exc)))
            raise RequestError(msg, _field_of(msg)) from None
        return sc, area

    def _results(self, sc):
        """Project one scenario (the one engine call per distinct request)."""
        return make_results(self.state, project(self.state, sc), apply_to_config(self.cfg, sc))

    def answer(self, request: Any) -> bytes:
        """The page's answer to a request as JSON bytes (see
        :func:`njforecast.app.answers.for_area`), with ``compute_ms`` (0 when nothing was
        computed) and ``cached`` first.

        Raises:
            RequestError: see :meth:`scenario_for`; a scenario the engine cannot project
                (``ValueError``) is answered as a 422 naming the scenario.
        """
        try:
            sc, area = self.scenario_for(request)
        except RequestError:
            self.stats["refused"] += 1
            raise
        key = repr(sc)
        entry, ms = self._entry(key, sc)
        body = entry["areas"].get(area)
        if body is None:  # this area's target rows and JSON, once per scenario and area
            t0 = time.perf_counter()
            body = json_bytes(for_area(entry["full"], area, self.state.targets))
            entry["areas"][area] = body
            ms += (time.perf_counter() - t0) * 1e3
        elif ms == 0.0:
            self.stats["cache_hits"] += 1
        # the cached JSON object with this request's timing put first
        return b'{"compute_ms":%.1f,"cached":%s,' % (ms, b"true" if ms == 0.0 else b"false") \
            + body[1:]

    def _entry(self, key: str, sc) -> tuple[dict, float]:
        """(the cached answer of a scenario, ms spent computing it here: 0 when cached).

        At most ``COMPUTE_SLOTS`` scenarios are computed at once; a request for a scenario
        being computed waits for that answer instead of computing it again.
        """
        with self._cache_lock:
            entry = self._answers.get(key)
            if entry is not None:
                self._answers.move_to_end(key)
                return entry, 0.0
            done = self._inflight.get(key)
            mine = done is None
            if mine:
                done = self._inflight[key] = threading.Event()
        if not mine:
            done.wait(60)
            with self._cache_lock:
                entry = self._answers.get(key)
            if entry is not None:
                return entry, 0.0
        t0 = time.perf_counter()
        try:
            with self._slots:
                res = self._results(sc)
                if self._observed is None:
                    self._observed = res.observed_targets()
                entry = {"full": scenario_answer(res, self.state.targets, self._observed),
                         "areas": {}}
        except ValueError as exc:
            raise RequestError(f"scenario {sc.name!r} cannot be projected: {exc}", None,
                               422) from None
        finally:
            if mine:
                with self._cache_lock:
                    self._inflight.pop(key, None)
                done.set()
        with self._cache_lock:
            self._answers[key] = entry
            while len(self._answers) > ANSWER_CACHE:
                self._answers.popitem(last=False)
            self.stats["computed"] += 1
        return entry, (time.perf_counter() - t0) * 1e3

    def projection(self, request: Any) -> pd.DataFrame:
        """``Results.projection_summary()`` of the request's scenario (the served model's
        answer and ``njforecast scenario run``'s numbers), every area."""
        sc, _ = self.scenario_for(request)
        with self._slots:
            return self._results(sc).projection_summary()

    # --- downloads and saving ----------------------------------------------------------------

    def tables(self, request: Any) -> tuple[Any, dict[str, pd.DataFrame]]:
        """(Scenario, name → frame) for every table in :data:`DOWNLOAD_TABLES`."""
        sc, _ = self.scenario_for(request)
        with self._slots:
            res = self._results(sc)
            years = comparison_years(self.state.targets, self.cfg.base_year,
                                     res.config.end_year)
            out = {"target_gaps": target_table(res, self.state.targets, years),
                   "projection_summary": res.projection_summary(), **res.tables(),
                   "assumptions": res.assumptions}
        return sc, out

    def variant(self, sc) -> str:
        """The scenario's name, plus ``-custom-<8 hex>`` (a digest of its fields) when levers
        changed it from its preset, so two variants' downloads and saved runs never share a
        name; the draw count alone does not make a variant."""
        import hashlib

        preset = self.presets.get(sc.name)
        mine = {k: v for k, v in sc.to_dict().items() if k not in ("draws", "description")}
        if preset is not None and mine == {k: v for k, v in preset.to_dict().items()
                                          if k not in ("draws", "description")}:
            return sc.name
        digest = hashlib.sha1(json.dumps(mine, sort_keys=True, default=str).encode())
        return f"{sc.name}-custom-{digest.hexdigest()[:8]}"

    def download(self, request: Any, table: str, fmt: str) -> tuple[bytes, str, str]:
        """A table as CSV, or every table as one Excel workbook: (bytes, media type, file name).

        Raises:
            RequestError: unknown table or format (404), or a bad scenario (400).
        """
        if fmt not in ("csv", "xlsx"):
            raise RequestError(f"unknown format {fmt!r}; csv or xlsx", None, 404)
        if fmt == "csv" and table not in DOWNLOAD_TABLES:
            raise RequestError(f"unknown table {table!r}; one of {', '.join(DOWNLOAD_TABLES)}",
                               None, 404)
        sc, tables = self.tables(request)
        stem = f"{self.cfg.name}-{self.variant(sc)}"
        if fmt == "csv":
            data = tables[table].to_csv(index=False, lineterminator="\n").encode("utf-8-sig")
            return data, "text/csv; charset=utf-8", f"{stem}-{table}.csv"
        from ..reporting.writers import write_excel

        assumptions = tables.pop("assumptions")
        with tempfile.TemporaryDirectory() as tmp:
            path = write_excel(tables, Path(tmp) / "tables.xlsx", assumptions_df=assumptions,
                               sources_df=self.state.sources)
            data = path.read_bytes()
        return (data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                f"{stem}.xlsx")

    def save(self, request: Any) -> dict[str, Any]:
        """Log the request's scenario as an MLflow run (browsing never logs).

        The run (experiment: the config's name; tag ``njforecast.kind = app-scenario``) holds
        the scenario's fields as params, the city's target-indicator means and p_meet per
        target as metrics, and the target gaps, projection summary and scenario TOML as
        artifacts.

        Returns:
            run_id, experiment_id, tracking_uri, run_name and ``ui_path`` (the run's address
            in ``mlflow ui``: ``#/experiments/<id>/runs/<run id>``).
        """
        from ..tracking import run as tracking_run

        sc, tables = self.tables(request)
        res_metrics = self._metrics(tables["target_gaps"], tables["projection_summary"])
        name = f"app:{self.variant(sc)}"
        with self._save_lock, tracking_run(self.cfg.name, name, self.tracking_uri,
                                           tags={"njforecast.kind": "app-scenario",
                                                 "scenario": sc.name,
                                                 "data_hash": self.state.data_hash}) as r:
            r.log_params({"scenario": sc.to_dict(), "config": str(self.cfg.path),
                          "draws": sc.draws, "seed": sc.seed if sc.seed is not None
                          else self.cfg.seed,
                          "end_year": sc.end_year or self.cfg.end_year})
            r.log_metrics(res_metrics)
            r.log_frame(tables["target_gaps"], "target_gaps.csv")
            r.log_frame(tables["projection_summary"], "projection_summary.csv")
            with tempfile.TemporaryDirectory() as tmp:
                p = Path(tmp) / "scenario.toml"
                p.write_text(sc.to_toml(), encoding="utf-8")
                r.log_file(p)
        return {"run_id": r.run_id, "experiment_id": r.experiment_id, "run_name": name,
                "tracking_uri": self.tracking_uri,
                "ui_path": f"#/experiments/{r.experiment_id}/runs/{r.run_id}"}

    def _metrics(self, gaps: pd.DataFrame, summary: pd.DataFrame) -> dict[str, float]:
        """City means of the target indicators in the compared years and p_meet per target."""
        city = self.region.code
        out = {}
        years = set(gaps[S.YEAR])
        s = summary[(summary[S.AREA] == city) & summary[S.YEAR].isin(years)]
        for r in s.itertuples():
            if r.indicator in set(gaps[S.INDICATOR]):
                out[f"{r.indicator}.{r.year}"] = float(r.mean)
        g = gaps[(gaps[S.AREA] == city) & gaps[S.P_MEET].notna()]
        out |= {f"p_meet.{r.indicator}.{r.year}": float(r.p_meet) for r in g.itertuples()}
        return out

