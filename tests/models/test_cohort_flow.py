"""Tests for the cohort-flow forecaster, ``auto``'s flow rule, cross-fitted stacking and the
conformal interval quantile.

Synthetic series only (labelled): hand-made births, entrants and enrolment built from constant
intake and survival ratios, whose right forecast is known exactly; iid draws for coverage.
"""

import numpy as np
import pandas as pd
import pytest

from njforecast import schema as S
from njforecast.models import Auto, CohortFlow, series_id
from njforecast.models.ensemble import Auto as _Auto
from njforecast.models.ensemble import conformal_quantile

INTAKE, SURV = 0.9, 0.95
BIRTHS = {t: 1000.0 + 80.0 * np.sin(t / 3.0) for t in range(1985, 2021)}  # synthetic


def _world(areas=("a",), scale=None, pupils_per_teacher=20.0, births_as_rate=False):
    """Synthetic panel: N_t = 0.9 · B_{t−6}, E_t = E_{t−1} + N_t − 0.95 · N_{t−6},
    teachers = E / 20 (per area, births scaled by ``scale[area]``)."""
    rows, truth = [], {}
    for k, area in enumerate(areas):
        f = (scale or {}).get(area, 1.0 + 0.3 * k)
        B = {t: f * v for t, v in BIRTHS.items()}
        N = {t: INTAKE * B[t - 6] for t in range(1991, 2021)}
        E = {1996: 5200.0 * f}
        for t in range(1997, 2021):
            E[t] = E[t - 1] + N[t] - SURV * N[t - 6]
        truth[area] = E
        if births_as_rate:  # births only as crude rate ‰ × population (constant 100 000)
            rows += [(area, t, "population_year_end", 100000.0) for t in B]
            rows += [(area, t, "birth_rate_permille", B[t] / 100.0) for t in B]
        else:
            rows += [(area, t, "births", v) for t, v in B.items()]
        rows += [(area, t, "primary_entrants", v) for t, v in N.items()]
        rows += [(area, t, "primary_enrolment", v) for t, v in E.items()]
        rows += [(area, t, "primary_teachers", v / pupils_per_teacher) for t, v in E.items()]
    X = pd.DataFrame(rows, columns=[S.AREA, S.YEAR, S.INDICATOR, S.VALUE])
    return X, truth


def _y(X, area, ind, T):
    d = X[(X[S.AREA] == area) & (X[S.INDICATOR] == ind) & (X[S.YEAR] <= T)].sort_values(S.YEAR)
    return pd.Series(d[S.VALUE].to_numpy(), index=d[S.YEAR].to_numpy(), name=series_id(area, ind))


def test_constant_intake_and_survival_reproduce_enrolment_exactly():
    """E_{T+k} = E_{T+k−1} + 0.9·B_{T+k−6} − 0.95·N_{T+k−6}: the flow recovers both ratios
    and the five following years to rounding."""
    X, truth = _world()
    m = CohortFlow().fit(_y(X, "a", "primary_enrolment", 2010), X[X[S.YEAR] <= 2010])
    assert m.fallback_ is None
    assert m.survival_ratio_ == pytest.approx(SURV)
    assert m.entrants_driver_ == "births[6]"
    fc = m.predict(5)
    assert fc["cohortflow"].to_numpy() == pytest.approx([truth["a"][t] for t in range(2011, 2016)],
                                                        rel=1e-12)


def test_hand_computed_two_steps():
    """Tiny hand case: E_T = 100, N_T+1 = 0.5·B, s·N_{T+1−6} — computed by hand."""
    yrs = range(2000, 2011)
    rows = [("a", t, "births", 40.0) for t in range(1990, 2011)]
    rows += [("a", t, "primary_entrants", 20.0) for t in yrs]  # intake 20/40 = 0.5
    E = {t: 100.0 for t in yrs}  # leavers = 20 = 1.0 × 20 → survival 1
    rows += [("a", t, "primary_enrolment", v) for t, v in E.items()]
    X = pd.DataFrame(rows, columns=[S.AREA, S.YEAR, S.INDICATOR, S.VALUE])
    X.loc[(X[S.INDICATOR] == "births") & (X[S.YEAR] == 2005), S.VALUE] = 60.0  # a bigger cohort
    fc = CohortFlow().fit(_y(X, "a", "primary_enrolment", 2010), X).predict(2)
    # 2011: 100 + 0.5·60 (born 2005) − 1·20 = 110; 2012: 110 + 0.5·40 − 20 = 110
    assert fc["cohortflow"].tolist() == pytest.approx([110.0, 110.0])


