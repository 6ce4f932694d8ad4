"""The served scenario engine: an MLflow pyfunc model (``loader_module`` flavor) that answers
scenario requests over HTTP (DESIGN §6).

Public names:
    ScenarioEngine                request rows → projection summaries; bad requests →
                                  MlflowException (HTTP 400) naming the row and field
    _load_pyfunc(data_path)       MLflow's loader hook (re-exported by ``njforecast.tracking``,
                                  the ``loader_module`` of exported models)
    scenario_signature()          the model signature (output columns)
    export_scenario_model(out, config)  save the engine, package code and data as a model folder
    log_scenario_model(parent, dir)     attach an exported model folder to a run
    staged_model_dir(dir), stage_scenario_model(parent, staged, config, observations, targets,
    jump_off), publish_scenario_model(parent, staged, dir), discard_staged_model(parent, staged)
                                  export early into a staging folder, publish on success
    PLANNER_FILE, TARGETS_FILE, JUMP_OFF_FILE   a run's own files inside an exported model
    SERVE_DEFAULT_DRAWS, SERVE_MAX_DRAWS, SERVE_MAX_ROWS, SERVE_FIELDS   request defaults and caps
"""

from __future__ import annotations

import json

import tempfile
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pandas as pd

from .runs import Run, _mlflow, _retry, package_versions

#: Draws a served request uses when it does not say (fewer than a full run: latency).
SERVE_DEFAULT_DRAWS = 100
#: Largest ``draws`` a served request may ask for (HTTP latency and memory cap; the scenario
#: files' own cap is ``scenarios.MAX_DRAWS``).
SERVE_MAX_DRAWS = 500
#: Largest number of scenario rows in one request.
SERVE_MAX_ROWS = 8
#: Distinct answers kept by a served engine (least recently used dropped first).
SERVE_CACHE = 64
#: Request fields: ``scenario`` (a preset name, required) and the overridable Scenario fields.
SERVE_FIELDS = ("scenario", "fertility_multiplier", "migration_multiplier", "reach_targets_by",
                "staffing_standard", "class_size_cap_primary", "class_size_cap_junior",
                "attrition", "hires_per_year", "end_year", "draws", "seed")


def _bad_request(message: str):
    """An MlflowException that MLflow's scoring server answers with HTTP 400."""
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

    return MlflowException(message, error_code=INVALID_PARAMETER_VALUE)


