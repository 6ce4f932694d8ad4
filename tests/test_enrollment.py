"""Tests for njforecast.education.enrolment: plan baselines, calibration, rate paths, enrolment-rate and
flow methods, indicators, and the whole stage (coherence draw by draw)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from njforecast.io import plan as plan_io
from njforecast.io import store as data
from njforecast import schema as S
from njforecast.areas import check_coherence, load_region
from njforecast.education.enrolment import (
    DEFAULT_BANDS,
    band_population,
    calibrate_base_rates,
    consolidation_rate,
    flow_enrolment,
    flow_ratios,
    indicators,
    plan_baselines,
    project_enrolment,
    rate_path,
)
from reference import run_enrolment_stage  # the frame composition of the stages (tests/reference.py)

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def tiny():
    """Synthetic tiny region, population and plan baselines (tests/data, hand-made)."""
    region = load_region(DATA / "tiny_region.toml")
    pop = pd.read_csv(DATA / "enrolment_tiny_population.csv", dtype={S.AREA: str})
    plan = plan_io.load_plan_indicators(DATA / "tiny_plan_indicators.csv", area="900000")
    return region, pop, plan


def _census_2020(region) -> pd.DataFrame:
    """Neijiang's 2020 census graduated to single ages (demography.graduate_single_ages)."""
    from njforecast.demography import graduate_single_ages

    c = data.load_census(data.raw_dir() / "census" / "census_county_2020_sichuan.csv")
    c = c[c[S.AREA].isin([a.code for a in region.counties])]
    return graduate_single_ages(c).rename(columns={S.CENSUS_YEAR: S.YEAR})


@pytest.fixture(scope="module")
def neijiang():
    """Neijiang region, 2020 single-age census population and plan box 1."""
    region = load_region("neijiang")
    return region, _census_2020(region), plan_io.load_plan_indicators()


def test_band_population_hand_computed(tiny):
    """Band totals are sums over ages and sexes (area A: 20 persons per age → 60/120/60/60)."""
    _, pop, _ = tiny
    bp = band_population(pop[pop[S.YEAR] == 2020])
    a = bp[bp[S.AREA] == "900001"].set_index(S.BAND)[S.POPULATION]
    assert a.to_dict() == {"preschool": 60, "primary": 120, "junior": 60, "senior": 60}


def test_plan_baselines_tiny_split(tiny):
    """The compulsory split by GER × band population: 1800 × 360/(360+180) = 1200 primary."""
    region, pop, plan = tiny
    b = plan_baselines(plan, pop, region).set_index(S.LEVEL)
    assert b.loc["primary", S.ENROLMENT] == 1200 and b.loc["junior", S.ENROLMENT] == 600
    assert b.loc["senior_general", S.ENROLMENT] == 360
    assert b.loc["primary", S.QUALITY] == "estimated"
    assert b.loc["senior_general", S.QUALITY] == "derived"


def test_calibration_tiny_hand_computed(tiny):
    """Rates = city count / city band population; areas get rate × their population; f from GER."""
    region, pop, plan = tiny
    r = calibrate_base_rates(pop, plan_baselines(plan, pop, region), region)
    r = r.set_index([S.AREA, S.LEVEL])
    assert r.loc[("900001", "preschool"), S.ENROLMENT] == pytest.approx(90.0)
    assert r.loc[("900002", "preschool"), S.ENROLMENT] == pytest.approx(180.0)
    assert r.loc[("900000", "preschool"), S.RATE] == pytest.approx(1.5)
    # f = (270 / 0.90) / 180
    assert r.loc[("900000", "preschool"), S.GER_FACTOR] == pytest.approx(300 / 180)
    assert r.loc[("900000", "senior_general"), S.GER_FACTOR] == pytest.approx(3.0)


def test_neijiang_base_reproduces_plan_counts_and_rates(neijiang):
    """2020 base: city counts equal plan box 1 exactly and GERs within 0.1 point."""
    region, pop, plan = neijiang
    base = plan_baselines(plan, pop, region)
    rates = calibrate_base_rates(pop, base, region)
    path = rate_path(rates, [2020], region)
    enrol = project_enrolment(pop, rates, path, region)
    ind = indicators(enrol, pop, rates, region, plan_obs=plan)
    city = ind[(ind[S.AREA] == "511000") & (ind[S.YEAR] == 2020)].set_index(S.INDICATOR)[S.VALUE]
    for ind_id, want in [("kindergarten_children", 85600), ("compulsory_enrolment", 320200),
                         ("senior_stage_enrolment", 96100),
                         ("secondary_vocational_enrolment", 35000)]:
        assert city[ind_id] == pytest.approx(want, abs=1e-6)
    for ind_id, want in [("preschool_ger_3y", 88.86), ("primary_ger", 102.54),
                         ("junior_ger", 109.33), ("senior_stage_ger", 93.38)]:
        assert abs(city[ind_id] - want) < 0.1
    cb = enrol[(enrol[S.AREA] == "511000")].set_index(S.LEVEL)[S.ENROLMENT]
    assert cb["preschool"] == 85600 and cb["primary"] + cb["junior"] == 320200  # to the digit
    sg = enrol[(enrol[S.AREA] == "511000") & (enrol[S.LEVEL] == "senior_general")]
    assert sg[S.ENROLMENT].item() == pytest.approx(61100)
    assert check_coherence(enrol, region, [S.ENROLMENT]).empty


def test_neijiang_compulsory_split_sums_exactly(neijiang):
    """The derived primary/junior split adds up to 320,200 and is labelled estimated."""
    region, pop, plan = neijiang
    b = plan_baselines(plan, pop, region).set_index(S.LEVEL)
    assert b.loc["primary", S.ENROLMENT] + b.loc["junior", S.ENROLMENT] == 320200
    assert set(b.loc[["primary", "junior"], S.QUALITY]) == {"estimated"}
    assert b.loc["primary", S.ENROLMENT] == float(round(b.loc["primary", S.ENROLMENT]))


