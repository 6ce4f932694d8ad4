"""Tests for njforecast.education.teachers: ratios from the standards, the three demand methods, the
supply roll-forward, base supply rules and hiring need."""

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
from njforecast.education.teachers import (
    base_teacher_supply,
    class_caps,
    hiring_need,
    implied_attrition,
    staffing_ratios,
    teacher_demand,
    teacher_supply,
)

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def standards():
    """The bundled staffing standards."""
    return data.load_standards()


@pytest.fixture(scope="module")
def ratios(standards):
    """Pupils per full-time teacher from the bundled standards."""
    return staffing_ratios(standards)


def _enrol(values, levels=("primary",), areas=("900001",), years=(2020,)):
    idx = pd.MultiIndex.from_product([areas, years, levels], names=[S.AREA, S.YEAR, S.LEVEL])
    return pd.DataFrame({S.ENROLMENT: np.asarray(values, float)}, index=idx).reset_index()


def test_staffing_ratios_from_standards(ratios):
    """Pupils per teacher = students per staff / (1 − non-teaching cap): 19/0.91, 13.5/0.88,
    12.5/0.85; kindergarten 8 × 3/2 = 12; vocational borrows senior and is flagged estimated."""
    r = ratios.set_index(S.LEVEL)
    assert r.loc["primary", S.RATIO] == pytest.approx(19 / 0.91)
    assert r.loc["junior", S.RATIO] == pytest.approx(13.5 / 0.88)
    assert r.loc["senior_general", S.RATIO] == pytest.approx(12.5 / 0.85)
    assert r.loc["preschool", S.RATIO] == pytest.approx(12.0)
    assert r.loc["secondary_vocational", S.RATIO] == r.loc["senior_general", S.RATIO]
    assert r.loc["secondary_vocational", S.QUALITY] == "estimated"


def test_nonteaching_share_override(standards):
    """A stated non-teaching share of 0 gives the bare staffing ratio."""
    r = staffing_ratios(standards, {"primary": 0.0}).set_index(S.LEVEL)
    assert r.loc["primary", S.RATIO] == 19


def test_demand_standard_hand_computed(ratios):
    """Standard method: 1,900 primary pupils need 1,900 / (19/0.91) = 91 teachers."""
    d = teacher_demand(_enrol([1900.0]), ratios, "standard")
    assert d[S.DEMAND].item() == pytest.approx(91.0)


def test_demand_class_size_ceiling(ratios, standards):
    """Class method: 91 pupils at cap 45 → 3 classes × 2.5 teachers per class = 7.5."""
    caps = class_caps(standards)
    assert caps["primary"] == 45 and caps["junior"] == 50 and caps["preschool"] == 30
    d = teacher_demand(_enrol([91.0]), ratios, "class_size", caps, {"primary": 2.5})
    assert d[S.DEMAND].item() == pytest.approx(7.5)
    d90 = teacher_demand(_enrol([90.0]), ratios, "class_size", caps, {"primary": 2.5})
    assert d90[S.DEMAND].item() == pytest.approx(5.0)


def test_demand_area_ratio_trended(ratios):
    """Own-ratio method: ratio 20 trended −0.5 a year gives 19 in year 2: 190 pupils → 10."""
    e = _enrol([190.0, 190.0, 190.0], years=(2020, 2021, 2022))
    ar = pd.DataFrame({S.AREA: ["900001"], S.LEVEL: ["primary"], S.RATIO: [20.0]})
    d = teacher_demand(e, ratios, "area_ratio", area_ratio=ar, ratio_change=-0.5,
                       base_year=2020).set_index(S.YEAR)
    assert d.loc[2022, S.RATIO] == 19.0 and d.loc[2022, S.DEMAND] == pytest.approx(10.0)


