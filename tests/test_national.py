"""Tests for njforecast.engine.national: enrolment and teachers under default national assumptions.

Hand-computed cases use small synthetic frames (labelled); the projection cases use real
county rows of the bundled 2020 Sichuan census table with few draws and a short horizon.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from njforecast import demography as D
from njforecast.engine import national as N
from njforecast import schema as S
from conftest import sichuan_census_head
from njforecast.io.store import load_census, load_standards

BANDS = list(D.SCHOOL_BANDS)


def _synthetic_assumptions():
    """SYNTHETIC national assumptions: GER 50 / 100 / 100 / 80 %, senior split 3:1, ratios
    10, 20, 15, 12.5, 12.5 pupils per teacher."""
    return pd.DataFrame({
        S.LEVEL: list(S.SCHOOL_LEVELS),
        S.BAND: ["3-5", "6-11", "12-14", "15-17", "15-17"],
        S.RATE: [50.0, 100.0, 100.0, 80.0, 80.0],
        "share": [1.0, 1.0, 1.0, 0.75, 0.25],
        S.RATIO: [10.0, 20.0, 15.0, 12.5, 12.5]})


def test_enrolment_and_teachers_hand_computed_two_counties():
    """2 counties, known band populations and GERs → enrolment and teachers as computed by hand."""
    # SYNTHETIC band populations (area, band, draw): county A 300/600/300/400, county B 2×.
    bands = np.array([[300.0, 600.0, 300.0, 400.0], [600.0, 1200.0, 600.0, 800.0]])[..., None]
    enrol, teach = N.enrolment_arrays(bands, BANDS, _synthetic_assumptions(), ["A", "B"], 2030)
    # A: preschool 300×0.5 = 150; primary 600; junior 300; senior general 400×0.8×0.75 = 240;
    #    vocational 400×0.8×0.25 = 80.  Teachers: 15, 30, 20, 19.2, 6.4.
    np.testing.assert_allclose(enrol[0, :, 0], [150, 600, 300, 240, 80])
    np.testing.assert_allclose(teach[0, :, 0], [15, 30, 20, 19.2, 6.4])
    np.testing.assert_allclose(enrol[1, :, 0], [300, 1200, 600, 480, 160])
    np.testing.assert_allclose(teach[1, :, 0], [30, 60, 40, 38.4, 12.8])


def test_enrolment_is_computed_per_draw():
    """Each draw's enrolment uses that draw's band population (draw axis kept apart)."""
    bands = np.zeros((1, 4, 3))
    bands[0, 1] = [100.0, 200.0, 400.0]                   # SYNTHETIC primary band, 3 draws
    enrol, teach = N.enrolment_arrays(bands, BANDS, _synthetic_assumptions(), ["A"], 2030)
    np.testing.assert_allclose(enrol[0, 1], [100, 200, 400])
    np.testing.assert_allclose(teach[0, 1], [5, 10, 20])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0, 1e6), min_size=4, max_size=4),
       st.lists(st.floats(0, 1e5), min_size=4, max_size=4))
def test_more_pupils_never_fewer_teachers(pop, extra):
    """Adding population to any band never lowers enrolment or teachers of any level."""
    a = np.array(pop)[None, :, None]
    b = a + np.array(extra)[None, :, None]
    ea, ta = N.enrolment_arrays(a, BANDS, _synthetic_assumptions(), ["A"], 2030)
    eb, tb = N.enrolment_arrays(b, BANDS, _synthetic_assumptions(), ["A"], 2030)
    assert (eb >= ea - 1e-9).all() and (tb >= ta - 1e-9).all() and (ea >= 0).all()


# ------------------------------------------------------------------------------------------
# the default national assumptions


def _obs(rows):
    """SYNTHETIC national observations (area 100000) in the observations format."""
    df = pd.DataFrame(rows, columns=[S.YEAR, S.INDICATOR, S.VALUE])
    df[S.AREA] = N.NATIONAL_AREA
    df[S.PREFERRED] = True
    return df


COUNTS_2010 = [(2010, "kindergarten_children", 30.0), (2010, "primary_enrolment", 120.0),
               (2010, "junior_enrolment", 66.0), (2010, "senior_general_enrolment", 60.0),
               (2010, "vocational_secondary_enrolment", 20.0)]
BAND_POP = {"3-5": 60.0, "6-11": 100.0, "12-14": 60.0, "15-17": 100.0}   # SYNTHETIC


def test_assumptions_use_recent_observed_ger_and_derive_the_rest():
    """Observed GER within the lag is used; a stale or missing one is derived (enrolment / band)."""
    obs = _obs([*COUNTS_2010, (2009, "preschool_ger_pct", 55.0),
                (1999, "junior_ger_pct", 88.6),            # stale: older than 2 years
                (2011, "senior_stage_ger_pct", 90.0)])     # after the base year: not used
    ass = N.national_assumptions(2010, obs, band_population=BAND_POP).set_index(S.LEVEL)
    assert ass.loc["preschool", S.RATE] == 55.0
    assert ass.loc["preschool", "rate_quality"] == "observed"
    assert ass.loc["primary", S.RATE] == pytest.approx(120.0)          # 120 / 100
    assert ass.loc["junior", S.RATE] == pytest.approx(110.0)           # 66 / 60, not 88.6
    assert ass.loc["junior", "rate_quality"] == "derived"
    assert ass.loc["senior_general", S.RATE] == pytest.approx(80.0)    # (60 + 20) / 100
    assert ass.loc["senior_general", "share"] == pytest.approx(0.75)   # 60 / 80
    assert ass.loc["secondary_vocational", "share"] == pytest.approx(0.25)
    assert (ass[S.QUALITY] == S.ESTIMATED).all()


def test_assumption_ratios_are_the_2014_standard_over_teaching_share():
    """Pupils per teacher = students per staff / (1 − non-teaching cap), e.g. 19 / 0.91."""
    ass = N.national_assumptions(2010, _obs(COUNTS_2010), load_standards(),
                                 band_population=BAND_POP).set_index(S.LEVEL)
    assert ass.loc["primary", S.RATIO] == pytest.approx(19 / 0.91)
    assert ass.loc["junior", S.RATIO] == pytest.approx(13.5 / 0.88)
    assert ass.loc["senior_general", S.RATIO] == pytest.approx(12.5 / 0.85)


def test_missing_national_count_is_a_clear_error():
    """Deriving a GER without the base year's national count names the indicator and year."""
    with pytest.raises(ValueError, match="primary_enrolment.*2010"):
        N.national_assumptions(2010, _obs([(2010, "kindergarten_children", 1.0)]),
                               band_population=BAND_POP)


