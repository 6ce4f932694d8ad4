"""Rows of a planner's observations file that a run would not read, and percent series written
as fractions (njforecast.io.validation: rules and unused).

The files here are tiny hand-made synthetic test data (labelled), never statistics.
"""

import warnings

import pytest
from typer.testing import CliRunner

from njforecast.cli import app
from njforecast.io import validation as V

runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def _processed_built(processed):
    """Build data/processed first: known areas then come from census_areas.csv (fast)."""
    return processed


def _write(tmp_path, text, name="mine.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _validate(*args):
    return runner.invoke(app, ["data", "validate", *map(str, args)])


def _clean_exit(res, code):
    assert res.exit_code == code, res.output
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)


def _validated(tmp_path, text, code):
    """(file, output of `data validate FILE --region neijiang`), the exit code checked."""
    p = _write(tmp_path, text)
    res = _validate(p, "--region", "neijiang")
    _clean_exit(res, code)
    return p, res.output


# synthetic: a mistyped indicator on rows 2 and 4, a good row between them
TYPO = ("area,year,indicator,value\n"
        "511025,2023,primary_enrolmnt,41000\n"
        "511025,2023,junior_enrolment,30000\n"
        "511024,2023,primary_enrolmnt,52000\n")


def test_mistyped_indicator_is_one_warning_naming_rows_and_the_close_name(tmp_path):
    """`data validate`: exit 0 (a warning, not an error), one line naming both rows, the count,
    that they are not used, and the known name to use."""
    p, out = _validated(tmp_path, TYPO, 0)
    assert (f"{p}:2:indicator: warning: unknown indicator 'primary_enrolmnt' (did you mean "
            "'primary_enrolment'?) — rows 2, 4 (2 rows) are not used — rename it to "
            "'primary_enrolment'") in out
    assert out.count("unknown indicator") == 1
    assert "ok: " in out and "1 warning" in out


def test_unknown_indicator_without_a_close_name_is_named_too(tmp_path):
    p = _write(tmp_path, "area,year,indicator,value\n511025,2023,library_books,7\n")
    probs = V.validate_file(p).problems
    assert [(q.row, q.column, q.severity, q.unused_rows) for q in probs] == [
        (2, "indicator", "warning", 1)]
    assert "unknown indicator 'library_books': no part of a run reads it — row 2 is not used" \
        == probs[0].message


def test_known_names_and_plan_periods_give_no_indicator_warning(tmp_path):
    """Bundled names (a count, a GER, a plan id) and any teachers_added_YYYY_YYYY period."""
    p = _write(tmp_path, "area,year,indicator,value,unit\n"
                         "511025,2023,primary_enrolment,41000,persons\n"
                         "511025,2023,preschool_ger_pct,91,percent\n"
                         "511000,2020,preschool_ger_3y,88.86,percent\n"
                         "511000,2030,teachers_added_2026_2030,3000,persons\n")
    assert V.validate_file(p).problems == []


def test_area_outside_the_region_is_one_warning_per_code(tmp_path):
    """510104 (a Chengdu district, a census code) is accepted but not read by a Neijiang run;
    Sichuan (510000) and the nation (100000) are context series and are not flagged."""
    p, out = _validated(tmp_path, "area,year,indicator,value\n"
                        "510104,2023,primary_enrolment,41000\n"
                        "510000,2023,primary_enrolment,5600000\n"
                        "510104,2022,primary_enrolment,40000\n"
                        "100000,2023,primary_enrolment,107000000\n", 0)
    lines = [ln for ln in out.splitlines() if "warning:" in ln]
    assert len(lines) == 1
    assert lines[0].startswith(f"{p}:2:area: warning: area 510104 is not in region neijiang — "
                               "rows 2, 4 (2 rows) are not used — ")
    assert "check the code" in lines[0]


