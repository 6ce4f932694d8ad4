"""The planner's jobs: ``run`` (the main job), ``targets``, ``scenario``, ``serve`` and ``app``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from .common import (DEFAULT_CONFIG, DEFAULT_MODEL, _fail, _guard, _progress, app, scenario_app,
                     serve_app, targets_app)

@app.command("run")
def run(config: Path = typer.Argument(..., help="Experiment config (TOML), e.g. "
                                      "experiments/neijiang-baseline/config.toml."),
        lang: str = typer.Option("en", "--lang", help="Report language: en or zh."),
        scenarios: bool = typer.Option(True, "--scenarios/--no-scenarios",
                                       help="Also run the preset scenarios side by side."),
        observations: Path | None = typer.Option(
            None, "--observations", help="Your own series (observations format, README "
            "'Bringing your own county series'); replace the estimates where present. Same as "
            "[data] observations in the config."),
        targets: Path | None = typer.Option(
            None, "--targets", help="Plan targets to compare with (targets format, README "
            "'Targets for any plan'; list the ids with `njforecast targets list`). Same as "
            "[targets] file in the config; default: the region's plan."),
        jump_off: str | None = typer.Option(
            None, "--jump-off", help="'latest' (calibrate each of your series at its latest "
            "observed year) or a year (later observations are only compared with, ex-post). "
            "Same as jump_off in the config; default latest.")):
    """Run the main job for a config: build data, project, compare with targets, report, track."""
    from dataclasses import replace

    from ..config import load_config

    for flag, path in (("--observations", observations), ("--targets", targets)):
        if path is not None and not path.is_file():
            _fail(f"{flag} {path}: file not found (give the path of a CSV or xlsx file; check "
                  f"it with `njforecast {'data' if flag == '--observations' else 'targets'} "
                  "validate`)")
    cfg = _guard(load_config, config)
    if observations is not None:
        sections = dict(cfg.sections)
        sections["data"] = {**cfg.section("data"), "observations": str(observations.resolve())}
        cfg = replace(cfg, sections=sections)
    if targets is not None:
        cfg = replace(cfg, sections={**cfg.sections, "targets": {
            **cfg.section("targets"), "file": str(targets.resolve())}})
    if jump_off is not None:
        from ..config import with_jump_off

        cfg = _guard(with_jump_off, cfg, jump_off, "--jump-off")
    if cfg.section("ex_post"):  # an ex-post check (experiments/sichuan-expost/config.toml)
        from ..evaluation.ex_post import run_ex_post, write_ex_post

        table, notes = _guard(run_ex_post, cfg)
        out = write_ex_post(table, notes, cfg.output_dir)
        typer.echo(table.round(2).to_string(index=False))
        typer.echo(f"\noutputs: {out}, {out.parent / 'ex_post_assumptions.csv'}")
        return
    if cfg.section("backtest"):  # a back-test experiment (experiments/<name>/config.toml)
        _backtest_experiment(cfg)
        return
    _pipeline_job(cfg, lang, None, scenarios, export_model=True)


# --- targets for any plan (issue 14) -------------------------------------------------------


@targets_app.command("list")
def targets_list(config: Path = typer.Option(DEFAULT_CONFIG,
                                             "--config", help="Experiment config whose region "
                                             "and plan give the ids.")):
    """Print the indicator ids a targets file may use, with unit and meaning."""
    from ..config import load_config
    from ..engine.state import target_ids

    table = _guard(target_ids, _guard(load_config, config))
    typer.echo(table.to_string(index=False))


@targets_app.command("validate")
def targets_validate(
        path: Path = typer.Argument(..., help="Targets file (CSV or xlsx)."),
        config: Path = typer.Option(DEFAULT_CONFIG, "--config",
                                    help="Experiment config whose region and jump-off year "
                                         "the targets are checked against.")):
    """Check a targets file: exit 0 with one line when it is fine, 2 with every problem."""
    from ..config import load_config
    from ..engine.state import check_targets_file
    from ..io.validation import format_problems

    if not path.is_file():
        _fail(f"{path}: file not found; give a CSV or xlsx with columns area, indicator, "
              "target_year, comparison, target, unit")
    frame, problems = _guard(check_targets_file, _guard(load_config, config), path)
    for line in format_problems(problems):
        typer.echo(line)
    if frame is None:
        _fail(f"{path} has errors; fix them and validate again")
    typer.echo(f"ok: {path} — {len(frame)} targets, {frame['indicator'].nunique()} indicators, "
               f"target years {', '.join(map(str, sorted(set(frame['target_year']))))}")


# --- planner: pipeline, scenarios, serving (issue 6) ---------------------------------------



def _pipeline_job(cfg, lang: str, scenario, with_presets: bool, export_model: bool) -> None:
    """Pipeline → targets → scenarios → report inside one MLflow run; print the summary."""
    from ..engine import presets_for
    from ..engine.state import check_run_targets
    from ..reporting import build_outputs, resolve_lang, summary_table
    from ..tracking import (TrackingError, discard_staged_model, log_pipeline, log_scenario,
                            publish_scenario_model, stage_scenario_model)
    from ..tracking.serving import staged_model_dir

    from ..engine.state import planner_observation_warnings

    say = _progress()
    _, msg = _guard(resolve_lang, lang)
    if msg:
        typer.echo(msg, err=True)
    for line in _guard(planner_observation_warnings, cfg):  # a bad file stops here (exit 2)
        typer.echo(line, err=True)

    _guard(check_run_targets, cfg)  # a bad targets file: refused before any run starts
    staged = staged_model_dir(DEFAULT_MODEL)  # this job's own staging folder

    def body(parent):
        if export_model:  # exported by the tracking process while the job computes
            from ..engine.state import planner_observations_path, targets_path

            parent.apply(stage_scenario_model, staged, cfg.path,
                         _guard(planner_observations_path, cfg), _guard(targets_path, cfg),
                         cfg.jump_off)
        try:
            out = build_outputs(cfg, lang, scenario, list(_guard(presets_for, cfg).values())
                                if with_presets else [],
                                say, on_scenario=lambda res, gaps: log_scenario(parent, res,
                                                                                gaps))
        except BaseException:
            if export_model:
                parent.apply(discard_staged_model, staged)
            raise
        say("waiting for MLflow (tracking process"
            f"{', scenario model export to ' + str(DEFAULT_MODEL) if export_model else ''})")
        return out

    name = None if scenario is None else f"scenario:{scenario.name}"
    try:
        run_id, out = _guard(log_pipeline, cfg, body, run_name=name)
    except TrackingError as exc:  # the outputs are written; the MLflow record or export failed
        discard_staged_model(None, staged)
        typer.echo(f"error: {exc}\n(outputs written to {cfg.output_dir}/; the MLflow run in "
                   f"{cfg.tracking_uri} or the model export to {DEFAULT_MODEL} did not complete: "
                   "fix the cause named above and run again)", err=True)
        raise typer.Exit(code=1) from None
    if export_model:  # only once the run and all its metrics are recorded
        try:
            publish_scenario_model(None, staged, DEFAULT_MODEL)
        except OSError as exc:
            discard_staged_model(None, staged)
            typer.echo(f"error: the scenario model could not be put in {DEFAULT_MODEL} ({exc}); "
                       f"outputs and the MLflow run {run_id} are complete: fix the folder's "
                       "permissions or space and export it with `njforecast serve export`",
                       err=True)
            raise typer.Exit(code=1) from None
    say("done")
    typer.echo(summary_table(out["gaps"], lang=lang))
    typer.echo(f"\noutputs: {out['out_dir']}/ (target_gaps.csv, report.html, report.xlsx, "
               f"figures/, tidy tables)\nMLflow: {cfg.tracking_uri} experiment {cfg.name!r}, "
               f"run {run_id}"
               + (f"\nscenario model: {DEFAULT_MODEL}/ (this config; `njforecast serve` "
                  "serves it)" if export_model else ""))


@scenario_app.command("list")
def scenario_list(config: Path = typer.Option(DEFAULT_CONFIG, "--config",
                                              help="Experiment config whose region and plan "
                                                   "the presets use.")):
    """List the preset scenarios and what each changes."""
    from ..config import load_config
    from ..engine import presets_for

    for sc in _guard(presets_for, _guard(load_config, config)).values():
        over = ", ".join(f"{k}={v}" for k, v in sc.overrides().items()) or "—"
        typer.echo(f"{sc.name:20s} {over:50s} {sc.description}")


@scenario_app.command("show")
def scenario_show(name: str = typer.Argument(..., help="Preset name or a scenario .toml file."),
                  config: Path = typer.Option(DEFAULT_CONFIG, "--config",
                                              help="Experiment config whose region and plan "
                                                   "the presets use.")):
    """Print a scenario as TOML (copy it to a file to make your own)."""
    from ..config import load_config
    from ..engine import presets_for
    from ..planning.scenarios import get_scenario

    known = _guard(presets_for, _guard(load_config, config))
    typer.echo(_guard(get_scenario, name, known).to_toml(), nl=False)


@scenario_app.command("run")
def scenario_run(name: str = typer.Argument(..., help="Preset name or a scenario .toml file."),
                 config: Path = typer.Option(DEFAULT_CONFIG, "--config",
                                             help="Experiment config the scenario modifies."),
                 lang: str = typer.Option("en", "--lang", help="Report language: en or zh."),
                 output: Path | None = typer.Option(None, "--output", help="Output folder "
                                                       "(default <output_dir>-<scenario>).")):
    """Run one scenario (a tracked MLflow run) and write its report next to the baseline's."""
    import dataclasses

    from ..config import load_config
    from ..planning.scenarios import get_scenario, is_scenario_file

    from ..engine import presets_for

    cfg = _guard(load_config, config)
    # a scenario file needs no presets (they read the targets, checked on the run's horizon)
    sc = _guard(get_scenario, name, {} if is_scenario_file(name) else _guard(presets_for, cfg))
    cfg = dataclasses.replace(cfg, output_dir=str(output or f"{cfg.output_dir}-{sc.name}"),
                              # the scenario's horizon is the run's (targets are checked on it)
                              end_year=cfg.end_year if sc.end_year is None else sc.end_year)
    _pipeline_job(cfg, lang, sc, False, export_model=False)


