"""The learned damped-trend path (njforecast.education.learned): hand-computed cases."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from njforecast.education import learned as L


def _exp_series(first, last, b=-0.02, level=10.0, at=2010):
    years = np.arange(first, last + 1)
    return pd.Series(level * np.exp(b * (years - at)), index=years)


def test_exact_exponential_gives_its_slope_no_spread_and_the_damped_path():
    """R = 10·e^{−0.02(t−2010)}: b = −0.02, every window's slope the same so σ = 0;
    m(J+1) = e^{−0.02·0.8}, m(J+2) = e^{−0.02·(0.8+0.64)} at φ = 0.8."""
    tr = L.learn_log_trend(_exp_series(2000, 2010), 2010, 0.8)
    assert tr.slope == pytest.approx(-0.02) and tr.sd == pytest.approx(0, abs=1e-12)
    assert tr.last == 2010 and tr.level == pytest.approx(10.0)
    m = L.learned_multipliers(tr, [2010, 2011, 2012], 2010)
    assert m[0] == pytest.approx([1.0, np.exp(-0.016), np.exp(-0.02 * 1.44)])


def test_values_after_the_jump_off_change_nothing():
    s = _exp_series(2000, 2010)
    later = pd.concat([s, pd.Series([99.0, 1.0], index=[2011, 2012])])
    a, b = L.learn_log_trend(s, 2010, 0.8), L.learn_log_trend(later, 2010, 0.8)
    assert (a.slope, a.sd, a.level) == (b.slope, b.sd, b.level)


def test_a_series_ending_a_year_early_runs_from_its_last_year_and_is_1_at_j():
    """Last value 2019, J = 2020: m(2020) = 1, m(2021) = e^{b φ²} (the path's step 2 over
    step 1)."""
    tr = L.learn_log_trend(_exp_series(2009, 2019), 2020, 0.8)
    assert tr.last == 2019
    m = L.learned_multipliers(tr, [2020, 2021], 2020)[0]
    assert m == pytest.approx([1.0, np.exp(-0.02 * 0.64)])


def test_too_short_or_stale_histories_are_held():
    assert L.learn_log_trend(_exp_series(2009, 2010), 2010, 0.8) is None  # 2 points
    assert L.learn_log_trend(_exp_series(2000, 2017), 2020, 0.8) is None  # 3 years stale
    assert L.learn_log_trend(pd.Series(dtype=float), 2010, 0.8) is None


def test_spread_is_the_sd_of_the_window_slopes_or_the_slope_itself_when_too_short():
    """Four values: windows ending 2009 (3 values) and 2010 (4): σ = sd of their two slopes
    (ddof 1); three values (one window, two changes): σ = |b|."""
    s = pd.Series([10.0, 11.0, 10.5, 12.0], index=[2007, 2008, 2009, 2010])
    tr = L.learn_log_trend(s, 2010, 0.8)

    def slope(part):
        return np.polyfit(part.index.to_numpy(float), np.log(part.to_numpy()), 1)[0]

    assert tr.slope == pytest.approx(slope(s))
    assert tr.sd == pytest.approx(np.std([slope(s.loc[:2009]), slope(s)], ddof=1))
    short = L.learn_log_trend(s.loc[2008:], 2010, 0.8)
    assert short.sd == pytest.approx(abs(short.slope)) and short.sd > 0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.5, 50), min_size=6, max_size=11), st.floats(0.0, 0.98))
def test_paths_start_at_1_and_stay_inside_the_damped_bound(values, phi):
    """m(J) = 1 in every draw; the mean path never moves further than |b| φ/(1 − φ) in logs."""
    s = pd.Series(values, index=range(2020 - len(values) + 1, 2021))
    tr = L.learn_log_trend(s, 2020, phi)
    years = np.arange(2020, 2060)
    m = L.learned_multipliers(tr, years, 2020, draw_ids=np.arange(5), seed=1, key="k")
    assert np.allclose(m[:, 0], 1.0) and np.all(m > 0)
    mean = L.learned_multipliers(tr, years, 2020)[0]
    bound = abs(tr.slope) * phi / (1 - phi) if phi < 1 else np.inf
    assert np.all(np.abs(np.log(mean)) <= bound + 1e-12)


def test_damped_sum_by_hand():
    assert L.damped_sum([1, 2, 3], 0.5) == pytest.approx([0.5, 0.75, 0.875])
    assert L.damped_sum([4], 1.0) == pytest.approx([4.0])


def test_inner_origin_spread_by_hand():
    """log R = 0, 0, 0, 0.3, 0.3 (t = 0..4), φ 0.5. Origin 2 (slope 0) misses t = 3, 4 by 0.3:
    z = 0.3/0.5, 0.3/0.75. Origin 3: slope of (0, 0, 0, 0.3) = 0.45/5 = 0.09, predicts
    0.3 + 0.09·0.5 at t = 4, z = −0.045/0.5. Origins 0, 1 have fewer than 3 values."""
    s = pd.Series(np.exp([0, 0, 0, 0.3, 0.3]), index=range(2000, 2005))
    sd, pairs = L.inner_origin_sd(s, 0.5)
    assert pairs == 3
    assert sd == pytest.approx(np.sqrt((0.6 ** 2 + 0.4 ** 2 + 0.09 ** 2) / 3))
    # too few pairs: nan, and the rule's own spread is kept
    assert np.isnan(L.inner_origin_sd(s.iloc[:4], 0.5)[0])


def test_inner_spread_only_raises_sigma_and_leaves_the_mean_path():
    """An exact exponential has no inner error undamped (σ stays 0) and some when damped (the
    damping itself misses it); a kinked series gets σ ≥ the rule's, same slope and level."""
    exact = L.learn_log_trend(_exp_series(2000, 2010), 2010, 1.0, spread="inner")
    assert exact.sd == pytest.approx(0, abs=1e-12)
    assert L.learn_log_trend(_exp_series(2000, 2010), 2010, 0.8, spread="inner").sd > 0
    kinked = pd.Series([10.0, 10, 10, 10, 10, 10, 11, 12, 12.5, 13, 15],
                       index=range(2000, 2011))
    a = L.learn_log_trend(kinked, 2010, 0.8)
    b = L.learn_log_trend(kinked, 2010, 0.8, spread="inner")
    assert (b.slope, b.level) == (a.slope, a.level) and b.sd >= a.sd
    assert b.sd == pytest.approx(max(a.sd, L.inner_origin_sd(kinked, 0.8)[0]))
    with pytest.raises(ValueError, match="spread"):
        L.learn_log_trend(kinked, 2010, 0.8, spread="wide")