def test_planner_counts_replace_estimate(neijiang):
    """A planner's county count replaces the estimate; the rest is shared; the city still adds up."""
    region, pop, plan = neijiang
    obs = pd.read_csv(DATA / "enrolment_user_observations.csv", dtype={S.AREA: str})
    base = plan_baselines(plan, pop, region)
    r = calibrate_base_rates(pop, base, region, observations=obs).set_index([S.AREA, S.LEVEL])
    assert r.loc[("511025", "primary"), S.ENROLMENT] == 50000
    assert r.loc[("511025", "primary"), S.QUALITY] == "observed"
    assert r.loc[("511002", "primary"), S.QUALITY] == "estimated"
    counties = [a.code for a in region.counties]
    prim = r.xs("primary", level=S.LEVEL)
    assert prim.loc[counties, S.ENROLMENT].sum() == pytest.approx(prim.loc["511000", S.ENROLMENT])
    # others are shared by population: equal rates outside the observed county
    others = prim.loc[[c for c in counties if c != "511025"], S.RATE]
    assert np.allclose(others, others.iloc[0])


def test_planner_counts_too_large_rejected(neijiang):
    """County counts above the city baseline give a clear error naming the indicator."""
    region, pop, plan = neijiang
    obs = pd.DataFrame({S.AREA: ["511025"], S.YEAR: [2020], S.INDICATOR: ["primary_enrolment"],
                        S.VALUE: [10_000_000.0]})
    with pytest.raises(ValueError, match="primary_enrolment 2020"):
        calibrate_base_rates(pop, plan_baselines(plan, pop, region), region, observations=obs)


def test_rate_path_target_hand_computed(tiny):
    """Target path: halfway to the target year, the GER is halfway to the target."""
    region, pop, plan = tiny
    rates = calibrate_base_rates(pop, plan_baselines(plan, pop, region), region)
    p = rate_path(rates, [2020, 2022, 2024, 2026], region, "target",
                  targets={"preschool_ger_3y": 99.0}, target_year=2024)
    pre = p[(p[S.AREA] == "900000") & (p[S.LEVEL] == "preschool")].set_index(S.YEAR)[S.RATE]
    # base GER 90 → 99: multiplier 1.05 at 2022, 1.10 from 2024
    assert pre[2022] == pytest.approx(1.5 * 1.05)
    assert pre[2024] == pytest.approx(1.5 * 1.10) and pre[2026] == pytest.approx(1.5 * 1.10)
    prim = p[(p[S.AREA] == "900000") & (p[S.LEVEL] == "primary")][S.RATE]
    assert np.allclose(prim, 1200 / 360)


def test_rate_path_trend_and_cap(tiny):
    """Trend path: GER moves by the annual change and stops at the cap."""
    region, pop, plan = tiny
    rates = calibrate_base_rates(pop, plan_baselines(plan, pop, region), region)
    p = rate_path(rates, [2020, 2021, 2030], region, "trend",
                  annual_change={"preschool": 2.0}, max_ger=95.0)
    pre = p[(p[S.AREA] == "900001") & (p[S.LEVEL] == "preschool")].set_index(S.YEAR)[S.RATE]
    assert pre[2021] == pytest.approx(1.5 * 92 / 90)
    assert pre[2030] == pytest.approx(1.5 * 95 / 90)


def test_rate_path_unknown_name(tiny):
    """An unknown rate path is rejected with the valid names."""
    region, pop, plan = tiny
    rates = calibrate_base_rates(pop, plan_baselines(plan, pop, region), region)
    with pytest.raises(ValueError, match="'hold', 'target'"):
        rate_path(rates, [2020], region, "magic")


def test_indicators_tiny_ger_and_transition(tiny):
    """GER = E / (f × P) × 100; apparent transition = senior entrants / junior final year × 100."""
    region, pop, plan = tiny
    rates = calibrate_base_rates(pop, plan_baselines(plan, pop, region), region)
    enrol = project_enrolment(pop, rates, rate_path(rates, [2020, 2021], region), region)
    ind = indicators(enrol, pop, rates, region)
    v = ind.set_index([S.AREA, S.YEAR, S.INDICATOR])[S.VALUE]
    assert v[("900001", 2020, "preschool_ger_3y")] == pytest.approx(90.0)
    assert v[("900001", 2020, "preschool_ger_3y_resident_basis")] == pytest.approx(150.0)
    # senior entrants A 2021 = 180 × 20/60 = 60; junior final A 2020 = 200 × 20/60
    assert v[("900001", 2021, "junior_senior_transition")] == pytest.approx(90.0)
    assert ("900001", 2020, "junior_senior_transition") not in v.index
    assert v[("900000", 2020, "compulsory_enrolment")] == pytest.approx(1800)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0, 1e4, allow_nan=False), min_size=2 * 3 * 2 * 15,
                max_size=2 * 3 * 2 * 15))
def test_areas_sum_to_city_draw_by_draw(values):
    """For any population with draws, every city enrolment equals the sum of its areas per draw."""
    region = load_region(DATA / "tiny_region.toml")
    idx = pd.MultiIndex.from_product([["900001", "900002"], [0, 1, 2], ["male", "female"],
                                      range(3, 18)], names=[S.AREA, S.DRAW, S.SEX, S.AGE])
    pop = pd.DataFrame({S.POPULATION: values}, index=idx).reset_index()
    pop[S.YEAR] = 2021
    rates = pd.DataFrame({S.AREA: ["900001", "900002", "900000"] * 5,
                          S.LEVEL: np.repeat(S.SCHOOL_LEVELS, 3), S.YEAR: 2021,
                          S.QUALITY: "estimated"})
    path = rates.assign(**{S.RATE: np.linspace(0.1, 1.5, len(rates))})
    e = project_enrolment(pop, rates, path, region)
    assert check_coherence(e, region, [S.ENROLMENT]).empty
    assert len(e[e[S.AREA] == "900000"]) == 5 * 3


def test_consolidation_rate_national_hand_computed():
    """Consolidation 2021 = junior graduates 2021 / primary entrants 2012 (national series)."""
    obs = data.preferred(data.load_observations())
    n = obs[obs[S.AREA] == "100000"].pivot_table(index=S.YEAR, columns=S.INDICATOR,
                                                  values=S.VALUE)
    c = consolidation_rate(n["junior_graduates"], n["primary_entrants"])
    assert c[2021] == pytest.approx(15_871_485 / 17_146_600 * 100)
    # unadjusted for transfers: below the published (adjusted) 95.4
    assert c[2021] < n.loc[2021, "compulsory_consolidation_pct"]


