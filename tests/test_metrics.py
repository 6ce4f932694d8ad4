"""Tests for njforecast.evaluation.metrics: hand-computed tiny cases for every metric and the NCES table."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from njforecast.evaluation import metrics as M
from njforecast import schema as S


def test_ape_mape_mdape_by_hand():
    """APE of (100→110, 200→150, 50→50) is (10, 25, 0): MAPE 11.667, median 10."""
    a, f = [100, 200, 50], [110, 150, 50]
    assert np.allclose(M.ape(a, f), [10, 25, 0])
    assert M.mape(a, f) == pytest.approx(35 / 3)
    assert M.mdape(a, f) == pytest.approx(10)


def test_ape_zero_actual_is_nan_not_inf():
    """An actual of 0 has no percentage error (NaN) and is ignored by MAPE."""
    assert np.isnan(M.ape([0], [1])[0])
    assert M.mape([0, 100], [1, 90]) == pytest.approx(10)


def test_mase_scaled_by_in_sample_naive_error():
    """History 10, 12, 11, 15 has naive MAE (2+1+4)/3 = 7/3; errors 1 and 3 give MASE 6/7."""
    s = M.naive_scale([10, 12, 11, 15])
    assert s == pytest.approx(7 / 3)
    assert M.mase([16, 18], [15, 15], s) == pytest.approx((1 + 3) / 2 / (7 / 3))


def test_coverage_counts_bounds_inclusive():
    """Actuals 1, 5, 10 in [0,5], [5,9], [0,9]: two of three inside (bounds count) → 66.7 %."""
    assert M.coverage([1, 5, 10], [0, 5, 0], [5, 9, 9]) == pytest.approx(200 / 3)


def test_winkler_by_hand():
    """80 % interval [10, 20]: inside → width 10; a = 5 → 10 + 2/0.2·5 = 60; a = 22 → 30."""
    w = M.winkler([15, 5, 22], [10, 10, 10], [20, 20, 20], 80)
    assert np.allclose(w, [10, 60, 30])


@settings(max_examples=50, deadline=None)
@given(st.floats(0, 100), st.floats(0, 50), st.floats(-200, 300))
def test_winkler_never_below_width(lo, width, a):
    """The interval score is at least the interval's width, equal to it iff the actual is inside."""
    w = M.winkler([a], [lo], [lo + width], 95)[0]
    assert w >= width - 1e-9
    if lo <= a <= lo + width:
        assert w == pytest.approx(width)
    elif a < lo - 1e-6 or a > lo + width + 1e-6:
        assert w > width


def _cv():
    # one series, history 2000..2005 = 10, 12, 11, 15, 16, 18; cutoff 2003, two leads, 2 models
    rows = []
    for model, f in (("a", (15, 15)), ("b", (16, 20))):
        for h, (yr, act) in enumerate(((2004, 16), (2005, 18)), start=1):
            rows.append({S.AREA: "x", S.INDICATOR: "ind", S.YEAR: yr, S.CUTOFF: 2003, S.H: h,
                         S.ACTUAL: act, S.MODEL: model, S.FORECAST: f[h - 1],
                         S.LO80: f[h - 1] - 1, S.HI80: f[h - 1] + 1, S.LO95: f[h - 1] - 2,
                         S.HI95: f[h - 1] + 2})
    hist = pd.DataFrame({S.AREA: "x", S.INDICATOR: "ind", S.YEAR: range(2000, 2006),
                         S.VALUE: [10, 12, 11, 15, 16, 18]})
    return pd.DataFrame(rows), hist


def test_evaluate_and_nces_layout_by_hand():
    """Model a: APE 1/16, 3/18 → MAPE by lead 6.25 %, 16.67 %; MASE uses history ≤ cutoff only."""
    cv, hist = _cv()
    m = M.evaluate(cv, hist)
    t = M.mape_by_lead(m, "ind")
    assert list(t.index) == [1, 2] and list(t.columns) == ["a", "b"]
    assert t.loc[1, "a"] == pytest.approx(100 / 16)
    assert t.loc[2, "a"] == pytest.approx(300 / 18)
    assert t.loc[1, "b"] == pytest.approx(0)
    allrow = m[(m[S.MODEL] == "a") & (m[S.H] == "all")].iloc[0]
    # scale from 10, 12, 11, 15 (years ≤ 2003) = 7/3, not from the later years
    assert allrow["mase"] == pytest.approx(2 / (7 / 3))
    # a: [14,16] misses 16? no, 16 inside; [14,16] vs 18 outside → coverage80 50 %
    assert allrow["coverage80"] == pytest.approx(50)
    # b: 95 % [14,18] contains 16, [18,22] contains 18 → 100 %
    b = m[(m[S.MODEL] == "b") & (m[S.H] == "all")].iloc[0]
    assert b["coverage95"] == pytest.approx(100)
    # scaled Winkler 80 for a at lead 2: (2 + 2/0.2 · (18 − 16)) / (7/3)
    a2 = m[(m[S.MODEL] == "a") & (m[S.H] == "2")].iloc[0]
    assert a2["winkler80"] == pytest.approx((2 + 10 * 2) / (7 / 3))


def test_evaluate_counts_missing_forecasts_instead_of_hiding_them():
    """A NaN forecast (where the actual exists) is excluded from MAPE but counted in
    n_missing; model a's lead-2 forecast removed → MAPE at lead 2 is NaN, n_missing 1."""
    cv, hist = _cv()
    cv.loc[(cv[S.MODEL] == "a") & (cv[S.H] == 2), S.FORECAST] = np.nan
    m = M.evaluate(cv, hist)
    a = m[m[S.MODEL] == "a"].set_index(S.H)
    assert a.loc["2", "n_missing"] == 1 and a.loc["1", "n_missing"] == 0
    assert a.loc["all", "n_missing"] == 1
    assert np.isnan(a.loc["2", "mape"])
    assert a.loc["all", "mape"] == pytest.approx(100 / 16)  # lead 1 only
    assert m[m[S.MODEL] == "b"]["n_missing"].sum() == 0
