"""Tests for models.baselines and the protocol in models.base (hand-computed cases).

Synthetic series only (labelled): tiny hand-made numbers, not real data.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from njforecast.models import Drift, Mean, Naive, make_model
from njforecast.models.base import check_series, empirical_intervals

Y = pd.Series([10.0, 12.0, 11.0, 15.0], index=[2000, 2001, 2002, 2003])  # synthetic


def test_naive_point_and_interval_by_hand():
    """Naive: mean 15; σ̂² = (4+1+16)/3 = 7; 80 % half-width at h=2 is z·√7·√2."""
    fc = Naive().fit(Y).predict(2)
    assert list(fc.columns) == ["year", "naive", "naive-lo-80", "naive-hi-80", "naive-lo-95",
                                "naive-hi-95"]
    assert fc["year"].tolist() == [2004, 2005]
    assert fc["naive"].tolist() == [15.0, 15.0]
    half = stats.norm.ppf(0.9) * np.sqrt(7) * np.sqrt(2)
    assert fc.loc[1, "naive-hi-80"] == pytest.approx(15 + half)


def test_drift_point_and_interval_by_hand():
    """Drift: slope (15−10)/3 = 5/3; h=1 → 16.667; residuals 2−5/3, −1−5/3, 4−5/3 (2 d.f.)."""
    m = Drift().fit(Y)
    fc = m.predict(2)
    assert fc["drift"].tolist() == pytest.approx([15 + 5 / 3, 15 + 10 / 3])
    e = np.array([2, -1, 4]) - 5 / 3
    sigma = np.sqrt(np.sum(e ** 2) / 2)
    assert m.sigma_ == pytest.approx(sigma)
    sd2 = sigma * np.sqrt(2 * (1 + 2 / 3))
    assert fc.loc[1, "drift-lo-95"] == pytest.approx(15 + 10 / 3 - stats.norm.ppf(0.975) * sd2)


def test_mean_by_hand():
    """Mean: 12; σ̂ = sd(ddof=1); half-width z·σ̂·√(1 + 1/4) at every lead."""
    fc = Mean().fit(Y).predict(3)
    assert fc["mean"].tolist() == [12.0] * 3
    half = stats.norm.ppf(0.9) * np.std(Y.values, ddof=1) * np.sqrt(1.25)
    assert fc["mean-hi-80"].tolist() == pytest.approx([12 + half] * 3)


def test_short_series_falls_back_with_record(caplog):
    """Drift needs 3 values: with 2 it uses naive, says so in the log and in ``fallback_``."""
    caplog.set_level("INFO", logger="njforecast.models")
    m = Drift().fit(Y.iloc[:2])
    assert m.fallback_ == "naive"
    assert "using naive" in caplog.text
    fc = m.predict(1)
    assert fc["drift"].tolist() == [12.0]


def test_gap_and_duplicate_years_are_rejected_with_the_years():
    """A gap or a repeated year is a clear ValueError naming the years."""
    with pytest.raises(ValueError, match="2001 is followed by 2003"):
        check_series(pd.Series([1.0, 2.0], index=[2001, 2003], name="s"))
    with pytest.raises(ValueError, match="more than once"):
        check_series(pd.Series([1.0, 2.0], index=[2001, 2001], name="s"))


def test_unknown_model_lists_known_ones():
    """make_model rejects an unknown name and lists the registry."""
    with pytest.raises(ValueError, match="naive"):
        make_model("nope")


def test_counts_are_clipped_at_zero():
    """A falling drift never forecasts negative counts (bounds clipped at 0)."""
    y = pd.Series([30.0, 20.0, 10.0], index=[2000, 2001, 2002])
    fc = Drift().fit(y).predict(4)
    assert (fc.drop(columns="year") >= 0).all().all()
    assert fc["drift"].tolist() == [0.0, 0.0, 0.0, 0.0]


def test_empirical_intervals_by_hand():
    """Relative errors −10 % … +10 % (uniform grid) give 80 % bounds at the 10th/90th percentiles."""
    errs = [np.linspace(-0.1, 0.1, 11)]
    out = empirical_intervals(np.array([100.0]), errs, (80,))
    lo, hi = out[80]
    assert lo[0] == pytest.approx(100 * (1 + np.quantile(errs[0], 0.1)))
    assert hi[0] == pytest.approx(100 * (1 + np.quantile(errs[0], 0.9)))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(1, 1e6), min_size=4, max_size=12),
       st.sampled_from(["naive", "drift", "mean"]))
def test_intervals_nested_and_contain_the_mean(values, name):
    """For any positive series: lo95 ≤ lo80 ≤ mean ≤ hi80 ≤ hi95 at every lead."""
    y = pd.Series(values, index=range(2000, 2000 + len(values)))
    fc = make_model(name).fit(y).predict(5)
    a = name
    tol = 1e-6 * max(values)
    assert (fc[f"{a}-lo-95"] <= fc[f"{a}-lo-80"] + tol).all()
    assert (fc[f"{a}-lo-80"] <= fc[a] + tol).all()
    assert (fc[a] <= fc[f"{a}-hi-80"] + tol).all()
    assert (fc[f"{a}-hi-80"] <= fc[f"{a}-hi-95"] + tol).all()