# synthetic: Zizhong's preschool GER written as fractions (0.91 for 91 %)
FRACTION = ("area,year,indicator,value,unit\n"
            "511025,2023,preschool_ger_pct,0.91,percent\n"
            "511025,2022,preschool_ger_pct,0.90,percent\n"
            "511024,2022,preschool_ger_pct,90.5,percent\n")


def test_ger_written_as_fractions_is_refused_with_rows_and_fix(tmp_path):
    """`data validate`: exit 2, no traceback; file, first row, area, indicator, rows, fix."""
    p, out = _validated(tmp_path, FRACTION, 2)
    assert (f"{p}:2:value: 'preschool_ger_pct' in area 511025 is at most 0.91 percent in every "
            "row, but this rate is tens of percent: values look like fractions — rows 2, 3 "
            "(2 rows) — multiply by 100: write 91 for 91 %, not 0.91") in out
    assert out.count("look like fractions") == 1  # one rule, one problem per series


def test_fraction_rule_is_one_problem_per_series_and_spares_real_small_values(tmp_path):
    """Only the (area, indicator) series wholly ≤ 1.5 is flagged; 0 everywhere is not."""
    p = _write(tmp_path, "area,year,indicator,value\n511025,2023,junior_ger_pct,1.01\n"
                         "511025,2022,junior_ger_pct,99.8\n511024,2023,junior_ger_pct,0\n"
                         "511011,2023,senior_stage_ger_pct,1.5\n")
    errors = [q for q in V.validate_file(p).problems if q.severity == "error"]
    assert [(q.row, q.column) for q in errors] == [(5, "value")]
    assert "'senior_stage_ger_pct' in area 511011" in errors[0].message


def test_load_user_observations_warns_through_problems_not_python_warnings(tmp_path):
    """The loader raises no UserWarning; read_user_observations returns the warnings."""
    p = _write(tmp_path, TYPO)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        obs, probs = V.read_user_observations(p)
        V.load_user_observations(p)
    assert len(obs) == 3
    assert [q.unused_rows for q in probs] == [2]


def test_every_series_the_engine_reads_is_a_known_indicator():
    """The vocabulary (bundled observations + plan tables) holds every observation name a stage
    reads, so a warning "not used" is never given for a series the engine uses."""
    from njforecast.education.base import LEVEL_INDICATOR
    from njforecast.education.teachers import TEACHER_INDICATOR
    from njforecast.education.trend import (AREA_TREND_INDICATORS, COMPULSORY_EVIDENCE,
                                            CONSOLIDATION_SERIES, DRIFT_SERIES,
                                            MODEL_GER_INDICATORS)
    from njforecast.engine.jumpoff import SERIES
    from njforecast.planning.targets import OBSERVED_TO_TARGET

    read = {*SERIES, *LEVEL_INDICATOR.values(), *TEACHER_INDICATOR.values(),
            *AREA_TREND_INDICATORS.values(), *MODEL_GER_INDICATORS.values(), *DRIFT_SERIES,
            *CONSOLIDATION_SERIES, *COMPULSORY_EVIDENCE, *OBSERVED_TO_TARGET,
            *OBSERVED_TO_TARGET.values(), "registered_population", "resident_population",
            "births", *(f"{s}_{k}" for s in ("primary", "junior", "senior_general")
                        for k in ("entrants", "graduates"))}
    known = V.known_indicators()
    assert sorted(read - known) == []


@pytest.mark.parametrize("name", ["private_enrolment_share_pct", "my_ger_guess_pct"])
def test_fractions_of_a_share_or_an_unread_name_only_warn(tmp_path, name):
    """A share (whatever its other words) or a name no run reads, at most 1.5 %, is a warning,
    not an error: the file still validates (exit 0)."""
    p = _write(tmp_path, f"area,year,indicator,value,unit\n511025,2023,{name},1.2,percent\n"
                         f"511025,2022,{name},1.3,percent\n")
    probs = V.validate_file(p).problems
    assert not [q for q in probs if q.severity == "error"]
    assert any("fractions instead of percent?" in q.message for q in probs)
