"""Tests for the statsmodels, global, structural and combination forecasters.

Synthetic series only (labelled): exact lines, geometric series and hand-made drivers whose
right answer is known, not real data.
"""

import numpy as np
import pandas as pd
import pytest

from njforecast import schema as S
from njforecast.models import (Arima, Auto, Combination, DampedETS, Drift, GlobalRegressor, Naive,
                               Structural, Theta, series_id)
from njforecast.models.structural import derive_births

YEARS = np.arange(2000, 2016)
LINE = pd.Series(1000.0 + 20.0 * (YEARS - 2000), index=YEARS, name="x|line")  # synthetic


def _obs(rows):
    return pd.DataFrame(rows, columns=[S.AREA, S.YEAR, S.INDICATOR, S.VALUE])


@pytest.mark.parametrize("cls", [Theta, DampedETS, Arima])
def test_statsmodels_models_extend_an_exact_line(cls):
    """On an exact line (+20/yr, synthetic) Theta, damped ETS and ARIMA stay within 3 % of it."""
    noisy = LINE + np.tile([1.0, -1.0], len(LINE) // 2)
    fc = cls().fit(noisy).predict(3)
    truth = 1000 + 20 * (fc["year"] - 2000)
    assert np.allclose(fc[cls.name], truth, rtol=0.03)
    lo, hi = fc[f"{cls.name}-lo-95"], fc[f"{cls.name}-hi-95"]
    assert (lo <= fc[cls.name]).all() and (fc[cls.name] <= hi).all()


def test_ets_short_series_falls_back_to_drift():
    """ETS needs 8 values; with 5 it uses drift and records it."""
    m = DampedETS().fit(LINE.iloc[:5])
    assert m.fallback_ == "drift"
    assert m.predict(1)["ets"].iloc[0] == pytest.approx(1100.0)


def test_global_regressor_learns_common_growth_from_the_pool():
    """Every pooled series grows 5 %/yr (synthetic): the forecast is y_T·1.05^h."""
    rows = []
    for a, base in (("a", 100.0), ("b", 250.0), ("c", 40.0), ("d", 900.0)):
        for i, yr in enumerate(range(2000, 2012)):
            rows.append((a, yr, "ind", base * 1.05 ** i))
    X = _obs(rows)
    y = X[X[S.AREA] == "a"].set_index(S.YEAR)[S.VALUE]
    y.name = series_id("a", "ind")
    m = GlobalRegressor(max_h=3).fit(y, X)
    assert m.n_series_ == 4
    fc = m.predict(3)
    assert fc["global"].to_numpy() == pytest.approx(y.iloc[-1] * 1.05 ** np.arange(1, 4),
                                                    rel=1e-6)


def test_derive_births_rate_times_mid_year_population():
    """10 ‰ × mean(1000, 1200) = 11 births, flagged derived; observed births are not replaced."""
    obs = _obs([("a", 2000, "population_year_end", 1000.0),
                ("a", 2001, "population_year_end", 1200.0),
                ("a", 2001, "birth_rate_permille", 10.0),
                ("a", 2000, "birth_rate_permille", 9.0),
                ("a", 2000, "births", 8.5)])
    d = derive_births(obs)
    assert len(d) == 1
    row = d.iloc[0]
    assert (row[S.YEAR], row[S.VALUE], row[S.QUALITY]) == (2001, pytest.approx(11.0), "derived")


def test_structural_entrants_from_births_six_years_earlier():
    """Entrants = 0.9 × births 6 years earlier (synthetic): forecasts h ≤ 6 are exact."""
    births = {yr: 1000.0 + 37 * ((yr * 7) % 5) for yr in range(1990, 2016)}
    rows = [("a", yr, "births", v) for yr, v in births.items()]
    rows += [("a", yr, "primary_entrants", 0.9 * births[yr - 6]) for yr in range(1998, 2011)]
    X = _obs(rows)
    y = X[X[S.INDICATOR] == "primary_entrants"].set_index(S.YEAR)[S.VALUE]
    y.name = series_id("a", "primary_entrants")
    Xc = X[X[S.YEAR] <= 2010]
    m = Structural().fit(y, Xc)
    assert m.driver_ == "births[6-6]" and m.fallback_ is None
    fc = m.predict(5)
    assert fc["structural"].tolist() == pytest.approx([0.9 * births[t - 6]
                                                      for t in range(2011, 2016)])
    assert m.sigma_ == pytest.approx(0.0, abs=1e-12)


def test_structural_skips_a_rule_whose_driver_has_a_gap_before_the_cutoff():
    """Births missing for 2008 (synthetic): forecasts from 2010 would read births 2005–2010,
    so the births rule is skipped (no NaN forecast) and the drift fallback is recorded."""
    births = {yr: 1000.0 + 37 * ((yr * 7) % 5) for yr in range(1990, 2016) if yr != 2008}
    rows = [("a", yr, "births", v) for yr, v in births.items()]
    rows += [("a", yr, "primary_entrants", 0.9 * births[yr - 6]) for yr in range(1998, 2011)]
    X = _obs(rows)
    y = X[X[S.INDICATOR] == "primary_entrants"].set_index(S.YEAR)[S.VALUE]
    y.name = series_id("a", "primary_entrants")
    m = Structural().fit(y, X[X[S.YEAR] <= 2010])
    assert m.fallback_ == "drift" and not hasattr(m, "driver_")
    assert np.isfinite(m.predict(5)["structural"]).all()


def test_a_non_finite_forecast_falls_back_for_the_whole_path(caplog):
    """A model whose _predict returns NaN at lead 2 (synthetic stub) answers that call with its
    fallback (drift on the line: 1320, 1340, 1360), with a warning and a record; the fitted
    model is kept, so a 1-year forecast is still its own (naive 1300) and the answer for a
    given h never depends on earlier calls."""
    from njforecast.models import Naive

    class Broken(Naive):
        name = "broken"

        def _predict(self, h, X, level):
            mean, iv = super()._predict(h, X, level)
            mean = mean.astype(float).copy()
            if len(mean) > 1:
                mean[1] = np.nan
            return mean, iv

        def fallback_model(self):
            from njforecast.models import Drift
            return Drift(alias=self.alias)

    m = Broken().fit(LINE)
    fc = m.predict(3)
    assert fc["broken"].tolist() == pytest.approx([1320.0, 1340.0, 1360.0])
    assert m.predict_fallback_ == "drift (non-finite at lead 2)" and "lead(s) 2" in caplog.text
    assert m.fallback_ is None  # the fitted model is kept: a 1-year forecast is its own
    assert m.predict(1)["broken"].tolist() == [1300.0] and m.predict_fallback_ is None
    assert m.predict(3)["broken"].tolist() == pytest.approx([1320.0, 1340.0, 1360.0])


def test_structural_teachers_chain_through_enrolment():
    """Teachers = enrolment/20 and enrolment held (no rule data): teachers forecast = last/20."""
    rows = [("a", yr, "primary_enrolment", 2000.0 + 100 * (yr - 2000)) for yr in range(2000, 2011)]
    rows += [("a", yr, "primary_teachers", (2000.0 + 100 * (yr - 2000)) / 20)
             for yr in range(2000, 2011)]
    X = _obs(rows)
    y = X[X[S.INDICATOR] == "primary_teachers"].set_index(S.YEAR)[S.VALUE]
    y.name = series_id("a", "primary_teachers")
    m = Structural().fit(y, X)
    assert m.driver_ == "primary_enrolment[0-0]"
    # enrolment's own rule (entrants) has no data → drift fallback of the driver: +100/yr
    fc = m.predict(2)
    assert fc["structural"].tolist() == pytest.approx([3100 / 20, 3200 / 20])


def test_structural_without_driver_uses_logged_fallback():
    """No driver in X → the structural model says so and uses drift."""
    m = Structural().fit(LINE, _obs([]))
    assert m.fallback_ == "drift"


def test_combination_is_mean_of_members():
    """combo(naive, drift) = (naive + drift)/2, bounds too."""
    from njforecast.models import Drift, Naive

    c = Combination(members=("naive", "drift")).fit(LINE).predict(2)
    n = Naive().fit(LINE).predict(2)
    d = Drift().fit(LINE).predict(2)
    assert c["combo"].tolist() == pytest.approx(((n["naive"] + d["drift"]) / 2).tolist())
    assert c["combo-lo-80"].tolist() == pytest.approx(((n["naive-lo-80"] + d["drift-lo-80"])
                                                       / 2).tolist())


def test_auto_prefers_trend_models_on_a_trend_and_never_the_mean():
    """On an exact line (synthetic) the inner validation ranks drift first and drops mean."""
    m = Auto(members=("mean", "naive", "drift"), top_k=1, pool=False, min_errors=1).fit(LINE)
    assert m.selected_ == "drift"
    assert m.predict(2)["auto"].tolist() == pytest.approx([1320.0, 1340.0])


def test_auto_too_short_for_inner_validation_falls_back_with_warning(caplog):
    """A 5-year series cannot be validated inside (min_train 6): auto says so and averages."""
    m = Auto(members=("naive", "drift", "theta")).fit(LINE.iloc[:5])
    assert m.n_inner_ == 0 and "too short" in caplog.text
    assert m.selected_ == "naive,drift,theta"


def test_failed_fit_falls_back_with_record(caplog):
    """The global model with too few pooled rows does not crash: drift is used and recorded;
    being an expected shortage (TooLittleData) it is logged at INFO as "not usable", while a
    real failure (non-positive values) is a WARNING "failed"."""
    import logging

    y = LINE.iloc[:5].copy()
    y.name = series_id("x", "line")
    with caplog.at_level(logging.INFO, logger="njforecast.models"):
        m = GlobalRegressor().fit(y, _obs([]))
    assert m.fallback_ == "drift (TooLittleData)"
    rec = [r for r in caplog.records if "not usable" in r.getMessage()]
    assert rec and rec[0].levelno == logging.INFO
    assert m.predict(1)["global"].iloc[0] == pytest.approx(1100.0)
    caplog.clear()
    neg = y.copy()
    neg.iloc[0] = -1.0
    GlobalRegressor().fit(neg, _obs([]))
    assert any(r.levelno == logging.WARNING and "failed" in r.getMessage()
               for r in caplog.records)


def test_conformal_quantile_is_the_finite_sample_order_statistic():
    """Ten scores 0.1…1.0: k = ⌈11·l⌉ gives 0.9 at 80 %, 0.6 at 50 %, the maximum at 95 %."""
    from njforecast.models.ensemble import conformal_quantile

    e = np.arange(1, 11) / 10.0
    assert conformal_quantile(e[::-1], 80) == pytest.approx(0.9)
    assert conformal_quantile(e, 50) == pytest.approx(0.6)
    assert conformal_quantile(e, 95) == pytest.approx(1.0)
    assert np.isnan(conformal_quantile([], 80))


def test_interval_scale_lookup_by_level_and_lead():
    """Factors come from a float, {level: float} or {level: [by lead]} (string keys too)."""
    from njforecast.models.ensemble import _scale_for

    assert _scale_for(1.5, 80, 3) == 1.5
    assert _scale_for({"80": [1.0, 2.0]}, 80, 1) == 1.0
    assert _scale_for({"80": [1.0, 2.0]}, 80, 4) == 2.0  # last factor for longer leads
    assert _scale_for({80: 1.2}, 95, 1) == 1.0


def test_auto_median_of_all_members_without_selection():
    """top_k = 0 and combine = median: on the line (synthetic) naive 1300, drift 1320+20(h−1),
    mean 1150 → the median is naive's 1300 at both leads."""
    m = Auto(members=("naive", "drift", "mean"), top_k=0, combine="median", pool=False,
             min_errors=1).fit(LINE)
    assert m.predict(2)["auto"].tolist() == pytest.approx([1300.0, 1300.0])


def test_auto_interval_scale_multiplies_the_conformal_half_width():
    """interval_scale 2 at 80 % doubles the relative half-width of the conformal interval and
    leaves the point forecast and the 95 % interval unchanged (synthetic noisy line)."""
    noisy = LINE + np.tile([15.0, -15.0], len(LINE) // 2)
    kw = dict(members=("naive", "drift"), pool=False, min_errors=1)
    a = Auto(**kw, interval_scale=1.0).fit(noisy).predict(3)
    b = Auto(**kw, interval_scale={80: 2.0}).fit(noisy).predict(3)
    assert b["auto"].tolist() == pytest.approx(a["auto"].tolist())
    assert (b["auto-hi-80"] - b["auto"]).tolist() == pytest.approx(
        (2 * (a["auto-hi-80"] - a["auto"])).tolist())
    assert b["auto-hi-95"].tolist() == pytest.approx(a["auto-hi-95"].tolist())


def test_auto_short_series_extends_the_last_validated_lead_without_error():
    """An 8-year line (synthetic) validates only leads 1–2 inside; leads 3–5 reuse the lead-2
    conformal width × √(h/2) instead of failing over to naive."""
    noisy = (LINE + np.tile([15.0, -15.0], len(LINE) // 2)).iloc[:8]
    m = Auto(members=("naive", "drift"), pool=False, min_errors=1, interval_scale=1.0).fit(noisy)
    fc = m.predict(5)
    assert m.interval_method_ == "conformal" and getattr(m, "fallback_", None) is None
    rel = (fc["auto-hi-80"] / fc["auto"] - 1).to_numpy()
    assert rel[2:] == pytest.approx(rel[1] * np.sqrt(np.arange(3, 6) / 2))


def test_autoets_extends_an_exact_line_and_falls_back_when_short():
    """statsforecast AutoETS on the noisy line (synthetic) stays within 3 % of it; with 5 values
    (< 7, statsforecast refuses it) it uses drift and records it."""
    from njforecast.models import AutoETS

    noisy = LINE + np.tile([1.0, -1.0], len(LINE) // 2)
    m = AutoETS().fit(noisy)
    fc = m.predict(3)
    assert m.method_.startswith("ETS(")
    assert np.allclose(fc["autoets"], 1000 + 20 * (fc["year"] - 2000), rtol=0.03)
    assert (fc["autoets-lo-95"] <= fc["autoets-lo-80"]).all()
    assert (fc["autoets-hi-80"] <= fc["autoets-hi-95"]).all()
    assert AutoETS().fit(LINE.iloc[:5]).fallback_ == "drift"


def test_shrink_weight_is_the_least_squares_blend_of_relative_errors():
    """Hand cases: naive exact → w = 0; combination exact → w = 1; errors +20 % and −20 % →
    w = ½ (the blend is exact); identical forecasts → 1."""
    from njforecast.models.ensemble import _shrink_weight

    a = np.array([100.0, 100.0])
    assert _shrink_weight(a, np.array([110.0, 90.0]), a) == pytest.approx(0.0)
    assert _shrink_weight(a, a, np.array([110.0, 120.0])) == pytest.approx(1.0)
    assert _shrink_weight(a[:1], np.array([120.0]), np.array([80.0])) == pytest.approx(0.5)
    assert _shrink_weight(a, a, a) == 1.0


def test_auto_inverse_mape_weights_favour_an_exact_member():
    """On an exact line (synthetic) drift has zero inner error, so its inverse-MAPE weight is
    ~1 and auto = drift's 1320, 1340 although naive and mean are combined too."""
    m = Auto(members=("naive", "drift", "mean"), top_k=0, combine="inverse_mape", pool=False,
             min_errors=1).fit(LINE)
    assert m.predict(2)["auto"].tolist() == pytest.approx([1320.0, 1340.0], rel=1e-9)


def test_auto_shrinks_to_naive_when_the_combination_never_beats_it():
    """A step from 50 to 100 (synthetic): inside the window naive is exact and the mean of
    (naive, mean) is not, so the shrinkage weight is 0 and auto = naive = 100."""
    step = pd.Series([50.0] * 5 + [100.0] * 11, index=YEARS, name="x|step")
    m = Auto(members=("naive", "mean"), top_k=0, combine="mean", pool=False, min_errors=1,
             shrink_to_naive=True).fit(step)
    assert m.shrink_by_lead_.startswith("h1:0.00")
    assert m.predict(3)["auto"].tolist() == pytest.approx([100.0] * 3)
    no = Auto(members=("naive", "mean"), top_k=0, combine="mean", pool=False,
              min_errors=1, shrink_to_naive=False).fit(step)
    assert no.predict(1)["auto"].iloc[0] < 100.0
    with pytest.raises(ValueError, match="naive"):
        Auto(members=("drift", "mean"), shrink_to_naive=True)


def test_auto_weights_survive_a_zero_actual_in_the_pool():
    """A pooled series with one zero (synthetic) must not turn every inner MAPE infinite: auto
    stays a finite weighted combination of its members (between their forecasts) and is not
    replaced by naive through the non-finite fallback."""
    rows = []
    for a, (base, slope) in {"a": (1000.0, 15.0), "b": (800.0, 12.0), "c": (600.0, 9.0)}.items():
        for i, yr in enumerate(range(2000, 2016)):
            rows.append((a, yr, "ind", 0.0 if (a == "c" and yr == 2008) else base + slope * i
                         + (3.0 if i % 2 else -3.0)))
    X = _obs(rows)
    y = X[X[S.AREA] == "a"].set_index(S.YEAR)[S.VALUE]
    y.name = series_id("a", "ind")
    m = Auto(members=("naive", "drift", "theta"), shrink_to_naive=False).fit(y, X)
    fc = m.predict(3)
    assert getattr(m, "predict_fallback_", None) is None and np.isfinite(fc["auto"]).all()
    members = [cls().fit(y).predict(3).iloc[:, 1] for cls in (Naive, Drift, Theta)]
    lo, hi = np.min(members, axis=0), np.max(members, axis=0)
    assert np.all(fc["auto"].to_numpy() >= lo - 1e-9) and np.all(fc["auto"].to_numpy() <= hi + 1e-9)
    assert not np.allclose(fc["auto"].to_numpy(), members[0].to_numpy())


def test_stacking_weights_hand_cases():
    """One member exact → all weight on it; errors −10 % and +10 % → ½ each (the blend is
    exact); rows with a zero actual or a NaN are dropped; no usable row → equal weights."""
    from njforecast.models.ensemble import stacking_weights

    a = np.array([100.0, 200.0, 50.0])
    assert stacking_weights(np.column_stack([a, 2 * a]), a) == pytest.approx([1.0, 0.0])
    assert stacking_weights(np.column_stack([0.9 * a, 1.1 * a]), a) == pytest.approx([0.5, 0.5])
    F = np.column_stack([np.append(a, np.nan), np.append(1.5 * a, 7.0)])
    assert stacking_weights(F, np.append(a, 0.0)) == pytest.approx([1.0, 0.0])
    assert stacking_weights(np.ones((1, 4)), np.array([0.0])) == pytest.approx([0.25] * 4)


def test_stacking_weights_row_weights_decide_between_conflicting_rows():
    """Row 1 says member 1 is exact, row 2 says member 2 is: with row weights (1, 0) the fit
    is (1, 0), with (0, 1) it is (0, 1), equal weights split the difference."""
    from njforecast.models.ensemble import stacking_weights

    F = np.array([[100.0, 120.0], [80.0, 100.0]])
    a = np.array([100.0, 100.0])
    assert stacking_weights(F, a, np.array([1.0, 0.0])) == pytest.approx([1.0, 0.0], abs=1e-6)
    assert stacking_weights(F, a, np.array([0.0, 1.0])) == pytest.approx([0.0, 1.0], abs=1e-6)
    assert stacking_weights(F, a) == pytest.approx([0.5, 0.5], abs=1e-6)


def test_shrink_weight_with_row_weights():
    """Hand case: combination exact in row 1, naive exact in row 2; weights (3, 1) → w = ¾ —
    argmin 3·(w·0 + (1−w)·e)² + (w·e)² with the same |e| in both rows."""
    from njforecast.models.ensemble import _shrink_weight

    a = np.array([100.0, 100.0])
    c, n = np.array([100.0, 110.0]), np.array([110.0, 100.0])
    assert _shrink_weight(a, c, n, np.array([3.0, 1.0])) == pytest.approx(0.75)
    assert _shrink_weight(a, c, n) == pytest.approx(0.5)


def test_auto_stack_puts_the_weight_on_an_exact_member():
    """On an exact line (synthetic) drift is exact at every inner lead, so the stacking fit
    gives it weight 1: auto = drift (1320, 1340), naive and mean get 0."""
    m = Auto(members=("naive", "drift", "mean"), combine="stack", shrink_to_naive=False,
             pool=False, min_errors=1).fit(LINE)
    w = dict(zip(m._chosen[1], m._weights[1], strict=True))
    assert [w["naive"], w["drift"], w["mean"]] == pytest.approx([0.0, 1.0, 0.0], abs=1e-9)
    assert m.fitted_params()["weights_by_lead_"].startswith("h1:drift=1.000,")
    assert m.predict(2)["auto"].tolist() == pytest.approx([1320.0, 1340.0], rel=1e-9)


def test_auto_recency_weights_follow_the_recent_regime():
    """Synthetic: +25/yr to 2004, −20/yr to 2010, then +40/yr. Over all inner origins
    (2005–2014) naive errs less than drift (drift keeps the early rise through the fall), so
    equal weights put all lead-1 weight on naive (580); with a half-life of 0.5 years the
    recent rising years dominate, where drift (slope 12/yr) errs less than naive: all weight
    on drift, 580 + 12 = 592."""
    v = np.select([YEARS <= 2004, YEARS <= 2010],
                  [400.0 + 25 * (YEARS - 2000), 500.0 - 20 * (YEARS - 2004)],
                  380.0 + 40 * (YEARS - 2010))
    y = pd.Series(v, index=YEARS, name="x|kink")
    kw = dict(members=("naive", "drift"), combine="stack", shrink_to_naive=False, pool=False,
              min_errors=1, inner_windows=10)
    flat = Auto(**kw).fit(y)
    recent = Auto(**kw, recency_halflife=0.5).fit(y)

    def drift_weight(m):
        return dict(zip(m._chosen[1], m._weights[1], strict=True))["drift"]

    assert drift_weight(flat) == pytest.approx(0.0, abs=1e-9)
    assert drift_weight(recent) == pytest.approx(1.0, abs=1e-9)
    assert flat.predict(1)["auto"].iloc[0] == pytest.approx(580.0)
    assert recent.predict(1)["auto"].iloc[0] == pytest.approx(592.0)
    with pytest.raises(ValueError, match="recency_halflife"):
        Auto(recency_halflife=0)


def test_auto_stack_works_on_an_unnamed_series():
    """A series without a name (direct API use) still gets stacking weights, not the naive
    fallback: on an exact line (synthetic) auto = drift."""
    m = Auto(members=("naive", "drift"), pool=False, min_errors=1).fit(LINE.rename(None))
    assert m.fallback_ is None
    assert m.predict(1)["auto"].iloc[0] == pytest.approx(1320.0, rel=1e-9)


def test_stacking_weights_all_zero_row_weights_give_equal_weights():
    from njforecast.models.ensemble import stacking_weights

    F = np.array([[100.0, 120.0], [80.0, 100.0]])
    assert stacking_weights(F, np.array([100.0, 100.0]), np.zeros(2)) == pytest.approx([0.5, 0.5])