def test_flow_ratios_and_enrolment_national():
    """Flow method on the national junior series: completion hand-computed; grade progression
    from entrants reproduces published junior enrolment within 5 % (2016–2019)."""
    obs = data.load_observations()
    fr = flow_ratios(obs, "100000").set_index([S.YEAR, S.INDICATOR])[S.VALUE]
    # graduates of summer 2019 entered junior in autumn 2016 (lag D = 3)
    assert fr[(2019, "junior_completion")] == pytest.approx(14_540_936 / 14_872_000)
    assert fr[(2019, "junior_retention")] == pytest.approx((14_540_936 / 14_872_000) ** 0.5)
    n = data.preferred(obs)
    n = n[n[S.AREA] == "100000"].pivot_table(index=S.YEAR, columns=S.INDICATOR, values=S.VALUE)
    s = fr[(2016, "junior_retention")]
    est = flow_enrolment(n["junior_entrants"], s, 3)
    err = (est.loc[2016:2019] / n.loc[2016:2019, "junior_enrolment"] - 1).abs()
    assert err.max() < 0.05


def test_flow_ratios_lag_is_the_stage_duration():
    """Synthetic, non-constant entrants (labelled test data): junior entrants 100, 200, 400 in
    2010–2012 and graduates 90, 180 in 2013–2014 → completion 0.9 both years (lag 3; a lag of
    2 would give 0.45 and 0.45·2); primary graduates 2016 / entrants 2010 with lag 6."""
    rows = [("junior_entrants", 2010, 100), ("junior_entrants", 2011, 200),
            ("junior_entrants", 2012, 400), ("junior_graduates", 2013, 90),
            ("junior_graduates", 2014, 180), ("primary_entrants", 2010, 50),
            ("primary_entrants", 2011, 500), ("primary_graduates", 2016, 45),
            ("primary_graduates", 2017, 400)]
    obs = pd.DataFrame(rows, columns=[S.INDICATOR, S.YEAR, S.VALUE]).assign(**{S.AREA: "9"})
    fr = flow_ratios(obs, "9").set_index([S.INDICATOR, S.YEAR])[S.VALUE]
    assert fr[("junior_completion", 2013)] == pytest.approx(0.9)
    assert fr[("junior_completion", 2014)] == pytest.approx(0.9)
    assert fr[("junior_retention", 2014)] == pytest.approx(0.9 ** 0.5)
    assert fr[("primary_completion", 2016)] == pytest.approx(0.9)
    assert fr[("primary_completion", 2017)] == pytest.approx(0.8)
    assert ("junior_completion", 2012) not in fr.index


def test_flow_enrolment_tiny():
    """E(t) = Σ_k entrants(t−k) s^k: entrants 100, 100, 200 with s = 0.5 → 200 + 50 + 25."""
    e = flow_enrolment(pd.Series([100.0, 100.0, 200.0], index=[2018, 2019, 2020]), 0.5, 3)
    assert e.to_dict() == {2020: 275.0}


def test_flow_ratios_sichuan_transition():
    """Sichuan primary→junior transition 2014 = junior entrants / primary graduates."""
    fr = flow_ratios(data.load_observations(), "510000").set_index([S.YEAR, S.INDICATOR])
    v = fr.loc[(2014, "primary_junior_transition"), S.VALUE]
    assert v == pytest.approx(834_486 / 830_744)


def test_run_stage_coherent_with_draws(neijiang):
    """The whole stage on a 3-draw projection: every count coherent draw by draw, every row
    carries a quality flag, years cover base → end."""
    from njforecast.demography import project_population

    region, pop20, _ = neijiang
    pop = project_population(pop20.rename(columns={S.YEAR: S.CENSUS_YEAR}), start_year=2020,
                             end_year=2022, draws=3, seed=7, ages=range(20))
    out = run_enrolment_stage(pop, {"rate_path": "target"}, region)
    assert check_coherence(out["enrolment"], region, [S.ENROLMENT]).empty
    tch = out["teachers"]
    assert check_coherence(tch[[S.AREA, S.YEAR, S.LEVEL, S.DRAW, S.DEMAND, S.SUPPLY,
                                S.HIRES_NEEDED]], region,
                           [S.DEMAND, S.SUPPLY, S.HIRES_NEEDED]).empty
    cap = out["capacity"]
    assert check_coherence(cap[[S.AREA, S.YEAR, S.LEVEL, S.DRAW, S.ENROLMENT]], region,
                           [S.ENROLMENT]).empty
    for name in ("enrolment", "indicators", "teachers", "capacity", "assumptions"):
        assert out[name][S.QUALITY].isin(S.QUALITIES).all(), name
    assert sorted(out["enrolment"][S.YEAR].unique()) == [2020, 2021, 2022]
    assert (out["indicators"][S.RATE_PATH] == "target").all()
    # the base year is the same in every draw
    b = out["enrolment"][out["enrolment"][S.YEAR] == 2020]
    assert b.groupby([S.AREA, S.LEVEL])[S.ENROLMENT].nunique().max() == 1


def test_bad_bands_message(tiny):
    """A missing age band is named in the error."""
    _, pop, _ = tiny
    with pytest.raises(ValueError, match="band 'senior' is missing"):
        band_population(pop, {k: v for k, v in DEFAULT_BANDS.items() if k != "senior"})


def test_cli_enrolment_base(tmp_path):
    """`njforecast enrolment base` prints the calibrated city baselines; a bad file exits 2."""
    from typer.testing import CliRunner

    from njforecast.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["enrolment", "base", "--out", str(tmp_path / "base.csv")])
    assert res.exit_code == 0, res.output
    t = pd.read_csv(tmp_path / "base.csv", dtype={S.AREA: str})
    city = t[t[S.AREA] == "511000"].set_index(S.LEVEL)
    assert city.loc["preschool", S.ENROLMENT] == 85600
    assert city.loc["preschool", "ger"] == pytest.approx(88.86)
    bad = runner.invoke(app, ["enrolment", "base", "--observations", str(tmp_path / "no.csv")])
    assert bad.exit_code == 2 and "file not found" in bad.output


def test_run_stage_hiring_frames(neijiang):
    """The stage returns per-year hires (summing to the cumulative summary) and the plan target."""
    region, pop20, _ = neijiang
    frames = []
    for y in range(2020, 2026):  # synthetic: the 2020 population held for six years
        frames.append(pop20.assign(**{S.YEAR: y}))
    out = run_enrolment_stage(pd.concat(frames, ignore_index=True), {}, region)
    h, hs = out["hiring"], out["hiring_summary"].set_index(S.AREA)
    city = h[(h[S.AREA] == "511000") & h[S.YEAR].between(2021, 2025)][S.HIRES_NEEDED].sum()
    assert city == pytest.approx(hs.loc["511000", S.HIRES_NEEDED])
    assert hs.loc["511000", S.TARGET] == 4000
    # population and rates held: demand N is constant, so hires replace attrition: 5 × N × a
    t = out["teachers"]
    n20 = t[(t[S.AREA] == "511000") & (t[S.YEAR] == 2020)][S.DEMAND].sum()
    a = float(out["assumptions"].set_index("name").loc["attrition", S.VALUE])
    assert city == pytest.approx(5 * n20 * a, rel=1e-6)