def test_bundled_2010_assumptions():
    """Bundled data for 2010: preschool GER observed 56.6 %, primary derived from the census."""
    ass = N.national_assumptions(2010).set_index(S.LEVEL)
    assert ass.loc["preschool", S.RATE] == 56.6
    assert ass.loc["primary", "rate_quality"] == "derived"
    nat = D.graduate_single_ages(D.national_census(2010))
    band = nat.loc[nat[S.AGE].between(6, 11), S.POPULATION].sum()
    assert ass.loc["primary", S.RATE] == pytest.approx(100 * 99_407_000 / band, rel=1e-3)


# ------------------------------------------------------------------------------------------
# the projection with enrolment, serial / local / Dask


@pytest.fixture(scope="module")
def census6(tmp_path_factory):
    """The 2020 Sichuan county table cut to its first 6 county-level rows (real, unchanged)."""
    return sichuan_census_head(tmp_path_factory.mktemp("census"), 6)


@pytest.fixture(scope="module")
def serial_run(census6):
    """Serial run: 6 counties, 2021-2023, 6 draws."""
    return N.project_census_file_enrolment(census6, 2023, 6, 3, executor="serial")


def test_population_part_equals_the_plain_projection(census6, serial_run):
    """With enrolment on, the population output is identical to `demography.project_census`."""
    pop, _, _ = serial_run
    cen = load_census(census6)
    ref = D.project_census(cen[~cen[S.AREA].str.endswith("00")], 2023, 6, 3)
    pd.testing.assert_frame_equal(pop, ref)