def test_teachers_are_the_ratio_times_the_flow_enrolment():
    X, truth = _world()
    fc = CohortFlow().fit(_y(X, "a", "primary_teachers", 2010), X).predict(4)
    assert fc["cohortflow"].to_numpy() == pytest.approx(
        [truth["a"][t] / 20.0 for t in range(2011, 2015)], rel=1e-12)


def test_derived_births_are_used_and_flagged():
    """Without observed births the intake ratio works on crude rate × population (derived)."""
    X, truth = _world(births_as_rate=True)
    m = CohortFlow().fit(_y(X, "a", "primary_enrolment", 2010), X)
    assert m.entrants_driver_ == "births[6](derived)"
    assert m.predict(3)["cohortflow"].to_numpy() == pytest.approx(
        [truth["a"][t] for t in range(2011, 2014)], rel=1e-9)


def test_missing_entrants_fall_back_to_structural_and_auto_stacks():
    X, _ = _world(areas=("a", "b"))
    X = X[~((X[S.INDICATOR] == "primary_entrants") & (X[S.AREA] == "a") & (X[S.YEAR] == 2010))]
    y = _y(X, "a", "primary_enrolment", 2010)
    m = CohortFlow().fit(y, X)
    assert m.fallback_ == "structural (TooLittleData)"
    a = Auto(members=("naive", "drift"), inner_windows=3).fit(y, X)
    assert a.rule_ == "stack"


def test_no_look_ahead_changing_the_future_changes_nothing():
    X, _ = _world(areas=("a", "b", "c"))
    y = _y(X, "a", "primary_enrolment", 2009)
    past = X[X[S.YEAR] <= 2009]
    fut = X.copy()
    fut.loc[fut[S.YEAR] > 2009, S.VALUE] *= 3.0
    for model in (CohortFlow(), Auto()):
        a = model.fit(y, past).predict(5)
        b = type(model)().fit(y, fut).predict(5)
        pd.testing.assert_frame_equal(a, b)


def test_auto_is_the_flow_for_enrolment_where_drivers_exist():
    X, _ = _world(areas=("a", "b", "c"))
    y = _y(X, "b", "primary_enrolment", 2012)
    a = Auto().fit(y, X)
    assert a.rule_ == "cohortflow"
    f = CohortFlow().fit(y, X).predict(5)
    assert a.predict(5)["auto"].to_numpy() == pytest.approx(f["cohortflow"].to_numpy())


def test_rolling_errors_of_an_exact_flow_give_zero_width_intervals():
    """Pooled inner errors of an exact flow are 0, so its conformal bounds equal the mean."""
    X, _ = _world(areas=tuple("abcdefgh"))
    m = CohortFlow().fit(_y(X, "a", "primary_enrolment", 2014), X)
    assert m.n_errors_ >= 10
    fc = m.predict(3)
    assert m.interval_source_ == "rolling"
    assert fc["cohortflow-hi-80"].to_numpy() == pytest.approx(fc["cohortflow"].to_numpy())


def test_conformal_quantile_reaches_nominal_coverage_on_iid_errors():
    """Split-conformal guarantee: for n exchangeable scores the new score is ≤ the
    ⌈(n+1)·0.8⌉-th smallest with probability in [0.8, 0.8 + 1/(n+1)] (synthetic iid draws)."""
    rng = np.random.default_rng(7)
    n, hits = 49, []
    for _ in range(4000):
        e = np.abs(rng.standard_normal(n + 1))
        hits.append(e[-1] <= conformal_quantile(e[:-1], 80))
    cover = float(np.mean(hits))
    assert 0.8 - 0.02 <= cover <= 0.8 + 1 / (n + 1) + 0.02
    # and the quantile is not trivially wide: it is below the sample maximum
    assert conformal_quantile(np.arange(1.0, 50.0), 80) == 40.0


def test_cross_fitted_combination_never_sees_its_own_actuals():
    """Out-of-fold stacked forecasts of one series do not change when that series' actuals do."""
    rng = np.random.default_rng(3)
    idx = pd.MultiIndex.from_product([[f"s{i}" for i in range(6)], range(2000, 2008)],
                                     names=["sid", "c"])
    a = 100 + rng.standard_normal(len(idx))
    w = pd.DataFrame({"m1": a + rng.standard_normal(len(idx)), "m2": a * 1.1}, index=idx)
    om = np.ones(len(idx))
    base = _Auto._cross_fitted(w, a, om, ["m1", "m2"])
    a2 = a.copy()
    own = idx.get_level_values("sid") == "s0"
    a2[own] *= 5.0
    moved = _Auto._cross_fitted(w, a2, om, ["m1", "m2"])
    assert moved[own] == pytest.approx(base[own])
    assert not np.allclose(moved[~own], base[~own])  # the others' weights did use them