class ScenarioEngine:
    """The scenario engine behind the served model: request rows → projection summaries.

    Each request row names a preset ``scenario`` and may override fields (``SERVE_FIELDS``);
    the answer has, per row, columns scenario, area, year, indicator, unit, mean, lo80, hi80,
    lo95, hi95 (see :meth:`njforecast.engine.Results.projection_summary`).

    The base state (data read, base derived) is built once when the engine is created; a
    request row costs one :func:`njforecast.engine.project` and its summaries. The last
    :data:`SERVE_CACHE` distinct answers are kept (a repeated request is answered from them).

    Bad requests raise ``MlflowException(INVALID_PARAMETER_VALUE)`` (HTTP 400) with a message
    naming the row and field: unknown scenario, unknown field, wrong type, out-of-range value,
    ``end_year`` past ``scenarios.MAX_END_YEAR``, ``draws`` above ``SERVE_MAX_DRAWS``, more
    than ``SERVE_MAX_ROWS`` rows.
    """

    def __init__(self, config_path: str | Path, data_dir: str | Path | None = None):
        import os

        if data_dir is not None:
            os.environ["NJFORECAST_DATA"] = str(data_dir)
        from dataclasses import replace

        from ..config import load_config

        self.cfg = load_config(config_path)
        # a planner's series, targets and jump-off exported with the model (export_scenario_model)
        folder = Path(config_path).parent
        if (folder / JUMP_OFF_FILE).is_file():
            from ..config import with_jump_off

            setting = json.loads((folder / JUMP_OFF_FILE).read_text(encoding="utf-8"))
            self.cfg = with_jump_off(self.cfg, setting["jump_off"], str(folder / JUMP_OFF_FILE))
        for name, section, key in ((PLANNER_FILE, "data", "observations"),
                                   (TARGETS_FILE, "targets", "file")):
            own = sorted(folder.glob(f"{name}.*"))
            if own:
                sections = dict(self.cfg.sections)
                sections[section] = {**self.cfg.section(section), key: str(own[0])}
                self.cfg = replace(self.cfg, sections=sections)
        from ..engine import build_state, presets_for, project

        self.state = build_state(self.cfg)
        self.presets = presets_for(self.state)
        self._answers: OrderedDict = OrderedDict()
        # derive what every request shares (calibration, trend set-up, ratios) before serving
        project(self.state, replace(self.presets["baseline"], draws=1))

    def _answer(self, sc) -> pd.DataFrame:
        """The projection summary of one scenario (from the cache when asked before)."""
        from ..engine import make_results, project
        from ..planning.scenarios import apply_to_config

        key = repr(sc)
        if key in self._answers:
            self._answers.move_to_end(key)
            return self._answers[key]
        res = make_results(self.state, project(self.state, sc), apply_to_config(self.cfg, sc))
        out = res.projection_summary()
        self._answers[key] = out
        while len(self._answers) > SERVE_CACHE:
            self._answers.popitem(last=False)
        return out

    def scenarios_for(self, df: pd.DataFrame) -> list:
        """Validate request rows and build their Scenarios (raises the 400 exception)."""
        import dataclasses

        from ..planning.scenarios import ScenarioError

        if not isinstance(df, pd.DataFrame):
            try:
                df = pd.DataFrame(df)
            except (TypeError, ValueError) as exc:
                raise _bad_request(f"request is not a table of records: {exc}") from None
        if len(df) == 0:
            raise _bad_request("request has no rows; send {\"dataframe_records\": "
                               "[{\"scenario\": \"baseline\"}]}")
        if len(df) > SERVE_MAX_ROWS:
            raise _bad_request(f"request has {len(df)} rows; at most {SERVE_MAX_ROWS} scenarios "
                               "per request")
        unknown = [c for c in df.columns if c not in SERVE_FIELDS]
        if unknown:
            raise _bad_request(f"unknown field(s) {unknown}; allowed: {', '.join(SERVE_FIELDS)}")
        if "scenario" not in df.columns:
            raise _bad_request("field 'scenario' is required (a preset name)")
        known = self.presets
        out = []
        for i, row in enumerate(df.to_dict("records")):
            name = row.get("scenario")
            if not isinstance(name, str) or name not in known:
                raise _bad_request(f"row {i}: unknown scenario {name!r}; presets: "
                                   f"{', '.join(known)}")
            over = {}
            for k, v in row.items():
                if k == "scenario" or v is None or (isinstance(v, float) and v != v):
                    continue
                if isinstance(v, float) and v.is_integer() and k in ("reach_targets_by",
                                                                     "end_year", "draws", "seed"):
                    v = int(v)
                if hasattr(v, "item"):
                    v = v.item()  # numpy scalar → Python
                over[k] = v
            over.setdefault("draws", min(SERVE_DEFAULT_DRAWS, self.cfg.draws or
                                         SERVE_DEFAULT_DRAWS))
            if isinstance(over["draws"], int) and not 0 <= over["draws"] <= SERVE_MAX_DRAWS:
                raise _bad_request(f"row {i}: draws = {over['draws']} is out of range "
                                   f"[0, {SERVE_MAX_DRAWS}] (the cap for served requests)")
            try:
                out.append(dataclasses.replace(known[name], **over))
            except ScenarioError as exc:
                raise _bad_request(f"row {i}: {exc}") from None
            except TypeError as exc:
                raise _bad_request(f"row {i}: {exc}") from None
        return out

    def predict(self, model_input, params=None) -> pd.DataFrame:
        """Projection summaries for every request row (see the class docstring)."""
        frames = []
        for sc in self.scenarios_for(model_input):
            try:
                summary = self._answer(sc)
            except ValueError as exc:
                raise _bad_request(f"scenario {sc.name!r}: {exc}") from None
            frames.append(summary.assign(scenario=sc.name))
        out = pd.concat(frames, ignore_index=True)
        return out[["scenario", *[c for c in out.columns if c != "scenario"]]]


def _load_pyfunc(data_path: str) -> ScenarioEngine:
    """MLflow loader (``loader_module`` flavor): the engine over the model's bundled data."""
    p = Path(data_path)
    return ScenarioEngine(p / "config.toml", p / "data")


def scenario_signature():
    """Signature of the served model: output columns (input fields: ``SERVE_FIELDS``, README).

    The input schema is deliberately left out of the signature: with one, MLflow drops
    unknown request columns with only a log warning (``mlflow.models.utils._enforce_schema``),
    whereas the engine must answer them with HTTP 400. The input fields and their ranges are
    in the model's metadata (``serve_fields``) and ``models/README.md``.
    """
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    return ModelSignature(outputs=Schema([
        ColSpec("string", "scenario"), ColSpec("string", "area"), ColSpec("long", "year"),
        ColSpec("string", "indicator"), ColSpec("string", "unit"), ColSpec("double", "mean"),
        ColSpec("double", "lo80"), ColSpec("double", "hi80"), ColSpec("double", "lo95"),
        ColSpec("double", "hi95"), ColSpec("string", "quality")]))


def _field_metadata() -> dict[str, Any]:
    from ..planning.scenarios import FIELDS

    meta = {"scenario": {"type": "string", "required": True, "meaning": "preset name"}}
    for k in SERVE_FIELDS[1:]:
        typ, lo, hi, unit, meaning = FIELDS[k]
        hi = SERVE_MAX_DRAWS if k == "draws" else hi
        meta[k] = {"type": typ.__name__, "min": lo, "max": hi, "unit": unit, "meaning": meaning}
    return meta


