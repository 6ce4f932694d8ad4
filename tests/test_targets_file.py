"""Tests for njforecast.io.targets (a planner's targets file), the region's default targets, the
target-id table and the `njforecast targets` commands."""

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from njforecast import schema as S
from njforecast.areas import load_region
from njforecast.cli import app
from njforecast.config import RunConfig, raw_dir
from njforecast.engine import state as st
from njforecast.io import plan as plan_io
from njforecast.io import store
from njforecast.io.targets import load_targets, validate_targets
from njforecast.io.validation import ValidationError
from njforecast.planning.targets import known_target_units, target_indicators

DATA = Path(__file__).resolve().parent / "data" / "targets"
GOOD = DATA / "neijiang_synthetic_2030.csv"
HEADER = "area,indicator,target_year,comparison,target,unit\n"


@pytest.fixture(scope="module")
def known():
    """The ids a Neijiang targets file may use."""
    return known_target_units(plan_io.load_plan_targets())


def _old_load_plan_targets(area: str = "511000") -> pd.DataFrame:
    """The loader as it was before targets files (path and year in code): the reference."""
    path = raw_dir() / "plan" / "plan_targets_2025.csv"
    df = pd.read_csv(path, dtype=str)
    units = {"pct": "percent", "percent": "percent", "permille": "permille",
             "persons": "persons", "schools": "schools"}
    return pd.DataFrame({
        S.AREA: area, S.INDICATOR: df["indicator_id"], "indicator_zh": df["indicator_zh"],
        "stage": df["stage"], S.UNIT: df["unit"].map(lambda u: units.get(u, u)),
        S.TARGET_YEAR: 2025, S.TARGET: pd.to_numeric(df["target_2025"], errors="coerce"),
        "target_text": df["target_2025"], "kind": df["target_kind"], "binding": df["binding"],
        S.COMPARISON: df["comparison"],
        "baseline_2020": pd.to_numeric(df["baseline_2020"], errors="coerce"),
        "baseline_2015": pd.to_numeric(df["baseline_2015"], errors="coerce"),
        S.SOURCE: "Neijiang 14th Five-Year education plan "
                  "(data/raw/plan/neijiang_14th_fyp_education_plan.txt)"})


def test_region_default_targets_equal_the_old_loader():
    """Without a targets file the run's targets are exactly the old loader's frame."""
    cfg = RunConfig()
    targets, path, note = st.plan_targets(cfg, load_region("neijiang"), 2020)
    assert path is None and note == ""
    pd.testing.assert_frame_equal(targets, _old_load_plan_targets())
    pd.testing.assert_frame_equal(plan_io.load_plan_targets(), _old_load_plan_targets())


def test_region_file_names_its_default_targets():
    """The region file, not code, names the default targets file and its layout."""
    path, fmt = plan_io.region_targets_spec("neijiang")
    assert path == raw_dir() / "plan" / "plan_targets_2025.csv"
    assert fmt == "neijiang_plan_table"


def test_good_file_gives_the_targets_frame(known):
    """A good file loads into the plan-targets frame shape, units normalised, note in source."""
    df = load_targets(GOOD, known, 2020, "neijiang")
    old_cols = [c for c in _old_load_plan_targets().columns if not c.startswith("baseline_")]
    assert list(df.columns) == old_cols
    row = df.set_index(S.INDICATOR).loc["senior_stage_ger"]
    assert row[S.UNIT] == "percent" and row[S.TARGET] == 96.0 and row[S.TARGET_YEAR] == 2030
    assert "SYNTHETIC" in row[S.SOURCE] and "row 3" in row[S.SOURCE]
    assert "teachers_added_2026_2030" in set(df[S.INDICATOR])


def test_target_id_table_lists_engine_ids_and_the_plan_period_template():
    """The id table has the engine's projected ids with units and the teachers-added template."""
    t = target_indicators(plan_io.load_plan_targets()).set_index(S.INDICATOR)
    assert t.loc["preschool_ger_3y", S.UNIT] == "percent" and t.loc["preschool_ger_3y", "projected"]
    assert t.loc["teachers_added_YYYY_YYYY", S.UNIT] == "persons"
    assert t.loc["kindergarten_children", S.UNIT] == "persons"
    assert not t.loc["public_kindergarten_share", "projected"]
    assert "teachers_added_2021_2025" not in t.index