def test_flow_cohorts_tiny_hand_computed():
    """Entrants = intake × entry population; grades progress by s; junior entry by transition."""
    from njforecast.education.enrolment import flow_cohorts

    out = flow_cohorts(np.array([0.0, 6.0, 7.0]),
                       {"primary": np.array([10.0, 8.0]), "junior": np.array([4.0])},
                       2.0, {"primary": 0.5, "junior": 1.0}, {"primary_junior_transition": 0.9})
    assert out["primary"].tolist() == [[10.0, 8.0], [12.0, 5.0], [14.0, 6.0]]
    assert out["junior"][:, 0].tolist() == pytest.approx([4.0, 7.2, 4.5])


@pytest.mark.parametrize("level,duration,tol", [("primary", 6, 0.05), ("junior", 3, 0.02)])
def test_flow_backtest_national(level, duration, tol):
    """Flow back-test on the national series: from the 2015 stock and published entrants,
    stock-consistent grade progression reproduces enrolment 2016–2019 (primary within 5 %,
    junior within 2 %; measured 4.3 % and 1.7 % at four years)."""
    from njforecast.education.enrolment import flow_cohorts, stock_retention

    obs = data.preferred(data.load_observations())
    n = obs[obs[S.AREA] == "100000"].pivot_table(index=S.YEAR, columns=S.INDICATOR,
                                                  values=S.VALUE)
    ent = n[f"{level}_entrants"]
    e15 = n.loc[2015, f"{level}_enrolment"]
    s = stock_retention(ent, e15, 2015, duration)
    base = np.array([ent[2015 - k] * s ** k for k in range(duration)])
    assert base.sum() == pytest.approx(e15)
    out = flow_cohorts(ent.loc[2015:2019].to_numpy(), {"primary": base}, 1.0, {"primary": s}, {})
    est = out["primary"].sum(axis=-1)
    pub = n.loc[2015:2019, f"{level}_enrolment"].to_numpy()
    assert np.max(np.abs(est / pub - 1)) < tol


def test_stage_flow_method_with_planner_series(neijiang):
    """method 'flow' uses a county's own entrants/graduates; other areas keep the rate method;
    the base still equals the plan and the city still adds up."""
    region, pop20, _ = neijiang
    pop = pd.concat([pop20.assign(**{S.YEAR: y}) for y in range(2020, 2024)], ignore_index=True)
    obs = pd.read_csv(DATA / "enrolment_flow_observations.csv", dtype={S.AREA: str})
    rate = run_enrolment_stage(pop, {}, region)
    flow = run_enrolment_stage(pop, {"method": "flow"}, region, observations=obs)
    key = [S.AREA, S.YEAR, S.LEVEL]
    r = rate["enrolment"].set_index(key)[S.ENROLMENT]
    f = flow["enrolment"].set_index(key)[S.ENROLMENT]
    assert f[("511025", 2020, "primary")] == pytest.approx(r[("511025", 2020, "primary")])
    assert abs(f[("511025", 2022, "junior")] / r[("511025", 2022, "junior")] - 1) > 1e-3
    assert f[("511024", 2022, "junior")] == pytest.approx(r[("511024", 2022, "junior")])
    assert check_coherence(flow["enrolment"], region, [S.ENROLMENT]).empty
    note = flow["assumptions"].set_index("name").loc["enrolment_method", "note"]
    assert "flow for ['511025']" in note
    # first grade from 2021: intake × P6 with intake = 10,000 entrants / P6(2020), P6 held
    from njforecast.education.enrolment import flow_ratios

    assert flow_ratios(obs, "511025").query("indicator == 'primary_completion'")[S.VALUE].iloc[
        -1] == pytest.approx(0.95)


def test_stock_retention_hand_computed_and_errors():
    """100 entrants in each of two years and 190 pupils give s = 0.9; gaps are named."""
    from njforecast.education.enrolment import stock_retention

    e = pd.Series([100.0, 100.0], index=[2019, 2020])
    assert stock_retention(e, 190.0, 2020, 2) == pytest.approx(0.9)
    with pytest.raises(ValueError, match=r"entrants missing for \[2018\]"):
        stock_retention(e, 190.0, 2020, 3)
    with pytest.raises(ValueError, match="no progression ratio"):
        stock_retention(e, 1000.0, 2020, 2)


def test_rate_path_external_holds_last_value(tiny):
    """External GER path (e.g. a models/ forecast): m = G(t)/G0, later years hold the last value."""
    region, pop, plan = tiny
    rates = calibrate_base_rates(pop, plan_baselines(plan, pop, region), region)
    ger = pd.DataFrame({S.YEAR: [2021], S.INDICATOR: ["senior_stage_ger"], S.VALUE: [110.0]})
    p = rate_path(rates, [2020, 2021, 2022], region, "external", ger_path=ger)
    sg = p[(p[S.AREA] == "900002") & (p[S.LEVEL] == "senior_general")].set_index(S.YEAR)[S.RATE]
    assert sg[2020] == pytest.approx(2.0)
    assert sg[2021] == pytest.approx(2.0 * 1.1) and sg[2022] == pytest.approx(2.0 * 1.1)