def test_supply_roll_forward_hand_computed(ratios):
    """Supply 100, attrition 10 %: demand 100, 90, 110, 50 → hires 0, 0, 29, 0; surplus kept."""
    dem = _enrol([1.0, 1.0, 1.0, 1.0], years=(2020, 2021, 2022, 2023))
    dem[S.DEMAND] = [100.0, 90.0, 110.0, 50.0]
    dem[S.RATIO], dem[S.METHOD] = 1.0, "standard"
    s0 = pd.DataFrame({S.AREA: ["900001"], S.LEVEL: ["primary"], S.SUPPLY: [100.0],
                       S.QUALITY: ["estimated"]})
    t = teacher_supply(dem, s0, 0.10).set_index(S.YEAR)
    assert t[S.HIRES_NEEDED].tolist() == pytest.approx([0.0, 0.0, 29.0, 0.0])
    assert t[S.SUPPLY].tolist() == pytest.approx([100.0, 90.0, 110.0, 99.0])
    assert t[S.SURPLUS].tolist() == pytest.approx([0.0, 0.0, 0.0, 49.0])


def test_base_year_stock_is_kept_and_its_shortfall_hired_next_year(ratios):
    """Supply 100, attrition 10 %, demand 120 in the base year: the base year keeps its stock
    (100, no hires, 20 needed); 2021 (demand 130) hires 130 − 90 = 40, the base shortfall
    included; a fixed plan also hires nobody in the base year."""
    dem = _enrol([1.0, 1.0, 1.0], years=(2020, 2021, 2022))
    dem[S.DEMAND] = [120.0, 130.0, 100.0]
    dem[S.RATIO], dem[S.METHOD] = 1.0, "standard"
    s0 = pd.DataFrame({S.AREA: ["900001"], S.LEVEL: ["primary"], S.SUPPLY: [100.0],
                       S.QUALITY: ["estimated"]})
    t = teacher_supply(dem, s0, 0.10).set_index(S.YEAR)
    assert t[S.SUPPLY].tolist() == pytest.approx([100.0, 130.0, 117.0])
    assert t[S.HIRES].tolist() == pytest.approx([0.0, 40.0, 0.0])
    assert t[S.HIRES_NEEDED].tolist() == pytest.approx([20.0, 40.0, 0.0])
    fixed = teacher_supply(dem, s0, 0.10, hires_per_year=10.0).set_index(S.YEAR)
    assert fixed.loc[2020, S.HIRES] == 0.0 and fixed.loc[2020, S.SUPPLY] == 100.0
    # a period that includes the base year counts its shortfall once: 40, not 20 + 40
    from types import SimpleNamespace

    from njforecast.education.teachers import hiring_need

    h = hiring_need(t.reset_index(), SimpleNamespace(code="900001"), 2020, 2022, 50.0)
    assert h[S.HIRES_NEEDED].tolist() == [40.0] and h[S.PLAN_COVERS_NEED].tolist() == [True]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 5e4, allow_nan=False), min_size=4, max_size=4),
       st.integers(0, 3), st.floats(0, 1e4, allow_nan=False),
       st.sampled_from(["standard", "class_size"]))
def test_more_pupils_never_fewer_teachers(values, i, extra, method):
    """Adding pupils in any year never lowers demand there nor cumulative hires."""
    standards = data.load_standards()
    ratios = staffing_ratios(standards)
    caps = class_caps(standards)
    years = (2020, 2021, 2022, 2023)
    e1 = _enrol(values, years=years)
    e2 = e1.copy()
    e2.loc[i, S.ENROLMENT] += extra
    s0 = pd.DataFrame({S.AREA: ["900001"], S.LEVEL: ["primary"], S.SUPPLY: [500.0],
                       S.QUALITY: ["estimated"]})
    d1 = teacher_demand(e1, ratios, method, caps)
    d2 = teacher_demand(e2, ratios, method, caps)
    assert (d2[S.DEMAND].to_numpy() >= d1[S.DEMAND].to_numpy() - 1e-9).all()
    h1 = teacher_supply(d1, s0, 0.05)[S.HIRES_NEEDED].sum()
    h2 = teacher_supply(d2, s0, 0.05)[S.HIRES_NEEDED].sum()
    assert h2 >= h1 - 1e-6