BAD = [
    ("unknown_indicator", "511000,preschool_ger_3yy,2030,at_least,93,percent",
     ":2:indicator: unknown indicator 'preschool_ger_3yy'", "did you mean 'preschool_ger_3y'"),
    ("comparison", "511000,senior_stage_ger,2030,atleast,95,percent",
     ":2:comparison: comparison 'atleast' is not at_least, at_most or about", "write at_least"),
    ("unit", "511000,preschool_ger_3y,2030,at_least,93,persons",
     ":2:unit: unit/indicator mismatch", "set unit to percent"),
    ("count_unit", "511000,secondary_vocational_enrolment,2030,at_least,40000,percent",
     ":2:unit: unit/indicator mismatch", "set unit to persons"),
    ("before_jump_off", "511000,senior_stage_ger,2019,at_least,95,percent",
     ":2:target_year: target year 2019 is before the jump-off year 2020", "2020 or later"),
    ("not_numeric", "511000,compulsory_consolidation_rate,2030,at_least,97%,percent",
     ":2:target: target '97%' is not a number", "without %"),
    ("separator", '511000,secondary_vocational_enrolment,2030,at_least,"40,000",persons',
     ":2:target: target '40,000' is not a number", "write 40000"),
    ("reversed_period", "511000,teachers_added_2030_2026,2030,at_least,3000,persons",
     ":2:indicator: plan period 2030–2026", "write teachers_added_2026_2030"),
    ("period_year", "511000,teachers_added_2026_2030,2028,at_least,3000,persons",
     ":2:target_year: target year 2028 is not the last year of the plan period", "write 2030"),
    ("foreign_area", "530000,preschool_ger_3y,2030,at_least,93,percent",
     ":2:area: area 530000 is not in region neijiang", "511025"),
    ("area_name", "资中县,preschool_ger_3y,2030,at_least,93,percent",
     ":2:area: area '资中县' is a name, not a code", "use the code 511025"),
    ("percent_too_high", "511000,preschool_ger_3y,2030,at_least,930,percent",
     ":2:target: target 930 percent is outside 0–200", "not 200 %"),
    ("negative_percent", "511000,preschool_ger_3y,2030,at_least,-5,percent",
     ":2:target: target -5 is negative", "check the sign"),
    ("negative_count", "511000,teachers_added_2026_2030,2030,at_least,-3000,persons",
     ":2:target: target -3000 is negative", "check the sign"),
    ("after_the_horizon", "511000,preschool_ger_3y,2060,at_least,93,percent",
     ":2:target_year: target year 2060 is after 2050, the last year the engine can project",
     "give a target year up to 2050"),
]


@pytest.mark.parametrize("case,row,message,fix", BAD, ids=[b[0] for b in BAD])
def test_each_bad_input_is_a_named_problem(tmp_path, known, case, row, message, fix):
    """Each bad row is reported as file:row:column: message — fix, and nothing is returned."""
    path = tmp_path / f"{case}.csv"
    path.write_text(HEADER + row + "\n", encoding="utf-8")
    frame, problems = validate_targets(path, known, 2020, "neijiang")
    assert frame is None
    text = "\n".join(map(str, problems))
    assert f"{path}{message}" in text, text
    assert fix in text, text


def test_conflicting_targets_are_an_error_and_repeats_a_warning(tmp_path, known):
    """Two different targets for one area/indicator/year are an error; a repeat only warns."""
    path = tmp_path / "conflict.csv"
    path.write_text(HEADER + "511000,preschool_ger_3y,2030,at_least,93,percent\n"
                    "511000,preschool_ger_3y,2030,at_least,94,percent\n"
                    "511000,senior_stage_ger,2030,at_least,95,percent\n"
                    "511000,senior_stage_ger,2030,at_least,95,percent\n", encoding="utf-8")
    frame, problems = validate_targets(path, known, 2020, "neijiang")
    assert frame is None
    errors = [p for p in problems if p.severity == "error"]
    assert len(errors) == 1 and errors[0].row == 3 and "conflicting targets" in errors[0].message
    assert any(p.severity == "warning" and p.row == 5 for p in problems)


