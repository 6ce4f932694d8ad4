"""A planner's observations file in a run (``run --observations``, ``[data] observations``):
rows a run does not read are named, fractions for percent are refused (exit 2, no traceback).

The files here are tiny hand-made synthetic test data (labelled), never statistics.
"""

import pytest
from typer.testing import CliRunner

from njforecast.cli import app
from njforecast.config import RunConfig
from njforecast.engine import state as st


@pytest.fixture(scope="module", autouse=True)
def _processed_built(processed):
    return processed


# synthetic: a mistyped indicator (rows 2 and 4) and a Chengdu district (row 5)
MIXED = ("area,year,indicator,value\n"
         "511025,2023,primary_enrolmnt,41000\n"
         "511025,2023,junior_enrolment,30000\n"
         "511024,2023,primary_enrolmnt,52000\n"
         "510104,2023,primary_enrolment,41000\n")
# synthetic: Zizhong's preschool GER as fractions (0.91 for 91 %)
FRACTION = ("area,year,indicator,value,unit\n"
            "511025,2023,preschool_ger_pct,0.91,percent\n"
            "511025,2022,preschool_ger_pct,0.90,percent\n")


def _file(tmp_path, text, name="mine.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _cfg(tmp_path, planner):
    return RunConfig(name="t", end_year=2026, draws=4, seed=1, output_dir=str(tmp_path / "out"),
                     tracking_uri=f"sqlite:///{tmp_path / 'm.db'}",
                     sections={"data": {"observations": str(planner)}})


def test_warnings_and_assumption_note_name_the_rows_not_used(tmp_path):
    p = _file(tmp_path, MIXED)
    lines = st.planner_observation_warnings(_cfg(tmp_path, p))
    assert lines == [
        f"{p}:2:indicator: warning: unknown indicator 'primary_enrolmnt' (did you mean "
        "'primary_enrolment'?) — rows 2, 4 (2 rows) are not used — rename it to "
        "'primary_enrolment'",
        f"{p}:5:area: warning: area 510104 is not in region neijiang — row 5 is not used — a "
        "run of region neijiang reads only its own areas (and province or national series): "
        "check the code, or give the region the area belongs to (--region, or region = in the "
        "config)"]
    _, note = st.planner_observations(_cfg(tmp_path, p))
    assert "replace estimates where present; rows not used: unknown indicator " \
           "'primary_enrolmnt'" in note
    assert "area 510104 is not in region neijiang — row 5 is not used" in note


def test_no_planner_file_means_no_warnings(tmp_path):
    cfg = RunConfig(name="t", end_year=2026, draws=4, output_dir=str(tmp_path / "out"))
    assert st.planner_observation_warnings(cfg) == []


def _config_file(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'name = "t-obs"\nend_year = 2026\ndraws = 4\nseed = 1\n'
                   f'output_dir = "{tmp_path / "out"}"\n'
                   f'tracking_uri = "sqlite:///{tmp_path / "m.db"}"\n', encoding="utf-8")
    return cfg


def test_run_refuses_fractions_with_exit_2_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # models/scenario-engine would be written under the cwd
    p = _file(tmp_path, FRACTION)
    res = CliRunner().invoke(app, ["run", str(_config_file(tmp_path)), "--observations", str(p),
                                   "--no-scenarios"])
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert "Traceback" not in res.output and "UserWarning" not in res.output
    assert (f"{p}:2:value: 'preschool_ger_pct' in area 511025 is at most 0.91 percent") \
        in res.output
    assert "rows 2, 3 (2 rows)" in res.output and "multiply by 100" in res.output
    assert not (tmp_path / "out").exists() and not (tmp_path / "m.db").exists()


def test_run_prints_each_warning_once_and_completes(tmp_path, monkeypatch):
    """`run --observations` with unused rows: exit 0, each warning printed once (no Python
    UserWarning with a source line), and the report's assumptions name the rows."""
    from njforecast import tracking

    class Parent:  # no tracking process: nothing is staged, logged or published
        def apply(self, fn, *args):
            pass

    monkeypatch.setattr(tracking, "log_pipeline", lambda cfg, body, run_name=None:
                        ("run-id", body(Parent())))
    monkeypatch.setattr(tracking, "log_scenario", lambda *a, **k: None)
    monkeypatch.setattr(tracking, "publish_scenario_model", lambda *a, **k: None)
    monkeypatch.chdir(tmp_path)
    p = _file(tmp_path, MIXED)
    res = CliRunner().invoke(app, ["run", str(_config_file(tmp_path)), "--observations", str(p),
                                   "--no-scenarios"])
    assert res.exit_code == 0, res.output
    assert res.output.count("warning: unknown indicator 'primary_enrolmnt'") == 1
    assert res.output.count("warning: area 510104 is not in region neijiang") == 1
    assert "UserWarning" not in res.output
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "rows not used: unknown indicator" in html
