"""Tests for njforecast.io.validation.bounds: one range rule for a planner's observations and
targets files (tiny hand-made files; the figures are SYNTHETIC)."""

import pytest

from njforecast import schema as S
from njforecast.io.plan import load_plan_targets
from njforecast.io.targets import validate_targets
from njforecast.io.validation import validate_file
from njforecast.io.validation.bounds import bound_problem
from njforecast.planning.targets import known_target_units


@pytest.mark.parametrize("value,unit,ok", [
    (0.0, "percent", True), (S.MAX_PERCENT, "percent", True), (109.33, "percent", True),
    (S.MAX_PERCENT + 0.1, "percent", False), (-0.5, "percent", False),
    (S.MAX_PERMILLE, "permille", True), (S.MAX_PERMILLE + 1, "permille", False),
    (1e6, "persons", True), (-1.0, "persons", False), (-1.0, "schools", False)])
def test_bounds_by_unit(value, unit, ok):
    """Every unit is ≥ 0; percent ≤ MAX_PERCENT (a GER may pass 100); per mille ≤ 1000;
    counts have no upper bound."""
    assert (bound_problem("value", value, f"{value:g}", unit) is None) == ok


def test_bound_messages_name_the_figure_and_the_fix():
    """The message quotes the figure as written; the fix says what to check."""
    assert bound_problem("target", 930.0, "930", "percent") == (
        "target 930 percent is outside 0–200",
        "a GER may exceed 100 % but not 200 %: is this a count or a per-mille figure?")
    assert bound_problem("target", -5.0, "-5", "persons") == (
        "target -5 is negative", "counts and rates are ≥ 0; check the sign")


@pytest.mark.parametrize("value", ["930", "-5"])
def test_observations_and_targets_refuse_the_same_values_alike(tmp_path, value):
    """An observations file and a targets file with the same percentage get the same message
    and fix (one rule), each naming its own file, row and column."""
    obs = tmp_path / "obs.csv"
    obs.write_text("area,year,indicator,value,unit\n"
                   f"511000,2023,preschool_ger_3y,{value},percent\n", encoding="utf-8")
    tgt = tmp_path / "t.csv"
    tgt.write_text("area,indicator,target_year,comparison,target,unit\n"
                   f"511000,preschool_ger_3y,2030,at_least,{value},percent\n", encoding="utf-8")
    o = [p for p in validate_file(obs, "observations").problems if p.severity == "error"]
    frame, t = validate_targets(tgt, known_target_units(load_plan_targets()), 2020, "neijiang")
    assert frame is None and len(o) == len(t) == 1
    assert (o[0].row, o[0].column, t[0].row, t[0].column) == (2, "value", 2, "target")
    assert o[0].message.replace("value", "target", 1) == t[0].message
    assert o[0].fix == t[0].fix