def test_enrolment_summary_consistent_with_population_and_ratios(serial_run):
    """Mean enrolment = mean band pop. × GER × share; mean teachers = mean enrolment / ratio."""
    pop, enr, ass = serial_run
    assert set(enr.columns) == set(N.ENROLMENT_COLUMNS) and (enr[S.QUALITY] == "estimated").all()
    a = ass.set_index(S.LEVEL)
    e = enr[enr[S.QUANTITY] == S.ENROLMENT].set_index([S.AREA, S.YEAR, S.LEVEL])[S.MEAN]
    t = enr[enr[S.QUANTITY] == "teachers"].set_index([S.AREA, S.YEAR, S.LEVEL])[S.MEAN]
    p = pop.set_index([S.AREA, S.YEAR, S.AGE_GROUP])[S.MEAN]
    for (area, year, level), val in e.items():
        band = a.loc[level, S.BAND]
        want = p[(area, year, band)] * a.loc[level, S.RATE] / 100 * a.loc[level, "share"]
        assert val == pytest.approx(want, rel=1e-12)
        assert t[(area, year, level)] == pytest.approx(val / a.loc[level, S.RATIO], rel=1e-12)
    assert ((enr[S.LO95] <= enr[S.LO80]) & (enr[S.LO80] <= enr[S.HI80])
            & (enr[S.HI80] <= enr[S.HI95])).all()
    assert len(enr) == 6 * 3 * 5 * 2


def test_dask_and_local_equal_serial(census6, serial_run):
    """The enrolment output of a Dask LocalCluster and a local pool equals the serial one."""
    for ex in ("local", "dask"):
        pop, enr, _ = N.project_census_file_enrolment(census6, 2023, 6, 3, executor=ex,
                                                      workers=2)
        pd.testing.assert_frame_equal(enr, serial_run[1])
        pd.testing.assert_frame_equal(pop, serial_run[0])


def test_cli_with_enrolment_writes_flagged_files(census6, tmp_path):
    """`demography project --with-enrolment` writes population, enrolment and assumptions files."""
    from typer.testing import CliRunner

    from njforecast.cli import app

    out = tmp_path / "nat.csv"
    res = CliRunner().invoke(app, ["demography", "project", "--base", str(census6), "--to",
                                   "2022", "--draws", "4", "--with-enrolment", "--executor",
                                   "serial", "--output", str(out)])
    assert res.exit_code == 0, res.output
    enr = pd.read_csv(tmp_path / "nat_enrolment.csv", dtype={S.AREA: str})
    ass = pd.read_csv(tmp_path / "nat_enrolment_assumptions.csv")
    assert list(enr.columns) == list(N.ENROLMENT_COLUMNS)
    assert set(enr[S.QUALITY]) == {"estimated"} and set(ass[S.QUALITY]) == {"estimated"}
    assert set(enr[S.QUANTITY]) == {"enrolment", "teachers"}
    assert "assumption (estimated) primary" in res.output and out.exists()


def test_cli_with_enrolment_needs_draws(census6, tmp_path):
    """--with-enrolment with --draws 0 exits 2 with a one-line error and writes nothing."""
    from typer.testing import CliRunner

    from njforecast.cli import app

    res = CliRunner().invoke(app, ["demography", "project", "--base", str(census6), "--to",
                                   "2022", "--draws", "0", "--with-enrolment", "--output",
                                   str(tmp_path / "x.csv")])
    assert res.exit_code == 2 and "needs --draws >= 1" in res.output
    assert "Traceback" not in res.output and not (tmp_path / "x.csv").exists()