def test_every_problem_is_listed_at_once(tmp_path, known):
    """A file with several bad rows lists every problem in one ValidationError."""
    path = tmp_path / "many.csv"
    path.write_text(HEADER + "\n".join(b[1] for b in BAD[:5]) + "\n", encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        load_targets(path, known, 2020, "neijiang")
    assert sorted({p.row for p in exc.value.problems}) == [2, 3, 4, 5, 6]


def test_missing_column_is_named(tmp_path, known):
    """A file without the comparison column names the column and what goes in it."""
    path = tmp_path / "nocmp.csv"
    path.write_text("area,indicator,target_year,target,unit\n511000,senior_stage_ger,2030,95,"
                    "percent\n", encoding="utf-8")
    frame, problems = validate_targets(path, known, 2020, "neijiang")
    assert frame is None
    assert any(p.column == "comparison" and "missing" in p.message for p in problems)


def test_xlsx_targets_file(tmp_path, known):
    """The same targets in an xlsx workbook load like the CSV."""
    path = tmp_path / "targets.xlsx"
    pd.read_csv(GOOD, dtype=str).to_excel(path, index=False)
    a = load_targets(path, known, 2020, "neijiang")
    b = load_targets(GOOD, known, 2020, "neijiang")
    pd.testing.assert_frame_equal(a.drop(columns=S.SOURCE), b.drop(columns=S.SOURCE))


def test_config_targets_section_rejects_unknown_keys(tmp_path):
    """[targets] is a typed section: a misspelt key is an error naming the nearest key."""
    from njforecast.config import ConfigError, load_config

    cfg = tmp_path / "c.toml"
    cfg.write_text('[targets]\nfiel = "x.csv"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="did you mean 'file'"):
        load_config(cfg)


def test_targets_file_relative_to_the_config_folder(tmp_path):
    """A relative [targets] file is found next to the config; a missing one is an error."""
    from njforecast.config import load_config

    (tmp_path / "t.csv").write_text(GOOD.read_text(encoding="utf-8"), encoding="utf-8")
    cfg = tmp_path / "c.toml"
    cfg.write_text('[targets]\nfile = "t.csv"\n', encoding="utf-8")
    assert st.targets_path(load_config(cfg)) == (tmp_path / "t.csv").resolve()
    cfg.write_text('[targets]\nfile = "none.csv"\n', encoding="utf-8")
    with pytest.raises(store.DataError, match="not found"):
        st.targets_path(load_config(cfg))


def test_cli_targets_validate_ok_and_bad(tmp_path):
    """`targets validate` prints one ok line (exit 0), or every problem (exit 2, no traceback)."""
    runner = CliRunner()
    ok = runner.invoke(app, ["targets", "validate", str(GOOD)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith(f"ok: {GOOD} — 3 targets")
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + BAD[0][1] + "\n" + BAD[1][1] + "\n", encoding="utf-8")
    res = runner.invoke(app, ["targets", "validate", str(bad)])
    assert res.exit_code == 2
    assert f"{bad}:2:indicator" in res.output and f"{bad}:3:comparison" in res.output
    assert "Traceback" not in res.output and isinstance(res.exception, SystemExit)


def test_cli_targets_list_prints_ids_with_units():
    """`targets list` prints the ids with their unit and meaning."""
    res = CliRunner().invoke(app, ["targets", "list"])
    assert res.exit_code == 0, res.output
    line = next(x for x in res.output.splitlines() if x.strip().startswith("preschool_ger_3y"))
    assert "percent" in line and "ages 3-5" in line
    assert "teachers_added_YYYY_YYYY" in res.output


def test_cli_run_with_bad_targets_exits_2_and_writes_nothing(tmp_path):
    """`run --targets BAD` stops with exit 2 and the problems before any output is written."""
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + BAD[2][1] + "\n", encoding="utf-8")
    out = tmp_path / "out"
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'name = "t"\nend_year = 2026\ndraws = 2\noutput_dir = "{out}"\n'
                   f'tracking_uri = "sqlite:///{tmp_path / "m.db"}"\n', encoding="utf-8")
    res = CliRunner().invoke(app, ["run", str(cfg), "--targets", str(bad), "--no-scenarios"])
    assert res.exit_code == 2, res.output
    assert f"{bad}:2:unit: unit/indicator mismatch" in res.output
    assert not out.exists()


def test_target_after_the_runs_end_year_names_the_config(tmp_path, known):
    """Given the run's end_year, a later target is an error whose fix names the config; a
    target in the end year itself is fine."""
    path = tmp_path / "t.csv"
    path.write_text(HEADER + "511000,preschool_ger_3y,2035,at_least,93,percent\n"
                    "511000,senior_stage_ger,2040,at_least,95,percent\n", encoding="utf-8")
    frame, problems = validate_targets(path, known, 2020, "neijiang", end_year=2035,
                                       config="c.toml")
    assert frame is None and [str(p) for p in problems] == [
        f"{path}:3:target_year: target year 2040 is after the run's end_year 2035 — raise "
        "end_year in c.toml (at most 2050) or drop the row"]
    assert len(load_targets(path, known, 2020, "neijiang", end_year=2040)) == 2


def _short_config(tmp_path, end_year=2035):
    out = tmp_path / "out"
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'name = "t"\nend_year = {end_year}\ndraws = 2\noutput_dir = "{out}"\n'
                   f'tracking_uri = "sqlite:///{tmp_path / "m.db"}"\n', encoding="utf-8")
    return cfg, out


