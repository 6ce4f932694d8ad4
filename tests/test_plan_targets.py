"""Tests for njforecast.planning.targets: tiny hand-made (synthetic) draws, the real target table."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from njforecast.io import plan as plan_io
from njforecast.planning import targets as pt
from njforecast import schema as S


def _targets(rows):
    """A minimal targets frame shaped like plan_io.load_plan_targets() (synthetic values)."""
    return pd.DataFrame([{S.AREA: "511000", S.INDICATOR: ind, S.INDICATOR_ZH: "", S.UNIT: unit,
                          S.TARGET_YEAR: 2025, S.TARGET: tgt, S.COMPARISON: cmp,
                          "target_text": str(tgt)} for ind, tgt, cmp, unit in rows])


def _series(area, ind, year, values):
    """Synthetic draws of one indicator (labelled synthetic: not real projections)."""
    return pd.DataFrame({S.AREA: area, S.YEAR: year, S.INDICATOR: ind,
                         S.VALUE: np.asarray(values, float), S.DRAW: range(len(values))})


def test_prob_meet_hand_computed():
    """Draws 1,2,3,4 vs 2.5: at_least 0.5, at_most 0.5; about (±5 % of 3) hits one draw."""
    v = np.array([1.0, 2.0, 3.0, 4.0])
    assert pt.prob_meet(v, 2.5, "at_least") == 0.5
    assert pt.prob_meet(v, 2.5, "at_most") == 0.5
    assert pt.prob_meet(v, 3.0, "about") == 0.25
    assert pt.prob_meet(v, 4.0, "at_least") == 0.25  # equality meets an at_least target


def test_prob_meet_rejects_unknown_comparison():
    """An unknown comparison is an error naming the allowed ones."""
    with pytest.raises(ValueError, match="at_least"):
        pt.prob_meet(np.array([1.0]), 1.0, "greater")


def test_equality_within_rounding_meets_target():
    """A path set to 92.09 that lands on 92.09 minus 1e-12 still meets an at_least 92.09."""
    assert pt.prob_meet(np.array([92.09 - 1e-12]), 92.09, "at_least") == 1.0
    assert pt.prob_meet(np.array([92.09 - 1e-6]), 92.09, "at_least") == 0.0


def test_status_thresholds():
    """0.8 is on track, 0.79 at risk, 0.2 at risk, 0.19 off track (stated thresholds)."""
    assert pt.status_of(0.8) == "on_track"
    assert pt.status_of(0.79) == "at_risk"
    assert pt.status_of(0.2) == "at_risk"
    assert pt.status_of(0.19) == "off_track"
    assert pt.status_of(float("nan")) == "not_projectable"


def test_compare_known_answer_and_gap():
    """Ten draws 90..99 vs an at_least 92.09: mean 94.5, gap 2.41, p_meet 0.7, at risk."""
    s = _series("511000", "preschool_ger_3y", 2025, np.arange(90, 100))
    gaps = pt.compare_to_targets(s, _targets([("preschool_ger_3y", 92.09, "at_least", "percent")]))
    r = gaps.iloc[0]
    assert r[S.PROJECTED_MEAN] == pytest.approx(94.5)
    assert r[S.GAP] == pytest.approx(94.5 - 92.09)
    assert r[S.P_MEET] == pytest.approx(0.7)
    assert r[S.STATUS] == "at_risk"
    assert r[S.N_DRAWS] == 10
    assert r[S.PROJECTED_LO80] <= r[S.PROJECTED_MEAN] <= r[S.PROJECTED_HI80]
    assert r[S.PROJECTED_LO95] <= r[S.PROJECTED_LO80]


def test_every_target_gets_a_row_even_unprojectable():
    """Targets without projections are kept as not_projectable / not_quantified, never dropped."""
    tg = plan_io.load_plan_targets()
    s = _series("511000", "senior_stage_ger", 2025, [96.0, 97.0])
    gaps = pt.compare_to_targets(s, tg)
    assert set(gaps[S.INDICATOR]) == set(tg[S.INDICATOR])
    row = gaps.set_index(S.INDICATOR).loc["senior_stage_ger"]
    assert row[S.STATUS] == "on_track" and row[S.P_MEET] == 1.0
    deg = gaps.set_index(S.INDICATOR).loc["kindergarten_teachers_college_share"]
    assert deg[S.STATUS] == "not_projectable" and "qualification" in deg[S.NOTE]
    qual = gaps.set_index(S.INDICATOR).loc["senior_general_oversized_class_share"]
    assert qual[S.STATUS] == "not_quantified"


def test_county_rows_only_for_county_targets():
    """A rate target is compared per county; a count target stays city-only."""
    s = pd.concat([_series("511000", "senior_stage_ger", 2025, [94, 96]),
                   _series("511025", "senior_stage_ger", 2025, [90, 91]),
                   _series("511000", "secondary_vocational_enrolment", 2025, [40e3, 50e3]),
                   _series("511025", "secondary_vocational_enrolment", 2025, [1e3, 2e3])])
    tg = _targets([("senior_stage_ger", 95, "at_least", "percent"),
                   ("secondary_vocational_enrolment", 45000, "at_least", "persons")])
    gaps = pt.compare_to_targets(s, tg)
    ger = gaps[gaps[S.INDICATOR] == "senior_stage_ger"]
    assert list(ger[S.AREA]) == ["511000", "511025"]
    assert ger.iloc[1][S.SCOPE].startswith("county") and ger.iloc[1][S.STATUS] == "off_track"
    voc = gaps[gaps[S.INDICATOR] == "secondary_vocational_enrolment"]
    assert list(voc[S.AREA]) == ["511000"]
    assert list(ger[S.BASIS]) == [pt.BASIS_OWN, pt.BASIS_COUNTY]


def test_county_rows_copying_the_city_are_said_once():
    """Counties whose draws equal the city's (no county data) get no rows of their own: one
    row (scope "city assumption applied to counties", no numbers, status city_assumption)
    lists them; a county differing in one draw keeps its own row."""
    s = pd.concat([_series("511000", "senior_stage_ger", 2025, [94, 96]),
                   _series("511025", "senior_stage_ger", 2025, [94, 96]),
                   _series("511011", "senior_stage_ger", 2025, [96, 94]),
                   _series("511024", "senior_stage_ger", 2025, [94, 96.5])])
    gaps = pt.compare_to_targets(s, _targets([("senior_stage_ger", 95, "at_least", "percent")]))
    assert list(gaps[S.AREA]) == ["511000", "511000", "511024"]
    city, applied, own = (gaps.iloc[i] for i in range(3))
    assert city[S.SCOPE] == "plan (city)" and city[S.BASIS] == pt.BASIS_OWN
    assert applied[S.SCOPE] == pt.SCOPE_CITY_APPLIED == "city assumption applied to counties"
    assert applied[S.STATUS] == "city_assumption" and applied[S.N_DRAWS] == 0
    assert np.isnan(applied[S.P_MEET]) and np.isnan(applied[S.PROJECTED_MEAN])
    assert applied[S.NOTE].startswith("2 counties (511025, 511011) have no series")
    assert own[S.BASIS] == pt.BASIS_COUNTY and own[S.P_MEET] == 0.5
    assert "no series" not in own[S.NOTE]


def test_ex_post_skips_the_city_assumption_row():
    """An observed city value fills the city row's ex-post columns, not the row standing for
    the counties that copy the city."""
    s = pd.concat([_series("511000", "senior_stage_ger", 2025, [94, 96]),
                   _series("511025", "senior_stage_ger", 2025, [94, 96])])
    act = pd.DataFrame({S.AREA: ["511000"], S.YEAR: [2025], S.INDICATOR: ["senior_stage_ger"],
                        S.VALUE: [95.5]})
    gaps = pt.compare_to_targets(s, _targets([("senior_stage_ger", 95, "at_least", "percent")]),
                                 actuals=act)
    assert list(gaps[S.ACTUAL].isna()) == [False, True]
    assert bool(gaps.iloc[0][S.MET])


def test_later_years_hold_target_and_say_so():
    """Asking for 2025 and 2035 gives two rows; the 2035 one notes the target is held constant."""
    s = pd.concat([_series("511000", "senior_stage_ger", y, [96, 97]) for y in (2025, 2035)])
    gaps = pt.compare_to_targets(s, _targets([("senior_stage_ger", 95, "at_least", "percent")]),
                                 years=[2025, 2035])
    assert list(gaps[S.YEAR]) == [2025, 2035]
    assert "held constant" in gaps.iloc[1][S.NOTE]
    assert "held constant" not in gaps.iloc[0][S.NOTE]


def test_target_after_every_compared_year_is_a_row_not_a_gap():
    """A 2040 target in a run compared up to 2035 keeps one not_projectable city row saying
    why (it used to vanish, leaving a frame with no rows and no text columns)."""
    s = pd.concat([_series("511000", "senior_stage_ger", y, [96, 97]) for y in (2025, 2035)])
    t = _targets([("senior_stage_ger", 95, "at_least", "percent")]).assign(
        **{S.TARGET_YEAR: 2040})
    gaps = pt.compare_to_targets(s, t, years=[2025, 2035])
    assert len(gaps) == 1
    row = gaps.iloc[0]
    assert (row[S.YEAR], row[S.STATUS], row[S.N_DRAWS], row[S.SCOPE]) == (
        2040, "not_projectable", 0, "plan (city)")
    assert "after the last year compared (2035)" in row[S.NOTE]


def test_missing_series_column_is_named():
    """A series frame without 'value' raises a message naming the missing column."""
    with pytest.raises(ValueError, match="value"):
        pt.compare_to_targets(pd.DataFrame({S.AREA: [], S.YEAR: [], S.INDICATOR: []}),
                              _targets([("x", 1, "at_least", "persons")]))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 200, allow_nan=False), min_size=1, max_size=40),
       st.floats(0, 200, allow_nan=False))
def test_p_meet_in_unit_interval_and_complementary(values, target):
    """p_meet lies in [0, 1], and P(v >= T) + P(v < T) = 1 (equality within EQUAL_RTOL)."""
    v = np.array(values)
    p_ge = pt.prob_meet(v, target, "at_least")
    assert 0.0 <= p_ge <= 1.0
    p_lt = float((v < target - pt.EQUAL_RTOL * max(abs(target), 1.0)).mean())
    assert p_ge + p_lt == pytest.approx(1.0)
    assert pt.prob_meet(v, target, "at_most") >= p_lt


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 100, allow_nan=False), min_size=2, max_size=30),
       st.floats(0.1, 50))
def test_p_meet_monotone_in_shift(values, shift):
    """Shifting every draw up never lowers the chance of meeting an at_least target."""
    v = np.array(values)
    assert pt.prob_meet(v + shift, 50.0, "at_least") >= pt.prob_meet(v, 50.0, "at_least")


def test_period_target_compared_in_its_own_year_only():
    """teachers_added_2021_2025 is not held to 2035 (a different period); rates are."""
    s = pd.concat([_series("511000", ind, y, [1.0, 2.0]) for y in (2025, 2035)
                   for ind in ("teachers_added_2021_2025", "senior_stage_ger")])
    tg = _targets([("teachers_added_2021_2025", 4000, "at_least", "persons"),
                   ("senior_stage_ger", 95, "at_least", "percent")])
    gaps = pt.compare_to_targets(s, tg, years=[2025, 2035])
    assert list(gaps.loc[gaps[S.INDICATOR] == "teachers_added_2021_2025", S.YEAR]) == [2025]
    assert list(gaps.loc[gaps[S.INDICATOR] == "senior_stage_ger", S.YEAR]) == [2025, 2035]


def test_teachers_added_read_against_projected_need():
    """Synthetic need draws 3,000 and 3,500 vs the plan's ≥ 4,000: the plan exceeds need by 750
    on average (status target above projected need, p_meet 1 = the plan covers need in every
    draw); need of 4,500 and 5,000 is a shortfall of 750 (target below projected need)."""
    tg = _targets([("teachers_added_2021_2025", 4000, "at_least", "persons")])
    low = pt.compare_to_targets(_series("511000", "teachers_added_2021_2025", 2025,
                                        [3000, 3500]), tg).iloc[0]
    assert low[S.STATUS] == "target_above_need" and low[S.P_MEET] == 1.0
    assert "the plan's 4,000 exceeds projected need (surplus of 750" in low[S.NOTE]
    assert low[S.GAP] == pytest.approx(-750)
    high = pt.compare_to_targets(_series("511000", "teachers_added_2021_2025", 2025,
                                         [4500, 5000]), tg).iloc[0]
    assert high[S.STATUS] == "target_below_need" and high[S.P_MEET] == 0.0
    assert "shortfall of 750" in high[S.NOTE]
    mixed = pt.compare_to_targets(_series("511000", "teachers_added_2021_2025", 2025,
                                          [3000, 5000]), tg).iloc[0]
    assert mixed[S.STATUS] == "at_risk" and mixed[S.P_MEET] == 0.5


def test_fixed_hiring_plan_keeps_the_ordinary_reading():
    """When the series says the value is actual hires (a fixed plan), 3,000 hired vs ≥ 4,000 is
    simply off track."""
    s = _series("511000", "teachers_added_2021_2025", 2025, [3000, 3500])
    s.attrs["projected_as"] = {"teachers_added_2021_2025": "hires"}
    tg = _targets([("teachers_added_2021_2025", 4000, "at_least", "persons")])
    row = pt.compare_to_targets(s, tg).iloc[0]
    assert row[S.STATUS] == "off_track" and row[S.P_MEET] == 0.0