#: Name (without suffix) of a planner's observations file inside an exported model folder.
PLANNER_FILE = "planner_observations"
#: Name (without suffix) of the run's targets file (``--targets``) inside an exported model folder.
TARGETS_FILE = "plan_targets_file"
#: The run's jump-off setting (``--jump-off``) inside an exported model folder.
JUMP_OFF_FILE = "jump_off.json"


def export_scenario_model(out_dir: str | Path, config_path: str | Path,
                          observations: str | Path | None = None,
                          targets: str | Path | None = None,
                          jump_off: int | str | None = None) -> Path:
    """Save the scenario engine as an MLflow pyfunc model folder (atomic: temp + rename).

    The folder holds the package code (``code_paths``), the bundled data (raw, external and
    processed), the config and — when the run used one (``observations``) — the planner's own
    series (as ``planner_observations.<ext>``, which the served engine uses instead of the
    config's ``[data] observations``) and its targets file (``targets``, default the config's
    ``[targets] file``; as ``plan_targets_file.<ext>``), so ``mlflow models serve -m <folder> --env-manager
    local`` needs nothing else from the repository.
    """
    import shutil

    mlflow = _mlflow()
    from ..config import data_dir
    from ..io.processed import read_processed
    from ..io.store import replace_dir_atomic

    out_dir = Path(out_dir)
    if observations is None or targets is None:  # the config's own files, if any
        from ..config import load_config
        from ..engine.state import planner_observations_path, targets_path

        cfg = load_config(config_path)
        observations = observations or planner_observations_path(cfg)
        targets = targets or targets_path(cfg)
    for name in ("census_population", "census_areas", "observations", "plan_targets", "seats",
                 "standards"):
        read_processed(name)  # builds data/processed when missing
    pkg = Path(__file__).resolve().parent.parent  # the njforecast package
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp) / "engine"
        (stage / "data").mkdir(parents=True)
        for sub in ("raw", "external", "processed"):
            shutil.copytree(data_dir() / sub, stage / "data" / sub,
                            ignore=shutil.ignore_patterns(".*", "*.tmp"))
        shutil.copy(config_path, stage / "config.toml")
        for src, name in ((observations, PLANNER_FILE), (targets, TARGETS_FILE)):
            if src is not None:
                shutil.copy(src, stage / f"{name}{Path(src).suffix}")
        if jump_off is not None:  # e.g. `njforecast run --jump-off 2020`, not in the config file
            (stage / JUMP_OFF_FILE).write_text(json.dumps({"jump_off": jump_off}),
                                               encoding="utf-8")
        target = out_dir.parent / f".{out_dir.name}.tmp"
        shutil.rmtree(target, ignore_errors=True)
        example = pd.DataFrame([{"scenario": "baseline", "draws": 20, "end_year": 2030}])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mlflow.pyfunc.save_model(
                str(target), loader_module="njforecast.tracking", data_path=str(stage),
                code_paths=[str(pkg)], signature=scenario_signature(), input_example=example,
                metadata={"serve_fields": _field_metadata(), "max_draws": SERVE_MAX_DRAWS,
                          "max_rows": SERVE_MAX_ROWS},
                pip_requirements=[f"{p}=={v}" for p, v in package_versions().items()
                                  if v != "absent" and p != "njforecast"])
    return replace_dir_atomic(target, out_dir)


def log_scenario_model(parent: Run, model_dir: str | Path) -> None:
    """Attach an exported scenario model folder to a run (artifact path ``scenario_engine``)."""
    _retry(lambda: parent.client.log_artifacts(parent.run_id, str(model_dir), "scenario_engine"),
           "log scenario model")


def staged_model_dir(out_dir: str | Path) -> Path:
    """A new folder name beside ``out_dir`` for :func:`stage_scenario_model` (unique per call,
    so two jobs in one folder never publish each other's model)."""
    import uuid

    out_dir = Path(out_dir)
    return out_dir.parent / f".{out_dir.name}.staged-{uuid.uuid4().hex[:12]}"


def stage_scenario_model(parent: Run, staged: str | Path, config_path: str | Path,
                         observations: str | Path | None = None,
                         targets: str | Path | None = None,
                         jump_off: int | str | None = None) -> None:
    """Export the model into ``staged`` (from :func:`staged_model_dir`) and attach it to
    ``parent``; a job calls this first (it needs nothing the job computes) and
    :func:`publish_scenario_model` once the job has succeeded, so a failed job never replaces
    the served model."""
    log_scenario_model(parent, export_scenario_model(staged, config_path, observations, targets,
                                                     jump_off))


def publish_scenario_model(parent: Run, staged: str | Path, out_dir: str | Path) -> None:
    """Put the staged model in place of ``out_dir`` (atomic: renames)."""
    from ..io.store import replace_dir_atomic

    replace_dir_atomic(staged, out_dir)


def discard_staged_model(parent: Run | None, staged: str | Path) -> None:
    """Remove a staged model that will not be published (the job or its tracking failed)."""
    import shutil

    shutil.rmtree(staged, ignore_errors=True)