@pytest.mark.parametrize("year,message", [
    (2040, "target year 2040 is after the run's end_year 2035 — raise end_year in"),
    (2060, "target year 2060 is after 2050, the last year the engine can project")])
def test_cli_run_refuses_a_target_it_cannot_reach_before_any_run(tmp_path, year, message):
    """`run --targets` with a target after end_year (or after 2050) exits 2 naming file, row and
    column, before anything is projected, written or tracked (no MLflow database, no model
    staged); `targets validate --config` says the same."""
    bad = tmp_path / "t.csv"
    bad.write_text(HEADER + f"511000,preschool_ger_3y,{year},at_least,93,percent\n",
                   encoding="utf-8")
    cfg, out = _short_config(tmp_path)
    runner = CliRunner()
    for scen in ("--scenarios", "--no-scenarios"):
        res = runner.invoke(app, ["run", str(cfg), "--targets", str(bad), scen])
        assert res.exit_code == 2 and isinstance(res.exception, SystemExit), res.output
        assert f"{bad}:2:target_year: {message}" in res.output
        assert "Traceback" not in res.output
    assert not out.exists() and not (tmp_path / "m.db").exists()
    res = runner.invoke(app, ["targets", "validate", str(bad), "--config", str(cfg)])
    assert res.exit_code == 2 and f"{bad}:2:target_year: {message}" in res.output


def test_cli_targets_validate_refuses_implausible_values(tmp_path):
    """`targets validate` exits 2 on a percentage above 200 and on negative targets, each
    named by file, row and column."""
    bad = tmp_path / "t.csv"
    bad.write_text(HEADER + "511000,preschool_ger_3y,2030,at_least,930,percent\n"
                   "511000,senior_stage_ger,2030,at_least,-5,percent\n"
                   "511000,teachers_added_2026_2030,2030,at_least,-5,persons\n",
                   encoding="utf-8")
    res = CliRunner().invoke(app, ["targets", "validate", str(bad)])
    assert res.exit_code == 2 and isinstance(res.exception, SystemExit), res.output
    for line in (f"{bad}:2:target: target 930 percent is outside 0–200",
                 f"{bad}:3:target: target -5 is negative", f"{bad}:4:target: target -5 is"):
        assert line in res.output
    assert "ok:" not in res.output
