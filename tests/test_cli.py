"""Tests for the njforecast command line: help texts, python -m, exit status on bad input."""

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from njforecast import __version__
from njforecast.cli import app
from njforecast.config import REPO_ROOT

runner = CliRunner()

#: command → words its --help must contain (what the command does).
HELP = {
    (): ["Forecast school-age population", "data", "run"],
    ("data",): ["Build, validate and inspect", "build", "show", "validate"],
    ("data", "build"): ["Rebuild data/processed from data/raw", "byte-identical"],
    ("data", "show"): ["summary of the bundled data", "--rows"],
    ("data", "validate"): ["observations or population file", "exits 2", "--kind", "--region"],
    ("run",): ["Run the main job for a config", "TOML", "--targets"],
    ("backtest",): ["Rolling-origin back-test", "--observations", "--indicator", "--horizon",
                    "--windows", "--models", "--output", "--tracking-uri"],
    ("evaluate",): ["whole engine back-tested from a census jump-off", "--region",
                    "--jump-off", "--to", "--observations", "--output", "--draws", "naive"],
    ("demography",): ["Population engine", "project", "backtest"],
    ("demography", "project"): ["Project a census by county", "--draws", "--seed", "--region"],
    ("demography", "backtest"): ["Project census A's counties", "naive", "--actual"],
    ("enrolment",): ["Enrolment, indicators, teachers and capacity", "base"],
    ("enrolment", "base"): ["calibrated base year", "--observations", "--out"],
    ("scenario",): ["Named scenarios", "list", "show", "run"],
    ("scenario", "run"): ["Run one scenario", "--config", "--lang"],
    ("serve",): ["Serve the scenario", "--port", "export"],
    ("serve", "export"): ["Export the scenario engine", "--out"],
    ("targets",): ["Plan targets", "list", "validate"],
    ("targets", "list"): ["indicator ids a targets file may use", "--config"],
    ("targets", "validate"): ["Check a targets file", "--config"],
    ("app",): ["planner's page", "--config", "--port", "--host", "--workers"],
}


@pytest.mark.parametrize("command", list(HELP), ids=lambda c: " ".join(c) or "root")
def test_help_of_every_command(command):
    """Every command's --help exits 0 and says what the command does."""
    res = runner.invoke(app, [*command, "--help"], terminal_width=200)
    assert res.exit_code == 0, res.output
    for word in HELP[command]:
        assert word in res.output, (command, word)


def test_help_covers_every_registered_command():
    """The HELP table above lists every command the app registers (none forgotten)."""
    import typer.main

    group = typer.main.get_command(app)
    found = {(name,) for name in group.commands}
    found |= {("data", name) for name in group.commands["data"].commands}
    found |= {("demography", name) for name in group.commands["demography"].commands}
    assert found <= set(HELP)


def test_python_dash_m_help():
    """`python -m njforecast --help` works in a fresh process and lists the commands."""
    res = subprocess.run([sys.executable, "-m", "njforecast", "--help"], capture_output=True,
                         text=True, cwd=REPO_ROOT, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    assert "data" in res.stdout and "run" in res.stdout


def test_version():
    """--version prints the package version."""
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.strip() == __version__


def test_missing_config_exits_2_without_traceback(tmp_path):
    """`run` with a missing config file prints an error naming the file and exits 2."""
    res = runner.invoke(app, ["run", str(tmp_path / "nope.toml")])
    assert res.exit_code == 2
    assert "error:" in res.output and "nope.toml" in res.output
    assert "Traceback" not in res.output


def test_validate_missing_file_and_bad_kind_exit_2(tmp_path):
    """`data validate` on a missing file, or with an unknown --kind, exits 2 with a message."""
    res = runner.invoke(app, ["data", "validate", str(tmp_path / "nope.csv")])
    assert res.exit_code == 2 and "nope.csv: file not found" in res.output
    res = runner.invoke(app, ["data", "validate", "--kind", "people", str(tmp_path)])
    assert res.exit_code == 2 and "--kind" in res.output


def test_validate_kind_option_overrides_guess(tmp_path):
    """--kind population checks a file against the population columns even if it looks otherwise."""
    p = tmp_path / "x.csv"
    p.write_text("area,year,indicator,value\n511025,2021,primary_enrolment,5\n", encoding="utf-8")
    assert runner.invoke(app, ["data", "validate", str(p)]).exit_code == 0
    res = runner.invoke(app, ["data", "validate", "--kind", "population", str(p)])
    assert res.exit_code == 2 and "required column 'sex' is missing" in res.output


def test_data_show_summary_names_the_region(monkeypatch, tmp_path):
    """`data show` (the summary) works without arguments, from any directory."""
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["data", "show"])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("Region Neijiang City (内江市, 511000)")