@serve_app.callback()
def serve(ctx: typer.Context,
          port: int = typer.Option(5001, "--port", help="Port to listen on."),
          host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind."),
          model: Path = typer.Option(DEFAULT_MODEL, "--model", help="Exported model folder."),
          config: Path = typer.Option(DEFAULT_CONFIG, "--config",
                                      help="Config used when the model must be exported first.")):
    """Serve the scenario model with `mlflow models serve --env-manager local` (exports it first
    when the folder is missing). Request: POST /invocations
    {"dataframe_records": [{"scenario": "baseline"}]}; fields in models/README.md."""
    if ctx.invoked_subcommand is not None:
        return
    if not (model / "MLmodel").is_file():
        from ..tracking import export_scenario_model

        typer.echo(f"exporting the scenario model to {model} (first use)…", err=True)
        _guard(export_scenario_model, model, config)
    typer.echo(_served_config(model), err=True)
    cmd = [sys.executable, "-m", "mlflow", "models", "serve", "-m", str(model), "--env-manager",
           "local", "-p", str(port), "-h", host, "-w", "1"]
    typer.echo(" ".join(cmd), err=True)
    import os

    # MLflow starts `uvicorn` by name: put this interpreter's bin folder (the venv) on PATH.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
                                 f"{os.environ.get('PATH', '')}"}
    raise typer.Exit(code=_run_server(cmd, env))