def test_base_supply_province_ratio(ratios):
    """Province rule: Sichuan 2019 primary pupils per teacher = 5,557,731 / 337,840."""
    base = pd.DataFrame({S.AREA: ["511025"], S.YEAR: [2020], S.LEVEL: ["primary"],
                         S.ENROLMENT: [55577.31]})
    s = base_teacher_supply(base, ratios, "province_ratio", data.load_observations())
    assert s[S.RATIO].item() == pytest.approx(5_557_731 / 337_840)
    assert s[S.SUPPLY].item() == pytest.approx(55577.31 * 337_840 / 5_557_731)
    assert s[S.QUALITY].item() == "estimated"


def test_base_supply_planner_counts_replace_estimate(ratios):
    """A planner's base-year teacher count replaces the estimate and is flagged observed."""
    obs = pd.read_csv(DATA / "enrolment_user_observations.csv", dtype={S.AREA: str})
    base = pd.DataFrame({S.AREA: ["511025", "511024"], S.YEAR: [2020, 2020],
                         S.LEVEL: ["primary", "primary"], S.ENROLMENT: [50000.0, 19000.0]})
    s = base_teacher_supply(base, ratios, observations=obs).set_index(S.AREA)
    assert s.loc["511025", S.SUPPLY] == 2500 and s.loc["511025", S.QUALITY] == "observed"
    assert s.loc["511025", S.RATIO] == pytest.approx(20.0)
    assert s.loc["511024", S.SUPPLY] == pytest.approx(19000 / (19 / 0.91))


def _tiny_plan(h):
    """Synthetic plan box 1 (labelled test data): two years, hires H over 2016–2020."""
    rows = [("kindergarten_children", 2015, 1200), ("kindergarten_children", 2020, 1200),
            ("compulsory_enrolment", 2015, 900), ("compulsory_enrolment", 2020, 1800),
            ("senior_stage_enrolment", 2015, 0), ("senior_stage_enrolment", 2020, 0),
            ("secondary_vocational_enrolment", 2015, 0),
            ("secondary_vocational_enrolment", 2020, 0),
            ("teachers_added_2016_2020", 2020, h)]
    return pd.DataFrame(rows, columns=[S.INDICATOR, S.YEAR, S.VALUE]).assign(**{S.AREA: "900000"})


TINY_RATIOS = pd.DataFrame({S.LEVEL: ["preschool", "primary", "junior", "senior_general",
                                      "secondary_vocational"],
                            S.RATIO: [12.0, 20.0, 10.0, 10.0, 10.0]})


def test_implied_attrition_hand_computed():
    """Tiny case: N2015 = 100 + 600/20 + 300/10 = 160, N2020 = 220, H = 155 → a = 95/950 = 0.1;
    with primary share 1/2: N = 167.5, 235 → a = 87.5 / 1006.25."""
    assert implied_attrition(_tiny_plan(155), TINY_RATIOS) == pytest.approx(0.1)
    assert implied_attrition(_tiny_plan(155), TINY_RATIOS, primary_share=0.5) == pytest.approx(
        87.5 / 1006.25)
    halved = TINY_RATIOS.assign(**{S.RATIO: TINY_RATIOS[S.RATIO] / 2})  # twice the stock
    assert implied_attrition(_tiny_plan(155), halved) == pytest.approx((155 - 120) / (5 * 380))