def test_data_show_unknown_frame_lists_the_frames():
    res = runner.invoke(app, ["data", "show", "bogus"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "no processed frame 'bogus'" in res.output and "census_population" in res.output


def test_scenario_list_from_another_directory(monkeypatch, tmp_path):
    """The default --config is the repository's main-job config, not a cwd-relative path."""
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["scenario", "list"])
    assert res.exit_code == 0, res.output
    assert "low_fertility" in res.output


@pytest.mark.parametrize("exc", [KeyError("unknown level 'lerned'"),
                                 ValueError("unknown level 'lerned'")])
def test_input_error_message_keeps_its_quotes(capsys, exc):
    """An input error prints its message with the quotes inside it intact, exit status 2."""
    import typer

    from njforecast.cli.common import _guard

    def bad():
        raise exc

    with pytest.raises(typer.Exit) as info:
        _guard(bad)
    assert info.value.exit_code == 2
    assert capsys.readouterr().err == "error: unknown level 'lerned'\n"


@pytest.mark.parametrize("flag", ["--observations", "--targets"])
def test_run_with_a_missing_flag_file_names_the_flag(tmp_path, flag):
    res = runner.invoke(app, ["run", str(REPO_ROOT / "experiments" / "neijiang-baseline" /
                                         "config.toml"), flag, str(tmp_path / "nofile.csv")])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert f"{flag} {tmp_path / 'nofile.csv'}: file not found" in res.output


def test_demography_project_address_needs_dask(tmp_path):
    res = runner.invoke(app, ["demography", "project", "--base",
                              str(REPO_ROOT / "data" / "raw" / "census" /
                                  "census_county_2020_sichuan.csv"),
                              "--output", str(tmp_path / "o.csv"), "--executor", "serial",
                              "--address", "tcp://127.0.0.1:8786"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "--address tcp://127.0.0.1:8786 needs --executor dask" in res.output
    assert not (tmp_path / "o.csv").exists()


def test_run_server_stops_a_group_member_that_ignores_sigterm(tmp_path):
    """`serve`'s process runner, sent SIGTERM: the server's group gets SIGTERM, and a worker
    that ignores it is killed after the grace period; the runner exits 0."""
    import os
    import signal
    import time

    pidfile = tmp_path / "worker.pid"
    worker = ("import os, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
              f"open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(600)")
    launcher = (f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', "
                f"{worker!r}]); time.sleep(600)")
    runner_code = ("import os, sys; from njforecast.cli.jobs import _run_server; "
                   f"sys.exit(_run_server([sys.executable, '-c', {launcher!r}], "
                   "dict(os.environ), grace=1.0))")
    proc = subprocess.Popen([sys.executable, "-c", runner_code], cwd=REPO_ROOT,
                            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                            start_new_session=True)
    try:
        deadline = time.time() + 60
        while not (pidfile.is_file() and pidfile.read_text()) and time.time() < deadline:
            time.sleep(0.1)
        wpid = int(pidfile.read_text())
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        time.sleep(0.5)
        assert not _alive(wpid)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        if pidfile.is_file() and pidfile.read_text() and _alive(int(pidfile.read_text())):
            os.kill(int(pidfile.read_text()), signal.SIGKILL)


def _alive(pid: int) -> bool:
    """A process that exists and is not a zombie (an unreaped corpse counts as stopped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
