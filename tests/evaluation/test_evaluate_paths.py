"""evaluate's rate paths (njforecast.evaluation.evaluate_paths): hand-computed cases."""

import numpy as np
import pandas as pd
import pytest

from njforecast import schema as S
from njforecast.evaluation import evaluate_paths as P


def test_ger_inner_spread_by_hand():
    """G = 50, 50, 50, 53, 53 (t = 2016..2020 = J), φ 0.5; Σφ^i at h = 1..3: .5, .75, .875.
    Origin 2016 has no earlier value (no slope: skipped); 2017 and 2018 have slope 0 (predict
    50); 2019: slope (53 − 50)/3 = 1, predicts 53.5 at 2020."""
    g = pd.Series([50.0, 50, 50, 53, 53], index=range(2016, 2021))
    d = {1: 0.5, 2: 0.75, 3: 0.875}
    z = [0, 3 / d[2], 3 / d[3],        # origin 2017
         3 / d[1], 3 / d[2],           # 2018
         -0.5 / d[1]]                  # 2019
    sd, pairs = P.ger_inner_sd(g, 2020, 0.5)
    assert pairs == 6 and sd == pytest.approx(np.sqrt(np.mean(np.square(z))))
    # a value after J is not read; one in 2014 (before J − 5, not an origin itself) gives
    # origin 2016 a slope, (50 − 10)/2, and its four pairs
    later = pd.concat([g, pd.Series([90.0], index=[2021])])
    assert P.ger_inner_sd(later, 2020, 0.5) == (sd, pairs)
    earlier = pd.concat([pd.Series([10.0], index=[2014]), g])
    assert P.ger_inner_sd(earlier, 2020, 0.5)[1] == pairs + 4


def test_inner_spread_widens_the_ger_draws_not_the_mean():
    g = pd.Series([50.0, 50, 50, 53, 53], index=range(2016, 2021))
    years, ids = np.arange(2020, 2026), np.arange(400)
    a, _ = P.rate_path(g, 2020, years, (0.5, 0.01), ids, 1, "k")
    b, note = P.rate_path(g, 2020, years, (0.5, 0.01), ids, 1, "k", spread="inner")
    mean, _ = P.rate_path(g, 2020, years, (0.5, 0.01), None, 1, "k")
    assert "inner-origin" in note
    assert b[:, -1].std() > 10 * a[:, -1].std()
    assert np.median(b[:, -1]) == pytest.approx(mean[0, -1], abs=0.2)


def test_fertility_history_by_hand():
    """Women aged a at J = a persons; at t = J − 2 the women 15–49 are those aged 17–51 at J:
    Σ 17..51 = 1190. Births 119 → 0.1; a birth year after J is not read."""
    women = np.arange(101, dtype=float)
    cal = pd.DataFrame({S.AREA: P.NATION, S.INDICATOR: "births",
                        S.YEAR: [2018, 2020, 2021], S.VALUE: [119.0, 52.5, 1.0]})
    f = P.fertility_history(cal, women, 2020)
    assert list(f.index) == [2018, 2020]
    assert f[2018] == pytest.approx(0.1) and f[2020] == pytest.approx(52.5 / 1120)


def test_fertility_path_scales_births_after_the_jump_off():
    """Births per woman × 0.5 in every year after J: the age-0 persons at 1 September J + 2
    (born in the census-moment years J + 1 and J + 2, both after J) are exactly halved; the
    persons aged 1–100 at J + 1 (all born by J) do not move."""
    from njforecast.evaluation import evaluate as ev

    wins = {(0, 0), (1, 100)}
    base, _ = ev.population_windows([P.NATION], 2020, 2022, 0, 1, wins)
    half, _ = ev.population_windows([P.NATION], 2020, 2022, 0, 1, wins,
                                    {2021: 0.5, 2022: 0.5})
    assert half[(0, 0)][0, 2, 0] == pytest.approx(0.5 * base[(0, 0)][0, 2, 0])
    assert half[(1, 100)][0, 1, 0] == pytest.approx(base[(1, 100)][0, 1, 0])
