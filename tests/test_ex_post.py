"""Tests for the ex-post columns of the target table (planning.targets.ex_post, target_actuals,
OBSERVED_TO_TARGET) and the report's "what the plan period ended at" table (hand-made frames)."""

import numpy as np
import pandas as pd

from njforecast import schema as S
from njforecast.planning import targets as pt
from njforecast.reporting.report import ex_post_table


def _series(values, year=2025, ind="preschool_ger_3y", area="511000"):
    """A projected target series with one value per draw (synthetic)."""
    return pd.DataFrame({S.AREA: area, S.YEAR: year, S.INDICATOR: ind, S.VALUE: values,
                         S.DRAW: np.arange(len(values))})


def _targets(target=92.0, year=2025, ind="preschool_ger_3y", comparison="at_least"):
    """A one-row targets frame (synthetic)."""
    return pd.DataFrame({S.AREA: ["511000"], S.INDICATOR: [ind], S.INDICATOR_ZH: ["学前"],
                         S.UNIT: ["percent"], S.TARGET_YEAR: [year], S.TARGET: [target],
                         S.COMPARISON: [comparison]})


def _actuals(value, year=2025, ind="preschool_ger_3y"):
    return pd.DataFrame({S.AREA: ["511000"], S.YEAR: [year], S.INDICATOR: [ind],
                         S.VALUE: [value]})


def test_observed_ger_ids_map_to_target_ids():
    """The observed *_pct GER ids map to the plan's target ids in one table."""
    m = pt.OBSERVED_TO_TARGET
    assert m["preschool_ger_pct"] == "preschool_ger_3y"
    assert m["senior_stage_ger_pct"] == "senior_stage_ger"
    assert m["compulsory_consolidation_pct"] == "compulsory_consolidation_rate"
    assert set(m.values()) <= {*pt.known_target_units(_targets())}


def test_target_actuals_prefers_the_planner():
    """A planner's value wins over the bundled one for the same area, year and target id."""
    planner = pd.DataFrame({S.AREA: ["511000"], S.YEAR: [2025], S.INDICATOR: ["preschool_ger_pct"],
                            S.VALUE: [90.1], S.PREFERRED: [True]})
    bundled = pd.DataFrame({S.AREA: ["511000", "511000"], S.YEAR: [2025, 2020],
                            S.INDICATOR: ["preschool_ger_3y", "senior_stage_ger_pct"],
                            S.VALUE: [95.0, 93.4], S.PREFERRED: [True, True]})
    a = pt.target_actuals(planner, bundled).set_index([S.INDICATOR, S.YEAR])
    assert a.loc[("preschool_ger_3y", 2025), S.VALUE] == 90.1
    assert a.loc[("preschool_ger_3y", 2025), S.SOURCE] == "planner"
    assert a.loc[("senior_stage_ger", 2020), S.VALUE] == 93.4


def test_ex_post_columns_are_always_there():
    """Without observations the four ex-post columns exist and are empty."""
    gaps = pt.compare_to_targets(_series(np.linspace(88, 92, 101)), _targets())
    assert list(gaps.columns[-4:]) == list(S.EX_POST_COLUMNS)
    assert gaps[S.ACTUAL].isna().all() and gaps[S.MET].isna().all()
    assert ex_post_table(gaps) == ""


def test_ex_post_met_and_intervals_from_the_draws():
    """actual 90.1 vs ≥ 92: not met; inside the 80 % and 95 % intervals of draws 88…92."""
    gaps = pt.compare_to_targets(_series(np.linspace(88, 92, 101)), _targets(),
                                 actuals=_actuals(90.1))
    r = gaps.iloc[0]
    assert r[S.ACTUAL] == 90.1 and r[S.MET] is False
    assert r[S.IN_80] is True and r[S.IN_95] is True
    outside = pt.compare_to_targets(_series(np.linspace(88, 92, 101)), _targets(target=89.0),
                                    actuals=_actuals(92.05)).iloc[0]
    assert outside[S.MET] is True and outside[S.IN_80] is False and outside[S.IN_95] is False


def test_ex_post_in_80_but_not_in_95_edge():
    """An actual between the 90th and 97.5th percentiles is inside 95 % but not 80 %."""
    v = np.linspace(0, 100, 1001)
    r = pt.compare_to_targets(_series(v), _targets(target=50.0), actuals=_actuals(95.0)).iloc[0]
    assert r[S.IN_80] is False and r[S.IN_95] is True


def test_ex_post_only_in_the_target_year():
    """A 2025 target held to 2030 gets no actual in its 2030 row (a different year)."""
    s = pd.concat([_series(np.linspace(88, 92, 11)), _series(np.linspace(88, 92, 11), year=2030)])
    gaps = pt.compare_to_targets(s, _targets(), years=[2025, 2030],
                                 actuals=pd.concat([_actuals(90.1), _actuals(91.0, year=2030)]))
    assert gaps.set_index(S.YEAR).loc[2025, S.ACTUAL] == 90.1
    assert np.isnan(gaps.set_index(S.YEAR).loc[2030, S.ACTUAL])


def test_report_shows_what_the_plan_period_ended_at():
    """The report's ex-post table appears (en and zh) when an actual exists."""
    gaps = pt.compare_to_targets(_series(np.linspace(88, 92, 101)), _targets(),
                                 actuals=_actuals(90.1))
    en, zh = ex_post_table(gaps, "en"), ex_post_table(gaps, "zh")
    assert "What the plan period ended at" in en and "90.1" in en and "✗" in en
    assert "规划期末实际情况" in zh and "学前" in zh