def test_cli_enrolment_base_with_planner_file(tmp_path):
    """`enrolment base --observations` loads a planner's file; its count shows as observed."""
    from typer.testing import CliRunner

    from njforecast.cli import app

    out = tmp_path / "base.csv"
    res = CliRunner().invoke(app, ["enrolment", "base", "--observations",
                                   str(DATA / "enrolment_user_observations.csv"),
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    t = pd.read_csv(out, dtype={S.AREA: str}).set_index([S.AREA, S.LEVEL])
    assert t.loc[("511025", "primary"), S.ENROLMENT] == 50000
    assert t.loc[("511025", "primary"), S.QUALITY] == "observed"


def test_registered_basis_uses_city_ratio(tiny):
    """Registered basis: f = registered / resident of the latest year ≤ base (Neijiang 2019:
    4,081,800 / 3,700,000); GER = E / (f × P) × 100."""
    from njforecast.education.enrolment import registered_ratio

    r, year = registered_ratio(data.load_observations(), "511000", 2020)
    assert year == 2019 and r == pytest.approx(4_081_800 / 3_700_000)
    region, pop, plan = tiny
    rates = calibrate_base_rates(pop, plan_baselines(plan, pop, region), region,
                                 ger_basis="registered", registered_ratio=1.5)
    enrol = project_enrolment(pop, rates, rate_path(rates, [2020], region), region)
    v = indicators(enrol, pop, rates, region).set_index([S.AREA, S.YEAR, S.INDICATOR])[S.VALUE]
    assert v[("900001", 2020, "preschool_ger_3y")] == pytest.approx(150.0 / 1.5)
    with pytest.raises(ValueError, match="no year with both"):
        registered_ratio(data.load_observations(), "511024", 2020)


# --- damped-trend rate paths with drift draws ------------------------------------------------


def _tiny_rates(tiny):
    region, pop, plan = tiny
    return region, pop, calibrate_base_rates(pop, plan_baselines(plan, pop, region), region)


def test_damped_trend_hand_computed_and_bounded():
    """φ = 0.5, b = 2 from 90: 90, 91, 91.5, 91.75 (Σφ^i = 0, .5, .75, .875); a 91.2 ceiling
    stops it there; φ = 1 is the straight line."""
    from njforecast.education.enrolment import damped_trend

    h = [0, 1, 2, 3]
    assert np.allclose(damped_trend(90, 2.0, h, 0.5), [[90, 91, 91.5, 91.75]])
    assert np.allclose(damped_trend(90, 2.0, h, 0.5, upper=91.2), [[90, 91, 91.2, 91.2]])
    assert np.allclose(damped_trend(90, 2.0, h, 1.0), [[90, 92, 94, 96]])
    assert np.allclose(damped_trend(1.0, -1.0, h, 1.0, lower=0.0), [[1, 0, 0, 0]])
    with pytest.raises(ValueError, match="damping"):
        damped_trend(90, 1.0, h, 1.5)


def test_damping_from_ratio_inverts_the_window_mean():
    """φ = 0.5 over a 2-year window averages (0.5 + 0.25)/2 = 0.375 of the slope, so a ratio of
    0.375 gives back φ = 0.5; ratios ≥ 1 mean no damping, ≤ 0 a held level."""
    from njforecast.education.enrolment import damping_from_ratio

    assert damping_from_ratio(0.375, 2) == pytest.approx(0.5)
    assert damping_from_ratio(1.2, 5) == 1.0 and damping_from_ratio(-0.1, 5) == 0.0


def test_trend_parameters_hand_computed():
    """Synthetic national series 80→90→95 and 50→60→67 (past 2, next 1 and 1.4): β = 4.8/8 =
    0.6, residuals ∓0.2 so s_e = 0.2828 and the drift sd is s_e/β = 0.4714 points a year; one
    window is not enough for a spread, and a reversing trend (β ≤ 0) is refused."""
    from njforecast.education.enrolment import damping_from_ratio, drift_ratios, trend_parameters

    obs = pd.DataFrame({S.AREA: "100000", S.YEAR: [2010, 2015, 2020] * 2,
                        S.INDICATOR: ["preschool_ger_pct"] * 3 + ["senior_stage_ger_pct"] * 3,
                        S.VALUE: [80, 90, 95, 50, 60, 67]})
    r = drift_ratios(obs).set_index(S.INDICATOR)["ratio"]
    assert r["preschool_ger_pct"] == pytest.approx(0.5)
    p = trend_parameters(obs)
    assert p["beta"] == pytest.approx(0.6) and p["n_windows"] == 2
    assert p["residual_sd"] == pytest.approx(np.sqrt(0.08))
    assert p["drift_sd"] == pytest.approx(np.sqrt(0.08) / 0.6)
    assert p["damping"] == pytest.approx(damping_from_ratio(0.6))
    with pytest.raises(ValueError, match="at least two 5-year windows"):
        trend_parameters(obs[obs[S.INDICATOR] == "preschool_ger_pct"])
    rev = obs.assign(**{S.VALUE: [80, 90, 85, 50, 60, 55]})
    with pytest.raises(ValueError, match="do not carry over"):
        trend_parameters(rev)


def test_trend_path_tiny_hand_computed_with_vocational_share(tiny):
    """No draws, φ = 1: preschool GER 90 + 2 → rate 1.5 × 92/90; vocational share 1/3 − 0.03
    moves vocational and general rates apart while the senior-stage total is held."""
    region, _, rates = _tiny_rates(tiny)
    p = rate_path(rates, [2020, 2021], region, "trend", annual_change={"preschool": 2.0},
                  voc_share_change=-0.03)
    c = p[(p[S.AREA] == "900000") & (p[S.YEAR] == 2021)].set_index(S.LEVEL)[S.RATE]
    base = rates[rates[S.AREA] == "900000"].set_index(S.LEVEL)[S.RATE]
    assert c["preschool"] == pytest.approx(base["preschool"] * 92 / 90)
    s0 = 1 / 3  # 180 of 540 (tiny plan)
    assert c["secondary_vocational"] == pytest.approx(base["secondary_vocational"]
                                                      * (s0 - 0.03) / s0)
    assert c["secondary_vocational"] + c["senior_general"] == pytest.approx(
        base["secondary_vocational"] + base["senior_general"])
    assert c["primary"] == pytest.approx(base["primary"])
    assert S.DRAW not in p.columns


@settings(max_examples=40, deadline=None)
@given(slope=st.floats(-20, 20), damping=st.floats(0, 1), sd=st.floats(0, 3),
       ceiling=st.floats(90, 130), voc=st.floats(-0.2, 0.2), seed=st.integers(0, 2**32 - 1))
def test_trend_draws_stay_within_bounds(tiny, slope, damping, sd, ceiling, voc, seed):
    """Every draw of a trend path keeps the GER in [0, ceiling] and the vocational share in
    [0, 1], whatever the slope, damping and drift spread."""
    region, _, rates = _tiny_rates(tiny)
    p = rate_path(rates, [2020, 2021, 2025, 2035], region, "trend",
                  annual_change={"preschool": slope}, damping=damping, drift_sd=sd,
                  ceilings={"preschool": ceiling}, voc_share_change=voc, draws=range(30),
                  seed=seed)
    c = p[p[S.AREA] == "900000"]
    ger = c[c[S.LEVEL] == "preschool"][S.RATE] / 1.5 * 90  # base rate 1.5 ↔ GER 90
    assert ger.min() >= 0 and ger.max() <= ceiling + 1e-9
    w = c.pivot_table(index=[S.YEAR, S.DRAW], columns=S.LEVEL, values=S.RATE)
    share = w["secondary_vocational"] / (w["secondary_vocational"] + w["senior_general"])
    assert share.between(-1e-12, 1 + 1e-12).all()
    assert p[S.RATE].ge(0).all()


def test_trend_draws_deterministic_and_independent_of_area_and_draw_order(tiny):
    """Same seed → identical draws; shuffling the rates' areas or asking for a subset of draw
    ids changes nothing; a different seed changes the draws."""
    region, _, rates = _tiny_rates(tiny)
    kw = dict(annual_change={"preschool": 1.0}, damping=0.9, drift_sd=0.5,
              voc_share_change=-0.01)
    a = rate_path(rates, [2020, 2025], region, "trend", draws=range(10), seed=3, **kw)
    b = rate_path(rates.iloc[::-1].reset_index(drop=True), [2020, 2025], region, "trend",
                  draws=[9, 8, 7, 6, 5, 4, 3, 2, 1, 0], seed=3, **kw)
    pd.testing.assert_frame_equal(a, b)
    sub = rate_path(rates, [2020, 2025], region, "trend", draws=[7, 8], seed=3, **kw)
    pd.testing.assert_frame_equal(
        sub, a[a[S.DRAW].isin([7, 8])].reset_index(drop=True))
    other = rate_path(rates, [2020, 2025], region, "trend", draws=range(10), seed=4, **kw)
    assert not np.allclose(other[S.RATE], a[S.RATE])
    # counties follow the city multiplier, draw by draw
    m = a.set_index([S.AREA, S.LEVEL, S.YEAR, S.DRAW])[S.RATE]
    ratio = (m.xs("900001") / m.xs("900001").xs(2020, level=S.YEAR).reindex(
        m.xs("900001").index.droplevel(S.YEAR)).to_numpy())
    city = (m.xs("900000") / m.xs("900000").xs(2020, level=S.YEAR).reindex(
        m.xs("900000").index.droplevel(S.YEAR)).to_numpy())
    assert np.allclose(ratio.to_numpy(), city.to_numpy())


def test_trend_ceiling_below_base_is_an_error(tiny):
    """A ceiling under the base GER would move the base year; it is rejected with the fix."""
    region, _, rates = _tiny_rates(tiny)
    with pytest.raises(ValueError, match="below its base GER 90.00"):
        rate_path(rates, [2020, 2021], region, "trend", annual_change={"preschool": 1.0},
                  ceilings={"preschool": 85.0})


def test_stage_trend_draws_give_informative_p_meet(neijiang):
    """Neijiang stage on a held population with 40 draws (synthetic: 2020 repeated to 2025):
    the box-1 trend gives 2025 preschool GERs that differ by draw and stay under the ceiling,
    consolidation ≤ 100, the base year is the plan's in every draw, the run is reproducible,
    and a target at the central path has p_meet strictly between 0 and 1."""
    from njforecast.education.enrolment import damped_trend, trend_setup
    from njforecast.planning.targets import compare_to_targets

    region, pop20, plan = neijiang
    frames = [pop20.assign(**{S.YEAR: y, S.DRAW: d}) for y in range(2020, 2026)
              for d in range(40)]
    pop = pd.concat(frames, ignore_index=True)
    cfg = {"rate_path": "trend", "consolidation_path": "trend"}
    out = run_enrolment_stage(pop, cfg, region, seed=11)
    ind = out["indicators"]
    city = ind[ind[S.AREA] == "511000"].set_index([S.INDICATOR, S.YEAR, S.DRAW])[S.VALUE]
    tr = trend_setup(cfg, plan, 2020, observations=data.load_observations())
    pre = city.xs(("preschool_ger_3y", 2025))
    assert pre.nunique() == 40 and pre.max() <= tr["ceilings"]["preschool"] + 1e-9
    assert np.allclose(city.xs(("preschool_ger_3y", 2020)), 88.86)
    cons = city.xs("compulsory_consolidation_rate")
    assert cons.max() <= 100 and np.allclose(cons.xs(2020, level=S.YEAR), 96.86)
    # base 96.86 is above the highest China/Sichuan rate (96.84): mean held, draws spread
    c25 = cons.xs(2025, level=S.YEAR)
    assert c25.nunique() == 40 and (c25 < 96.86).any() and (c25 > 96.86).any()
    assert tr["ceilings"]["compulsory_consolidation_rate"] == pytest.approx(96.84)
    again = run_enrolment_stage(pop, cfg, region, seed=11)["indicators"]
    pd.testing.assert_frame_equal(ind, again)
    central = damped_trend(88.86, tr["annual_change"]["preschool"], [5], tr["damping"])[0, 0]
    targets = pd.DataFrame([{S.AREA: "511000", S.INDICATOR: "preschool_ger_3y",
                             S.TARGET_YEAR: 2025, S.TARGET: central, S.COMPARISON: "at_least"}])
    series = ind[(ind[S.INDICATOR] == "preschool_ger_3y") & (ind[S.AREA] == "511000")]
    p = compare_to_targets(series, targets).set_index(S.YEAR).loc[2025, S.P_MEET]
    assert 0 < p < 1
    names = set(out["assumptions"]["name"])
    assert {"trend_damping", "trend_drift_sd", "trend_ceilings",
            "trend_consolidation_drift_sd"} <= names


def test_trend_area_with_own_series_follows_its_own_slope(tiny):
    """A planner's own preschool GER series for area A (synthetic: 80 in 2015, 90 in 2020, so
    +2 a year) moves A by its own slope (90 → 92 in 2021) while area B follows the city's +1
    (90 → 91); without draws and with φ = 1 the numbers are exact."""
    from njforecast.education.enrolment import area_slopes

    region, _, rates = _tiny_rates(tiny)
    obs = pd.DataFrame({S.AREA: ["900001", "900001", "900002"], S.YEAR: [2015, 2020, 2020],
                        S.INDICATOR: "preschool_ger_pct", S.VALUE: [80.0, 90.0, 95.0]})
    own = area_slopes(obs, ["900001", "900002"], 2020)
    assert own == {"900001": {"preschool": 2.0}}  # B has no 2015 value: city path
    p = rate_path(rates, [2020, 2021], region, "trend", annual_change={"preschool": 1.0},
                  area_change=own)
    r = p[(p[S.LEVEL] == "preschool") & (p[S.YEAR] == 2021)].set_index(S.AREA)[S.RATE]
    base = rates[rates[S.LEVEL] == "preschool"].set_index(S.AREA)[S.RATE]
    assert r["900001"] == pytest.approx(base["900001"] * 92 / 90)
    assert r["900002"] == pytest.approx(base["900002"] * 91 / 90)


def test_consolidation_trend_mean_bounded_by_ceiling_draws_keep_spread():
    """Base 94, +1 a year, φ = 1, ceiling 96: mean 94, 95, 96, 96 (capped); draws with shocks
    ±0.5 add ±0.5·h around it (so their mean is the capped path); a base above the ceiling
    (96.86 > 96.84) is held, draws spread around it, every draw ≤ 100."""
    from njforecast.education.enrolment import consolidation_path

    p = consolidation_path(94.0, [2020, 2021, 2022, 2023], slope=1.0, damping=1.0,
                           ceiling=96.0)
    assert p[S.VALUE].tolist() == pytest.approx([94, 95, 96, 96])
    d = consolidation_path(94.0, [2020, 2021, 2022, 2023], slope=1.0, damping=1.0,
                           ceiling=96.0, draw_ids=[0, 1], shocks=np.array([0.5, -0.5]))
    w = d.pivot_table(index=S.DRAW, columns=S.YEAR, values=S.VALUE)
    assert w.loc[0].tolist() == pytest.approx([94, 95.5, 97, 97.5])
    assert w.loc[1].tolist() == pytest.approx([94, 94.5, 95, 94.5])
    assert w.mean().tolist() == pytest.approx([94, 95, 96, 96])
    held = consolidation_path(96.86, [2020, 2025], slope=0.57, damping=0.85, ceiling=96.84,
                              draw_ids=[0, 1, 2], shocks=np.array([-0.3, 0.0, 20.0]))
    v = held.pivot_table(index=S.DRAW, columns=S.YEAR, values=S.VALUE)
    assert v.loc[1, 2025] == pytest.approx(96.86)  # no shock: held at the base
    assert v.loc[0, 2025] < 96.86 and v.loc[2, 2025] == 100.0  # spread kept; clipped at 100


def test_consolidation_ceiling_and_parameters_from_consolidation_series_only():
    """Ceiling = highest China/Sichuan consolidation observed (Sichuan 96.84, 2025); damping
    and spread from the national consolidation series alone: windows 2017 (91.8→93.8→95.5)
    and 2020 (93.0→95.2→96.1), β = (0.4·0.34 + 0.44·0.18) / (0.4² + 0.44²)."""
    from njforecast.education.enrolment import (consolidation_ceiling, consolidation_parameters,
                                       damping_from_ratio)

    obs = data.load_observations()
    assert consolidation_ceiling(obs) == pytest.approx(96.84)
    p = consolidation_parameters(obs)
    beta = (0.4 * 0.34 + 0.44 * 0.18) / (0.4 ** 2 + 0.44 ** 2)
    assert p["n_windows"] == 2 and p["beta"] == pytest.approx(beta)
    r1, r2 = 0.34 - beta * 0.4, 0.18 - beta * 0.44
    assert p["drift_sd"] == pytest.approx(np.sqrt(r1 ** 2 + r2 ** 2) / beta)
    assert p["damping"] == pytest.approx(damping_from_ratio(beta))


# --- rate_path "model": a models/ forecast of an observed GER series -------------------------

def _ger_series(values: dict[int, float], ind: str = "senior_stage_ger_pct",
                area: str = "100000") -> pd.DataFrame:
    """A synthetic GER series (labelled: hand-made for the tests)."""
    return pd.DataFrame({S.AREA: area, S.YEAR: list(values), S.INDICATOR: ind,
                         S.VALUE: list(values.values())})


def test_model_ger_path_level_and_relative_hand_computed():
    """Series 80, 82, 84, 86, 88 (2018–2022) with the naive model: level mode gives 86, 88 then
    88 held by naive, the base year kept at G0 = 85; relative mode scales by F(t)/F(2020):
    G0 = 42 → 43, 44, 44, 44."""
    from njforecast.education.enrolment import model_ger_path

    obs = _ger_series({2018: 80.0, 2019: 82.0, 2020: 84.0, 2021: 86.0, 2022: 88.0})
    years = [2020, 2021, 2022, 2023, 2024]
    lv, notes = model_ger_path(obs, years, {"senior": 85.0}, model="naive", change="level",
                               min_years=3)
    assert lv[S.INDICATOR].unique().tolist() == ["senior_stage_ger"]
    assert lv[S.VALUE].tolist() == pytest.approx([85.0, 86.0, 88.0, 88.0, 88.0])
    rel, _ = model_ger_path(obs, years, {"senior": 42.0}, model="naive", min_years=3)
    assert rel[S.VALUE].tolist() == pytest.approx([42.0, 43.0, 44.0, 44.0, 44.0])
    assert "naive on 2018–2022 (5 years), forecast 2023–2024" in notes[0]


def test_model_ger_path_draws_are_whole_paths_seeded_by_draw_id():
    """Per draw the deviation from the mean path is z_d × s(t) with one z per draw: the ratio
    of deviations at two leads is the same for every draw; a draw's path does not depend on
    which other draws are asked for; ceilings cap every draw (synthetic noisy series)."""
    from njforecast.education.enrolment import model_ger_path

    vals = {2008 + i: 60.0 + 2.0 * i + (1.5 if i % 2 else -1.5) for i in range(13)}
    obs = _ger_series(vals)
    years = list(range(2020, 2031))
    kw = dict(model="drift", change="level", seed=3)
    mean, _ = model_ger_path(obs, years, {"senior": 84.0}, **kw)
    many, _ = model_ger_path(obs, years, {"senior": 84.0}, draw_ids=range(10), **kw)
    few, _ = model_ger_path(obs, years, {"senior": 84.0}, draw_ids=[7, 2], **kw)
    w = many.pivot(index=S.DRAW, columns=S.YEAR, values=S.VALUE)
    m = mean.set_index(S.YEAR)[S.VALUE]
    dev = w[[2022, 2026]] - m[[2022, 2026]].to_numpy()
    ratio = (dev[2026] / dev[2022]).to_numpy()
    assert np.allclose(ratio, ratio[0])
    assert w[2020].eq(84.0).all() and w[2021].nunique() == 10  # base year fixed, then spread
    f = few.pivot(index=S.DRAW, columns=S.YEAR, values=S.VALUE)
    pd.testing.assert_series_equal(f.loc[7], w.loc[7])
    capped, notes = model_ger_path(obs, years, {"senior": 84.0}, draw_ids=range(10),
                                   ceilings={"senior": 90.0}, **kw)
    assert capped[S.VALUE].max() <= 90.0 and "capped at 90.00" in notes[0]


def test_model_ger_path_holds_short_or_missing_series_and_says_so():
    """Three consecutive years (< min_years 8) are not extrapolated; a band without a series
    is held; no usable band at all is an error that names the indicators and the area."""
    from njforecast.education.enrolment import model_ger_path

    obs = pd.concat([_ger_series({2018: 90.0, 2019: 91.0, 2020: 92.0}),
                     _ger_series({2010 + i: 70.0 + i for i in range(11)},
                                 ind="preschool_ger_pct")])
    out, notes = model_ger_path(obs, [2020, 2021, 2022], {"senior": 93.0, "preschool": 88.0,
                                                          "primary": 100.0}, model="naive")
    assert set(out[S.INDICATOR]) == {"preschool_ger_3y"}
    text = " | ".join(notes)
    assert "only 3 consecutive years" in text and "no primary_ger_pct series" in text
    with pytest.raises(ValueError, match="no band has a usable series.*100000"):
        model_ger_path(obs[obs[S.INDICATOR] == "senior_stage_ger_pct"], [2020, 2025],
                       {"senior": 93.0}, model="naive")
    with pytest.raises(ValueError, match="rate_change"):
        model_ger_path(obs, [2020], {"senior": 93.0}, change="both")


def test_stage_model_rate_path_on_bundled_national_series(neijiang):
    """rate_path "model" (auto on the national preschool GER, relative change) runs the stage:
    preschool GER rises from the plan's 88.86 but never past the Sichuan ceiling 93.59; the
    senior-stage series (3 consecutive years) is held at 93.38; the assumptions say both."""
    from njforecast.demography import project_population

    region, pop20, _ = neijiang
    pop = project_population(pop20.rename(columns={S.YEAR: S.CENSUS_YEAR}), start_year=2020,
                             end_year=2026, draws=3, seed=7, ages=range(20))
    out = run_enrolment_stage(pop, {"rate_path": "model"}, region)  # rate_model auto
    ind = out["indicators"]
    city = ind[ind[S.AREA] == region.code].groupby([S.INDICATOR, S.YEAR])[S.VALUE]
    pre = city.max()["preschool_ger_3y"]
    assert pre[2020] == pytest.approx(88.86, abs=0.01)
    assert pre[2026] > 89.0 and pre.max() <= 93.59 + 1e-9
    assert city.max()["senior_stage_ger"][2026] == pytest.approx(93.38, abs=0.01)
    a = out["assumptions"].set_index("name")["note"]
    assert "auto on 2014–2024" in a["rate_model_preschool"]
    assert "consecutive years" in a["rate_model_senior"]


def test_stage_external_rate_path_file_errors_name_the_file(tmp_path, tiny):
    """rate_path "external" reads [enrolment] ger_path; a bad indicator is named with the fix."""
    from njforecast.io.store import DataError
    from njforecast.education.enrolment import BAND_GER
    from njforecast.io.ger_path import read_ger_path

    f = tmp_path / "ger.csv"
    f.write_text("year,indicator,value\n2021,senior_ger,95\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"ger\.csv: column indicator has \['senior_ger'\]"):
        read_ger_path({"ger_path": str(f)}, BAND_GER.values())
    f.write_text("year,indicator,value\n2021,senior_stage_ger,-1\n", encoding="utf-8")
    with pytest.raises(DataError, match="row 2, column value"):
        read_ger_path({"ger_path": str(f)}, BAND_GER.values())
    with pytest.raises(ValueError, match="needs ger_path"):
        read_ger_path({}, BAND_GER.values())


def test_external_ger_path_draws_must_cover_the_runs_draws(tiny):
    """A per-draw GER path lacking some of the run's draws is refused (it would silently drop
    population draws); one covering them all gives each draw its own path."""
    region, pop, plan = tiny
    rates = calibrate_base_rates(pop, plan_baselines(plan, pop, region), region)
    ger = pd.DataFrame({S.YEAR: [2021, 2021], S.INDICATOR: "senior_stage_ger",
                        S.VALUE: [110.0, 120.0], S.DRAW: [0, 1]})
    with pytest.raises(ValueError, match=r"lacks draw\(s\) \[2\]"):
        rate_path(rates, [2020, 2021], region, "external", ger_path=ger, draws=[0, 1, 2])
    with pytest.raises(ValueError, match="run has no draws"):
        rate_path(rates, [2020, 2021], region, "external", ger_path=ger)
    p = rate_path(rates, [2020, 2021], region, "external", ger_path=ger, draws=[0, 1])
    sg = p[(p[S.AREA] == "900002") & (p[S.LEVEL] == "senior_general")].set_index(
        [S.YEAR, S.DRAW])[S.RATE]
    assert sg[(2021, 0)] == pytest.approx(2.0 * 1.1) and sg[(2021, 1)] == pytest.approx(2.0 * 1.2)


def test_compulsory_evidence_states_the_observed_range():
    """The reason the compulsory GERs are held quotes the national series' range over the ten
    years to the base year (synthetic rows), and says so when there is none."""
    from njforecast.education.trend import compulsory_evidence

    rows = [("100000", y, "primary_net_enrolment_pct", v)
            for y, v in [(2009, 90.0), (2015, 99.7), (2020, 99.96), (2021, 80.0)]]
    rows += [("510000", 2018, "junior_ger_pct", 50.0), ("100000", 2018, "junior_ger_pct", 100.9)]
    obs = pd.DataFrame(rows, columns=[S.AREA, S.YEAR, S.INDICATOR, S.VALUE])
    text = compulsory_evidence(obs, 2020)
    assert text == ("primary_net_enrolment_pct 99.7–99.96 (2015–2020, 2 years); "
                    "junior_ger_pct 100.9–100.9 (2018–2018, 1 years)")
    assert compulsory_evidence(obs.iloc[:0], 2020).startswith("no national")