def _run_server(cmd: list[str], env: dict, grace: float = 30.0) -> int:
    """Run the scoring server in its own process group and stop the whole group (MLflow's
    launcher and its uvicorn workers) when this process gets SIGTERM, SIGHUP or Ctrl-C: SIGTERM
    to the group, SIGKILL to what is left of it after ``grace`` seconds. The exit status is the
    server's, or 0 after such a stop."""
    import os
    import signal
    import subprocess
    import time

    proc: subprocess.Popen | None = None
    stopped: list[int] = []

    def group_alive() -> bool:
        try:
            os.killpg(proc.pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def stop(signum, frame):
        stopped.append(signum)
        if proc is not None and group_alive():
            os.killpg(proc.pid, signal.SIGTERM)

    handled = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    previous = {s: signal.signal(s, stop) for s in handled}  # before the start: no gap
    try:
        proc = subprocess.Popen(cmd, env=env, start_new_session=True)
        if stopped:  # a signal came while starting
            os.killpg(proc.pid, signal.SIGTERM)
        waited = 0.0
        while proc.poll() is None or (stopped and group_alive()):
            time.sleep(0.2)
            waited = waited + 0.2 if stopped else 0.0
            if waited > grace and group_alive():  # the group ignored SIGTERM
                os.killpg(proc.pid, signal.SIGKILL)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 0 if stopped else proc.returncode


def _served_config(model: Path) -> str:
    """Which experiment the model folder serves: its exported config's name and region (every
    `njforecast run` replaces the folder, so the last run's config is the one served)."""
    import json
    import tomllib

    from ..config import DEFAULT_REGION

    path = model / "data" / "engine" / "config.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"serving {model} (its config could not be read from {path})"
    jump = raw.get("jump_off", "latest")
    try:  # a run's own jump-off (--jump-off), when the export recorded one
        jump = json.loads((path.parent / "jump_off.json").read_text(encoding="utf-8"))[
            "jump_off"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return (f"serving {model}: experiment {raw.get('name', '?')!r}, region "
            f"{raw.get('region', DEFAULT_REGION)!r}, jump-off {jump} (from the last "
            "`njforecast run` or `serve export`; `serve export --config …` changes it)")


@serve_app.command("export")
def serve_export(out: Path = typer.Option(DEFAULT_MODEL, "--out", help="Model folder to write."),
                 config: Path = typer.Option(DEFAULT_CONFIG, "--config",
                                             help="Config the served engine uses.")):
    """Export the scenario engine as an MLflow pyfunc model folder (code + data + config)."""
    from ..tracking import export_scenario_model

    typer.echo(_guard(export_scenario_model, out, config))


@app.command("app")
def planner_app(config: Path = typer.Option(DEFAULT_CONFIG, "--config",
                                            help="Experiment config the page explores."),
                port: int = typer.Option(8050, "--port", help="Port to listen on."),
                host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind "
                                         "(loopback by default; another makes the page reachable "
                                         "from other machines)."),
                tracking_uri: str | None = typer.Option(
                    None, "--tracking-uri", help="Where 'save scenario' logs its MLflow run "
                    "(default: the config's, else sqlite:///mlflow.db)."),
                workers: int = typer.Option(1, "--workers", help="Processes answering the page "
                                            "(each builds its own state; 2 uses two cores).")):
    """The planner's page: presets, levers, charts and target table in the browser (offline)."""
    import socket

    from ..app import PlannerService, serve, serve_workers

    if not config.is_file():
        _fail(f"{config}: config file not found; give an experiment config such as "
              f"{DEFAULT_CONFIG}")
    if not 1 <= port <= 65535:
        _fail(f"--port {port} is not a port number (1-65535)")
    try:  # a taken port is a message and exit 2, not uvicorn's exit 1 after the state is built
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --port "
              "or --host")
    if not 1 <= workers <= 8:
        _fail(f"--workers {workers}: give 1 to 8 processes")
    if workers > 1:
        from ..config import load_config

        _guard(load_config, config)  # a bad config is reported here, not by every worker
        typer.echo(f"planner's page: http://{host}:{port}/  ({workers} processes, each "
                   "building its base state; Ctrl-C to stop)")
        serve_workers(config, host, port, workers, tracking_uri)
        return
    say = _progress()
    say(f"building the base state from {config} (once)")
    service = _guard(PlannerService, config, tracking_uri)
    say(f"ready in {service.start_seconds:.1f} s")
    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(f"warning: listening on {host}: the page is reachable from other machines",
                   err=True)
    typer.echo(f"planner's page: http://{host}:{port}/  (Ctrl-C to stop)")
    try:
        serve(service, host, port)
    except KeyboardInterrupt:
        pass


def _backtest_experiment(cfg) -> None:
    """Run a config's [backtest] inside an MLflow parent run (FAILED if it raises)."""
    from ..evaluation.backtest import format_mape_tables, run_experiment
    from ..tracking import log_backtest

    result = {}

    def body():
        result["r"] = run_experiment(cfg)
        return result["r"]

    _guard(log_backtest, None, experiment=cfg.name, tracking_uri=cfg.tracking_uri,
           params={"name": cfg.name, "seed": cfg.seed, "backtest": cfg.section("backtest")},
           body=body)
    typer.echo(format_mape_tables(result["r"].metrics))
    typer.echo(f"\noutputs: {cfg.output_dir}/cv.csv, metrics.csv, fits.csv; MLflow: "
               f"{cfg.tracking_uri} "
               f"(experiment {cfg.name!r})")