def test_run_teachers_attrition_uses_the_base_stock_ratios():
    """The derived attrition uses the run's base stock (enrolment ÷ supply) and base primary
    share: base 2,000 primary + 1,000 junior staffed by a planner's 100 + 100 teachers →
    ratios 20 and 10, share 2/3, whatever the standard says (preschool, absent at the base,
    keeps the standard's ratio)."""
    from reference import run_teachers

    region = load_region(DATA / "tiny_region.toml")
    plan = _tiny_plan(155)
    e = pd.DataFrame({S.AREA: "900001", S.YEAR: [2020, 2020, 2021, 2021],
                      S.LEVEL: ["primary", "junior"] * 2,
                      S.ENROLMENT: [2000.0, 1000.0, 2000.0, 1000.0]})
    obs = pd.DataFrame({S.AREA: "900001", S.YEAR: 2020,
                        S.INDICATOR: ["primary_teachers", "junior_teachers"],
                        S.VALUE: [100.0, 100.0]})
    std = data.load_standards()
    r = staffing_ratios(std).set_index(S.LEVEL)[S.RATIO]
    assert abs(r["primary"] - 20) > 0.5  # the standard differs from the stock's ratio
    out = run_teachers(e, {"method": "area_ratio"}, region, observations=obs, plan_obs=plan,
                       standards=std)
    a = dict((n, v) for n, v, *_ in out["assumptions"])["attrition"]
    # preschool still at the standard (no base preschool): N = 1200/r_pre + 30 + 30, etc.
    n15, n20 = 1200 / r["preschool"] + 600 / 20 + 300 / 10, 1200 / r["preschool"] + 60 + 60
    assert a == pytest.approx((155 - (n20 - n15)) / (5 * (n15 + n20) / 2))


def test_hiring_need_city_and_target():
    """Cumulative hires 2021–2025 per area; the city is their sum and is compared with 4,000."""
    region = load_region(DATA / "tiny_region.toml")
    t = pd.DataFrame({S.AREA: ["900001"] * 3 + ["900002"] * 3 + ["900000"] * 3,
                      S.YEAR: [2020, 2021, 2026] * 3, S.LEVEL: "primary",
                      S.HIRES_NEEDED: [5.0, 10.0, 7.0, 1.0, 2000.0, 3.0, 6.0, 2010.0, 10.0]})
    h = hiring_need(t, region, 2021, 2025, 4000).set_index(S.AREA)
    assert h.loc["900001", S.HIRES_NEEDED] == 10 and h.loc["900000", S.HIRES_NEEDED] == 2010
    assert h.loc["900000", S.PLAN_COVERS_NEED] and np.isnan(h.loc["900001", S.TARGET])
    assert not h.loc["900001", S.PLAN_COVERS_NEED]  # no target: nothing covered
    short = hiring_need(t, region, 2021, 2025, 2000).set_index(S.AREA)
    assert not short.loc["900000", S.PLAN_COVERS_NEED]  # need 2,010 > plan 2,000


def test_supply_city_is_sum_of_areas_by_draw(ratios):
    """With draws, city demand, supply and hires equal the sums of the areas in every draw."""
    region = load_region(DATA / "tiny_region.toml")
    idx = pd.MultiIndex.from_product([["900001", "900002"], [2020, 2021], ["primary", "junior"],
                                      [0, 1]], names=[S.AREA, S.YEAR, S.LEVEL, S.DRAW])
    e = pd.DataFrame({S.ENROLMENT: np.arange(16, dtype=float) * 100 + 50}, index=idx).reset_index()
    d = teacher_demand(e, ratios)
    s0 = pd.DataFrame({S.AREA: ["900001", "900001", "900002", "900002"],
                       S.LEVEL: ["primary", "junior"] * 2, S.SUPPLY: [3.0, 4.0, 50.0, 60.0],
                       S.QUALITY: "estimated"})
    t = teacher_supply(d, s0, 0.03, region)
    cols = [S.DEMAND, S.SUPPLY, S.HIRES_NEEDED, S.SURPLUS, S.ENROLMENT]
    assert check_coherence(t[[S.AREA, S.YEAR, S.LEVEL, S.DRAW, *cols]], region, cols).empty
    assert (t[S.AREA] == "900000").sum() == 2 * 2 * 2