def test_centred_draws_keep_the_mean_path_on_average():
    """σ 0.2, φ 0.8: uncentred draws' mean is above the mean path by ≈ exp(½σ²S²); draws
    centred on the value average to the mean path, those centred on the reciprocal have
    1/m averaging to 1/mean path (4,000 draws, within 3 %)."""
    tr = L.LearnedTrend(slope=0.01, sd=0.2, damping=0.8, level=1.0, note="", last=2010)
    years, ids = [2010, 2015, 2020], np.arange(4000)
    mean = L.learned_multipliers(tr, years, 2010)[0]
    raw = L.learned_multipliers(tr, years, 2010, ids, 3, "k").mean(axis=0)
    cen = L.learned_multipliers(tr, years, 2010, ids, 3, "k", centre="value").mean(axis=0)
    rec = 1 / L.learned_multipliers(tr, years, 2010, ids, 3, "k", centre="reciprocal")
    s = L.damped_sum(10, 0.8)
    assert raw[-1] / mean[-1] == pytest.approx(np.exp(0.5 * (0.2 * s) ** 2), rel=0.05)
    assert cen == pytest.approx(mean, rel=0.03)
    assert cen[0] == pytest.approx(1.0)
    assert rec.mean(axis=0) == pytest.approx(1 / mean, rel=0.03)
    with pytest.raises(ValueError, match="centre"):
        L.learned_multipliers(tr, years, 2010, ids, 3, "k", centre="median")
