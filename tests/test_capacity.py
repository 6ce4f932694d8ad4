"""Tests for njforecast.education.capacity: base places, phasing of planned places, utilisation,
allocation of units without population, years over capacity."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from njforecast.io import plan as plan_io
from njforecast import schema as S
from njforecast.areas import check_coherence, load_region
from reference import run_capacity  # the capacity step as the frame pipeline ran it
from njforecast.education.capacity import (
    base_capacity,
    capacity_years,
    compare_capacity,
    seat_path,
    summarise_capacity,
)

DATA = Path(__file__).parent / "data"
#: The plan period of the synthetic seats (new places phased in over these school years).
PERIOD = (2021, 2025)


@pytest.fixture(scope="module")
def region():
    """The synthetic tiny region (tests/data/tiny_region.toml)."""
    return load_region(DATA / "tiny_region.toml")


def _enrol(years=(2020, 2021, 2022), scale=1.0):
    rows = []
    for y in years:
        for area, n in (("900001", 100.0), ("900002", 200.0)):
            grow = 1 + 0.1 * (y - 2020)
            rows += [{S.AREA: area, S.YEAR: y, S.LEVEL: "primary", S.ENROLMENT: n * grow * scale},
                     {S.AREA: area, S.YEAR: y, S.LEVEL: "junior", S.ENROLMENT: n / 2 * scale}]
    return pd.DataFrame(rows)


SEATS = pd.DataFrame({S.AREA: ["900001", "900002", "900000-CR"], S.LEVEL: "compulsory",
                      S.SEATS: [30.0, 0.0, 100.0]})


def test_base_capacity_sums_compulsory_and_utilisation():
    """Base places = (primary + junior) / utilisation: (100 + 50) / 0.8 = 187.5."""
    e = _enrol((2020,))
    b = base_capacity(e, utilisation=80.0).set_index(S.AREA)
    assert b.loc["900001", S.SEATS] == pytest.approx(187.5)
    assert set(b[S.LEVEL]) == {"compulsory"} and (b[S.QUALITY] == "estimated").all()


def test_seat_path_linear_and_end(region):
    """Linear phasing adds a fifth of the new places a year from 2021; 'end' adds all in 2025."""
    base = pd.DataFrame({S.AREA: ["900001"], S.LEVEL: ["compulsory"], S.SEATS: [150.0]})
    lin = seat_path(base, SEATS[:1], region, range(2020, 2027), PERIOD).set_index(S.YEAR)[S.SEATS]
    assert lin[2020] == 150 and lin[2021] == pytest.approx(156) and lin[2025] == 180
    assert lin[2026] == 180
    end = seat_path(base, SEATS[:1], region, range(2020, 2027), PERIOD, "end").set_index(S.YEAR)[S.SEATS]
    assert end[2024] == 150 and end[2025] == 180


def test_compare_capacity_hand_computed_city_rule(region):
    """Utilisation = enrolment / seats × 100; city places include the city-run schools' places."""
    e = _enrol()
    cap = compare_capacity(e, SEATS, base_capacity(e[e[S.YEAR] == 2020]), region, PERIOD)
    v = cap.set_index([S.AREA, S.YEAR])
    # area A 2021: enrolment 110 + 50 = 160, seats 150 + 30/5 = 156
    assert v.loc[("900001", 2021), S.UTILISATION] == pytest.approx(160 / 156 * 100)
    assert v.loc[("900001", 2021), S.STATUS] == "over"
    assert v.loc[("900001", 2020), S.STATUS] == "at"
    # city 2022: seats 150 + 300 + (30 + 100) × 2/5, enrolment 170 + 340
    assert v.loc[("900000", 2022), S.SEATS] == pytest.approx(450 + 130 * 0.4)
    assert v.loc[("900000", 2022), S.ENROLMENT] == pytest.approx(510)
    assert "900000-CR" not in set(cap[S.AREA])


def test_compare_capacity_own_rule_keeps_unit(region):
    """'own' keeps the city-run schools as a row without utilisation; city totals unchanged."""
    e = _enrol()
    b = base_capacity(e[e[S.YEAR] == 2020])
    own = compare_capacity(e, SEATS, b, region, PERIOD, allocation={"city_run_schools": "own"})
    city = compare_capacity(e, SEATS, b, region, PERIOD)
    cr = own[own[S.AREA] == "900000-CR"]
    assert len(cr) == 3 and cr[S.UTILISATION].isna().all() and (cr[S.STATUS] == "n/a").all()
    a = own[own[S.AREA] == "900000"].set_index(S.YEAR)[S.SEATS]
    c = city[city[S.AREA] == "900000"].set_index(S.YEAR)[S.SEATS]
    assert np.allclose(a, c)
    assert check_coherence(own[[S.AREA, S.YEAR, S.LEVEL, S.SEATS, S.ENROLMENT]], region,
                           [S.SEATS, S.ENROLMENT]).empty