def test_bad_attrition_message(ratios):
    """An attrition outside [0, 1) is rejected naming the config key."""
    dem = _enrol([1.0])
    dem[S.DEMAND], dem[S.RATIO], dem[S.METHOD] = 1.0, 1.0, "standard"
    s0 = pd.DataFrame({S.AREA: ["900001"], S.LEVEL: ["primary"], S.SUPPLY: [1.0]})
    with pytest.raises(ValueError, match=r"\[teachers\] attrition"):
        teacher_supply(dem, s0, 1.5)


def test_fixed_hiring_plan_shared_by_demand_and_shortage_reported():
    """A fixed plan of 30 a year is shared 1:2 by demand; a negative surplus shows the shortage."""
    idx = pd.MultiIndex.from_product([["900001", "900002"], [2020, 2021], ["primary"]],
                                     names=[S.AREA, S.YEAR, S.LEVEL])
    dem = pd.DataFrame({S.DEMAND: [100.0, 100.0, 200.0, 200.0]}, index=idx).reset_index()
    dem[S.ENROLMENT], dem[S.RATIO], dem[S.METHOD] = 1.0, 1.0, "standard"
    s0 = pd.DataFrame({S.AREA: ["900001", "900002"], S.LEVEL: "primary",
                       S.SUPPLY: [100.0, 200.0]})
    t = teacher_supply(dem, s0, 0.5, hires_per_year=30.0).set_index([S.AREA, S.YEAR])
    assert t.loc[("900001", 2021), S.HIRES] == pytest.approx(10.0)
    assert t.loc[("900002", 2021), S.HIRES] == pytest.approx(20.0)
    assert t.loc[("900001", 2021), S.HIRES_NEEDED] == pytest.approx(50.0)
    assert t.loc[("900001", 2021), S.SURPLUS] == pytest.approx(50 + 10 - 100)


def test_run_teachers_config_keys_choose_method():
    """A class cap in [teachers] selects the class-size method; 'current' selects own ratios."""
    from reference import run_teachers

    region = load_region(DATA / "tiny_region.toml")
    plan = plan_io.load_plan_indicators()
    e = pd.DataFrame({S.AREA: ["900001", "900002"] * 2, S.YEAR: [2020, 2020, 2021, 2021],
                      S.LEVEL: "primary", S.ENROLMENT: [450.0, 900.0, 460.0, 900.0]})
    out = run_teachers(e, {"class_size_cap_primary": 45, "teachers_per_class": {"primary": 2}},
                       region, plan_obs=plan)
    t = out["teachers"].set_index([S.AREA, S.YEAR])
    assert (out["teachers"][S.METHOD] == "class_size").all()
    assert t.loc[("900001", 2021), S.DEMAND] == 2 * 11  # ⌈460/45⌉ = 11 classes
    cur = run_teachers(e, {"standard": "current", "attrition": 0.0}, region, plan_obs=plan)
    assert (cur["teachers"][S.METHOD] == "area_ratio").all()
    with pytest.raises(ValueError, match="standard must be one of"):
        run_teachers(e, {"standard": "1999"}, region, plan_obs=plan)


# --- ratio_path "model": pupil-teacher ratios from a models/ forecast -----------------------

def _ptr_obs(ratios_by_year: dict[int, float], area: str = "510000") -> pd.DataFrame:
    """Synthetic observations (labelled: hand-made) whose primary pupils per teacher are the
    given values: teachers 1000, enrolment 1000 × ratio."""
    rows = []
    for y, r in ratios_by_year.items():
        rows += [(area, y, "primary_enrolment", 1000.0 * r), (area, y, "primary_teachers", 1000.0)]
    return pd.DataFrame(rows, columns=[S.AREA, S.YEAR, S.INDICATOR, S.VALUE])


def test_model_ratio_multipliers_hand_computed():
    """Ratio 20, 19.5, …, 15.5 (2010–2019, synthetic): drift continues −0.5 a year, so from
    t0 = 2019 the multipliers are 1, 15/15.5, 14.5/15.5; naive gives 1, 1, 1; a level without
    data keeps its base ratio and says so."""
    from njforecast.education.teachers import model_ratio_multipliers

    obs = _ptr_obs({2010 + i: 20.0 - 0.5 * i for i in range(10)})
    m, notes = model_ratio_multipliers(obs, [2019, 2020, 2021], ["primary", "junior"], "510000",
                                       model="drift")
    assert m[S.LEVEL].unique().tolist() == ["primary"]
    assert m[S.MULTIPLIER].tolist() == pytest.approx([1.0, 15.0 / 15.5, 14.5 / 15.5])
    assert "derived: primary_enrolment/primary_teachers" in notes[0]
    assert "junior: no junior_enrolment/junior_teachers" in notes[1]
    n, _ = model_ratio_multipliers(obs, [2019, 2020, 2021], ["primary"], "510000",
                                   model="naive")
    assert n[S.MULTIPLIER].tolist() == pytest.approx([1.0, 1.0, 1.0])


def test_demand_area_ratio_with_multiplier_by_draw(ratios):
    """Base ratio 20 × multiplier 0.5 in 2021 for draw 1 only: 190 pupils need 19 teachers in
    draw 1 and 9.5 in draw 0 (ratio 20, no multiplier row → kept)."""
    e = _enrol([190.0, 190.0], years=(2020, 2021)).merge(pd.DataFrame({S.DRAW: [0, 1]}),
                                                         how="cross")
    ar = pd.DataFrame({S.AREA: ["900001"], S.LEVEL: ["primary"], S.RATIO: [20.0]})
    mult = pd.DataFrame({S.YEAR: [2020, 2021], S.LEVEL: "primary", S.DRAW: [1, 1],
                         S.MULTIPLIER: [1.0, 0.5]})
    d = teacher_demand(e, ratios, "area_ratio", area_ratio=ar, base_year=2020,
                       ratio_multiplier=mult)
    d = d.set_index([S.YEAR, S.DRAW])
    assert d.loc[(2021, 1), S.DEMAND] == pytest.approx(19.0)
    assert d.loc[(2021, 0), S.DEMAND] == pytest.approx(9.5)


def test_run_teachers_ratio_path_model_needs_own_ratios_and_is_recorded():
    """ratio_path 'model' with the standard method is refused with the fix; with area_ratio
    the Sichuan primary ratio series (bundled, 2000–2019) moves the ratios and the assumptions
    say how."""
    from reference import run_teachers

    region = load_region(DATA / "tiny_region.toml")
    plan = plan_io.load_plan_indicators()
    e = pd.DataFrame({S.AREA: ["900001", "900002"] * 2, S.YEAR: [2020, 2020, 2021, 2021],
                      S.LEVEL: "primary", S.ENROLMENT: [450.0, 900.0, 460.0, 900.0]})
    with pytest.raises(ValueError, match="needs method = 'area_ratio'"):
        run_teachers(e, {"ratio_path": "model"}, region, plan_obs=plan)
    with pytest.raises(ValueError, match="ratio_path must be"):
        run_teachers(e, {"method": "area_ratio", "ratio_path": "trnd"}, region, plan_obs=plan)
    out = run_teachers(e, {"method": "area_ratio", "ratio_path": "model", "ratio_model": "theta",
                           "ratio_series_area": "510000", "attrition": 0.0}, region,
                       plan_obs=plan)
    t = out["teachers"].set_index([S.AREA, S.YEAR])[S.RATIO]
    assert t[("900001", 2021)] != pytest.approx(t[("900001", 2020)])
    notes = {a[0]: a[3] for a in out["assumptions"]}
    assert "theta on 2000–2019 (20 years)" in notes["ratio_model_primary"]