def test_bad_allocation_rule(region):
    """An allocation rule other than city/own is rejected, naming the kind."""
    e = _enrol()
    with pytest.raises(ValueError, match="city_run_schools"):
        compare_capacity(e, SEATS, base_capacity(e[e[S.YEAR] == 2020]), region, PERIOD,
                         allocation={"city_run_schools": "spread"})


@settings(max_examples=40, deadline=None)
@given(st.floats(0.01, 10.0), st.floats(0.0, 10.0))
def test_utilisation_rises_with_enrolment(scale, extra):
    """More pupils in the same places never lowers utilisation (any area, year, draw)."""
    region = load_region(DATA / "tiny_region.toml")
    e1 = _enrol(scale=scale)
    e2 = _enrol(scale=scale + extra)
    b = base_capacity(_enrol((2020,)))
    u1 = compare_capacity(e1, SEATS, b, region, PERIOD)[S.UTILISATION].to_numpy()
    u2 = compare_capacity(e2, SEATS, b, region, PERIOD)[S.UTILISATION].to_numpy()
    assert (u2 >= u1 - 1e-9).all()


def test_capacity_years_with_draws(region):
    """Years over capacity use the mean over draws; p_over_max is the share of draws over."""
    e = _enrol()
    e = pd.concat([e.assign(**{S.DRAW: 0}), e.assign(**{S.DRAW: 1, S.ENROLMENT: e[S.ENROLMENT] * 0.5})])
    cap = compare_capacity(e, SEATS, base_capacity(_enrol((2020,))), region, PERIOD)
    yrs = capacity_years(cap).set_index(S.AREA)
    # area A: mean utilisation over draws is 75 % of draw 0 → under in 2021 and 2022
    assert yrs.loc["900001", "n_years_over"] == 0
    assert yrs.loc["900001", "p_over_max"] == 0.5
    single = capacity_years(compare_capacity(_enrol(), SEATS, base_capacity(_enrol((2020,))),
                                             region, PERIOD)).set_index(S.AREA)
    assert single.loc["900001", "years_over"] == "2021,2022"
    assert single.loc["900001", "first_year_over"] == 2021


def test_neijiang_planned_places_reach_city_total():
    """On the plan's box 6, the city's places in 2025 are base + 78,860 (all units)."""
    region = load_region("neijiang")
    counties = [a.code for a in region.counties]
    e = pd.DataFrame([{S.AREA: a, S.YEAR: y, S.LEVEL: lv, S.ENROLMENT: 1000.0}
                      for a in counties for y in (2020, 2025) for lv in S.SCHOOL_LEVELS])
    out = run_capacity(e, {}, region)
    cap = out["capacity"]
    city = cap[(cap[S.AREA] == "511000") & (cap[S.YEAR] == 2025)][S.SEATS].sum()
    assert city == pytest.approx(len(counties) * 5000 + 78_860)
    assert set(cap[S.AREA]) == {*counties, "511000"}
    assert plan_io.load_seats()[S.SEATS].sum() == 78_860


def test_summarised_status_comes_from_mean_utilisation_not_draw_0():
    """Draw 0 under, draws 1–2 over: the summary says "over" (mean 103 %) with p_over 2/3."""
    cap = pd.DataFrame({S.AREA: "A", S.YEAR: 2023, S.LEVEL: "senior_general", S.DRAW: [0, 1, 2],
                        S.SEATS: [100.0, 100.0, 100.0], S.ENROLMENT: [95.0, 104.0, 110.0],
                        S.QUALITY: "estimated"})
    cap[S.UTILISATION] = cap[S.ENROLMENT] / cap[S.SEATS] * 100
    cap[S.STATUS] = ["under", "over", "over"]
    row = summarise_capacity(cap).iloc[0]
    assert row[S.UTILISATION] == pytest.approx(103.0)
    assert row[S.STATUS] == "over"
    assert row[S.P_OVER] == pytest.approx(2 / 3)
    # and the other way round: draw 0 over, mean under
    cap[S.ENROLMENT] = [101.0, 90.0, 95.0]
    cap[S.UTILISATION] = cap[S.ENROLMENT]
    row = summarise_capacity(cap).iloc[0]
    assert row[S.STATUS] == "under" and row[S.P_OVER] == pytest.approx(1 / 3)
