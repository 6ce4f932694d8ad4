"""Tests for njforecast.demography: graduation, projection identities, draws, summaries
(the census back-test is tested in test_census_backtest.py).

Synthetic populations here are labelled test inputs, not data.
"""


from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from njforecast import demography as dm
from njforecast import schema as S

N = dm.N_AGES


def _census_frame(counts: dict[str, np.ndarray], year: int = 2020) -> pd.DataFrame:
    """Synthetic census long frame: area → (2, 19) group counts (test input)."""
    rows = []
    for area, arr in counts.items():
        for si, sex in enumerate(S.SEXES):
            for gi, (label, lo, hi) in enumerate(S.AGE_GROUPS):
                rows.append((year, area, sex, label, lo, hi, float(arr[si, gi])))
    return pd.DataFrame(rows, columns=[S.CENSUS_YEAR, S.AREA, S.SEX, S.AGE_GROUP, S.AGE_START,
                                       S.AGE_END, S.POPULATION])


def _inputs(areas, survival=1.0, migration=0.0, fert=0.0, index=1.0, years=30,
            last_observed=None, census_year=2020):
    """Hand-set DemographicInputs (test input): constant rates."""
    A = len(areas)
    return dm.DemographicInputs(
        census_year=census_year, areas=tuple(areas),
        survival=np.full((2, N), survival, dtype=float),
        migration=np.broadcast_to(np.asarray(migration, dtype=float), (A, 2, N)).copy(),
        migration_basis=("test",) * A,
        fertility_ratio=np.broadcast_to(np.asarray(fert, dtype=float), (A,)).copy(),
        fertility_weights=((dm.AGES >= 15) & (dm.AGES <= 49)).astype(float),
        male_share=0.5,
        fertility_index={census_year + i: np.full(A, index, dtype=float)
                         for i in range(1, years + 1)},
        last_observed=census_year if last_observed is None else last_observed,
        fertility_sd=0.05)


def _base(areas, rng_seed=0, year=2020):
    rng = np.random.default_rng(rng_seed)
    rows = []
    for a in areas:
        arr = rng.uniform(0, 1000, size=(2, N))
        for si, sex in enumerate(S.SEXES):
            rows.append(pd.DataFrame({S.CENSUS_YEAR: year, S.AREA: a, S.SEX: sex,
                                      S.AGE: dm.AGES, S.POPULATION: arr[si]}))
    return pd.concat(rows, ignore_index=True)


group_counts = st.lists(st.floats(0, 1e6, allow_nan=False), min_size=19, max_size=19)


@settings(max_examples=60, deadline=None)
@given(male=group_counts, female=group_counts)
def test_graduated_single_ages_sum_to_each_group(male, female):
    """Single ages of every census group add up to the group's count and are never negative."""
    df = _census_frame({"1": np.array([male, female])})
    out = dm.graduate_single_ages(df)
    assert (out[S.POPULATION] >= 0).all()
    for si, sex in enumerate(S.SEXES):
        s = out[out[S.SEX] == sex].set_index(S.AGE)[S.POPULATION]
        for gi, (_, lo, hi) in enumerate(S.AGE_GROUPS):
            want = (male, female)[si][gi]
            assert s.loc[lo:hi].sum() == pytest.approx(want, rel=1e-9, abs=1e-6)


def test_graduation_of_uniform_population_is_flat():
    """Groups proportional to their width (7 persons per year of age) graduate to 7 at every age."""
    widths = np.array([hi - lo + 1 for _, lo, hi in S.AGE_GROUPS], dtype=float)
    out = dm.graduate_single_ages(_census_frame({"1": np.array([7 * widths, 7 * widths])}))
    np.testing.assert_allclose(out[S.POPULATION], 7.0, rtol=1e-12)


def test_graduation_rejects_missing_groups():
    """A census frame missing an age group is rejected with a message naming the groups."""
    df = _census_frame({"1": np.ones((2, 19))})
    with pytest.raises(ValueError, match="lacks age groups"):
        dm.graduate_single_ages(df[df[S.AGE_GROUP] != "85+"])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), steps=st.integers(1, 12))
def test_closed_population_without_deaths_keeps_cohorts(seed, steps):
    """No births, deaths or migration: every cohort keeps its size as it ages, year by year."""
    rng = np.random.default_rng(seed)
    pop0 = rng.uniform(0, 500, size=(2, 2, N))
    inputs = _inputs(["a", "b"])
    a = dm.DemographicAssumptions(migration_sd=0.3)
    for year, arr in dm.project_arrays(pop0, inputs, steps, a, draws=3, seed=seed):
        k = year - 2020
        np.testing.assert_allclose(arr[:, :, k:N - 1], pop0[:, :, :N - 1 - k, None]
                                   .repeat(3, -1), rtol=1e-12)
        np.testing.assert_array_equal(arr[:, :, :k], 0.0)
        # the open age collects everyone who reached it
        np.testing.assert_allclose(arr[:, :, N - 1], pop0[:, :, N - 1 - k:].sum(-1)[..., None]
                                   .repeat(3, -1), rtol=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1),
       mig=st.floats(-0.5, 0.5), surv=st.floats(0.0, 1.0), fert=st.floats(0, 0.2))
def test_cohorts_never_negative(seed, mig, surv, fert):
    """Whatever the survival, migration and fertility, no projected cohort is negative."""
    rng = np.random.default_rng(seed)
    pop0 = rng.uniform(0, 500, size=(3, 2, N))
    inputs = _inputs(["a", "b", "c"], survival=surv, migration=mig, fert=fert)
    a = dm.DemographicAssumptions(migration_sd=1.0)
    for _, arr in dm.project_arrays(pop0, inputs, 10, a, draws=5, seed=seed):
        assert np.isfinite(arr).all() and (arr >= 0).all()


def test_one_step_by_hand():
    """One step with survival 0.9, migration e^0.1 and fertility ratio 0.05 matches a hand sum."""
    pop0 = np.zeros((1, 2, N))
    pop0[0, 1, 20] = 1000.0       # 1,000 women aged 20
    pop0[0, 0, 5] = 200.0         # 200 boys aged 5
    inputs = _inputs(["x"], survival=0.9, migration=0.1, fert=0.05, index=2.0)
    a = dm.DemographicAssumptions()
    (year, arr), = list(dm.project_arrays(pop0, inputs, 1, a))
    f = 0.9 * np.exp(0.1)
    assert year == 2021
    assert arr[0, 1, 21] == pytest.approx(1000 * f)
    assert arr[0, 0, 6] == pytest.approx(200 * f)
    # births = k · index · women(15-49 at the end, 1000·f aged 21) = 0.05 · 2 · 1000 · f,
    # split half/half
    assert arr[0, 0, 0] == pytest.approx(50.0 * f) and arr[0, 1, 0] == pytest.approx(50.0 * f)
    assert arr.sum() == pytest.approx(1300 * f)


def test_school_year_is_interpolated_between_census_moments():
    """Population at 1 September t = 10/12 of 1 Nov t plus 2/12 of 1 Nov t−1, at each age."""
    base = _base(["a"])
    inputs = _inputs(["a"], survival=0.5)
    a = dm.DemographicAssumptions()
    out = dm.project_population(base, a, 2021, 2021, inputs=inputs)
    _, pop0 = dm.to_array(base)
    (_, nov), = list(dm.project_arrays(pop0, inputs, 1, a))
    want = 10 / 12 * nov + 2 / 12 * pop0
    got = out[out[S.SEX] == "female"].sort_values(S.AGE)[S.POPULATION].to_numpy()
    np.testing.assert_allclose(got, want[0, 1])


def test_women_aged_14_at_the_start_count_as_exposure_at_the_end():
    """Births use the women at the end of the step: 1,000 girls aged 14 → births 0.05·1000·0.8."""
    pop0 = np.zeros((1, 2, N))
    pop0[0, 1, 14] = 1000.0       # aged 15 at the end of the step
    pop0[0, 1, 49] = 500.0        # aged 50 at the end: no longer counted
    inputs = _inputs(["x"], survival=0.8, fert=0.05)
    (_, arr), = list(dm.project_arrays(pop0, inputs, 1, dm.DemographicAssumptions()))
    assert arr[0, :, 0].sum() == pytest.approx(0.05 * 1000 * 0.8)


def test_back_step_inverts_a_forward_step():
    """Reverse survival at g = 0.5·e^0.1 doubles cohorts back one age, and one step forward
    from it gives the census again at ages 1..99."""
    base = _base(["a"], rng_seed=3)
    _, pop0 = dm.to_array(base)
    inputs = _inputs(["a"], survival=0.5, migration=0.1, fert=0.0)
    a = dm.DemographicAssumptions()
    back = dm.back_step(pop0, inputs, a)
    g = 0.5 * np.exp(0.1)
    np.testing.assert_allclose(back[0, :, 0:99], pop0[0, :, 1:100] / g)
    np.testing.assert_allclose(back[0, :, 99:], pop0[0, :, 99:])   # oldest two kept
    (_, fwd), = list(dm.project_arrays(back, inputs, 1, a))
    np.testing.assert_allclose(fwd[0, :, 1:100], pop0[0, :, 1:100])


def test_census_year_is_dated_1_september_too():
    """Year 2020 = 10/12 of the census plus 2/12 of the back step (not the 1 Nov count),
    the same in every draw."""
    base = _base(["a"], rng_seed=4)
    _, pop0 = dm.to_array(base)
    inputs = _inputs(["a"], survival=0.5, fert=0.05)
    a = dm.DemographicAssumptions()
    out = dm.project_population(base, a, 2020, 2020, inputs=inputs)
    got = out[out[S.SEX] == "male"].sort_values(S.AGE)[S.POPULATION].to_numpy()
    want = pop0[0, 0].copy()
    want[:99] = 10 / 12 * pop0[0, 0, :99] + 2 / 12 * 2 * pop0[0, 0, 1:100]   # back = P(a+1)/0.5
    np.testing.assert_allclose(got, want)
    d = dm.project_population(base, a, 2020, 2020, draws=3, seed=1, inputs=inputs)
    spread = d.groupby([S.SEX, S.AGE])[S.POPULATION].agg(lambda v: v.max() - v.min())
    assert (spread == 0).all()


def test_same_seed_same_numbers_other_seed_differs():
    """Draws are identical for the same seed and differ for another seed."""
    base = _base(["a", "b"])
    inputs = _inputs(["a", "b"], migration=-0.02, fert=0.05, last_observed=2020)
    a = dm.DemographicAssumptions(migration_sd=0.4)
    r1 = dm.project_population(base, a, 2021, 2025, draws=7, seed=5, inputs=inputs)
    r2 = dm.project_population(base, a, 2021, 2025, draws=7, seed=5, inputs=inputs)
    r3 = dm.project_population(base, a, 2021, 2025, draws=7, seed=6, inputs=inputs)
    pd.testing.assert_frame_equal(r1, r2)
    assert not np.allclose(r1[S.POPULATION], r3[S.POPULATION])
    assert sorted(r1[S.DRAW].unique()) == list(range(7))


def test_chunking_and_order_do_not_change_draws():
    """Projecting areas alone, in another order or in chunks gives the same numbers per area."""
    areas = ["510101", "510102", "510103"]
    base = _base(areas)
    inputs = _inputs(areas, migration=-0.03, fert=0.04, last_observed=2020)
    a = dm.DemographicAssumptions(migration_sd=0.5)
    full = dm.project_population(base, a, 2021, 2024, draws=5, seed=9, inputs=inputs)
    one = dm.project_population(base[base[S.AREA] == "510102"], a, 2021, 2024, draws=5, seed=9,
                                inputs=inputs.subset([1]))
    pd.testing.assert_frame_equal(full[full[S.AREA] == "510102"].reset_index(drop=True), one)
    s1 = dm.project_population_summary(base, a, 2021, 2024, draws=5, seed=9, chunk_size=1,
                                       groups=dm.SCHOOL_BANDS, inputs=inputs)
    s3 = dm.project_population_summary(base, a, 2021, 2024, draws=5, seed=9, chunk_size=3,
                                       groups=dm.SCHOOL_BANDS, inputs=inputs)
    pd.testing.assert_frame_equal(s1, s3)


@pytest.mark.parametrize("draws", [0, 6])
@pytest.mark.parametrize("window", [(3, 17), (0, 25), (12, 60), (0, 100)])
def test_band_ages_path_equals_the_full_projection_exactly(draws, window):
    """Projecting only the ages a band needs (women to 49, men to its last age, state arrays
    reused) gives bit-identical numbers to the full 101-age projection, coverage factor and
    census year included."""
    lo, hi = window
    areas = ["510101", "510102", "510103"]
    base = _base(areas, rng_seed=4)
    inputs = _inputs(areas, survival=0.99, fert=0.06, last_observed=2023)
    fac = np.ones((3, 2, N))
    fac[:, :, :5] = np.array([1.1, 0.9, 1.0])[:, None, None]
    mig = np.random.default_rng(2).normal(0, 0.02, size=(3, 2, N))
    inputs = replace(inputs, base_factor=fac, migration=mig)
    a = dm.DemographicAssumptions(migration_sd=0.3)
    _, pop0 = dm.to_array(base)
    full = list(dm._iter_school_years(pop0, inputs, 2020, 2030, a, draws, 11))
    fast = [(y, x.copy()) for y, x in dm._iter_school_ages(pop0, inputs, 2020, 2030, a, draws,
                                                            11, lo, hi)]
    assert [y for y, _ in fast] == [y for y, _ in full]
    for (_, f), (_, g) in zip(fast, full, strict=True):
        np.testing.assert_array_equal(f, g[:, :, lo:hi + 1])
    groups = {"x": (lo, min(lo + 2, hi)), "y": (lo, hi)}
    sums = dm._group_draws(pop0, inputs, 2021, 2030, a, draws, 11, groups, by_sex=True)
    for j, (_, g) in enumerate(full[1:]):
        want = np.stack([g[:, :, x:y + 1].sum(axis=2) for x, y in groups.values()], axis=2)
        np.testing.assert_array_equal(sums[j], want if draws else want[..., None])


def test_summary_matches_summarise_draws():
    """The streamed summary equals summarise_draws over the full long frame of draws."""
    areas = ["a", "b"]
    base = _base(areas)
    inputs = _inputs(areas, migration=0.01, fert=0.05, last_observed=2020)
    a = dm.DemographicAssumptions()
    full = dm.project_population(base, a, 2021, 2023, draws=9, seed=1, inputs=inputs,
                                 ages=[6, 7])
    tot = full.groupby([S.AREA, S.YEAR, S.DRAW], as_index=False)[S.POPULATION].sum()
    want = dm.summarise_draws(tot, S.POPULATION, [S.AREA, S.YEAR])
    got = dm.project_population_summary(base, a, 2021, 2023, draws=9, seed=1, inputs=inputs,
                                        groups={"6-7": (6, 7)})
    np.testing.assert_allclose(got[list(S.SUMMARY_COLUMNS)].to_numpy(),
                               want[list(S.SUMMARY_COLUMNS)].to_numpy(), rtol=1e-12)


def test_summarise_draws_by_hand():
    """Values 1..5 over draws: mean 3, 10 % quantile 1.4, 97.5 % quantile 4.9 (linear rule)."""
    df = pd.DataFrame({"k": ["x"] * 5, S.DRAW: range(5), "v": [5.0, 1, 3, 2, 4]})
    out = dm.summarise_draws(df, "v", ["k"]).iloc[0]
    assert out[S.MEAN] == 3.0
    assert out[S.LO80] == pytest.approx(1.4) and out[S.HI80] == pytest.approx(4.6)
    assert out[S.LO95] == pytest.approx(1.1) and out[S.HI95] == pytest.approx(4.9)
    assert list(dm.summarise_draws(df, "v", ["k"]).columns) == ["k", *S.SUMMARY_COLUMNS]


def test_deterministic_run_has_no_draw_column_and_respects_ages():
    """draws=0 returns one path without a draw column, restricted to the requested ages."""
    base = _base(["a"])
    out = dm.project_population(base, dm.DemographicAssumptions(), 2021, 2022,
                                inputs=_inputs(["a"]), ages=range(26))
    assert S.DRAW not in out.columns
    assert sorted(out[S.AGE].unique()) == list(range(26))
    assert len(out) == 2 * 2 * 26


def test_assumptions_validate_and_log():
    """Unknown paths are rejected by name; to_params gives flat, prefixed keys."""
    with pytest.raises(ValueError, match="fertility_path"):
        dm.DemographicAssumptions(fertility_path="wishful")
    with pytest.raises(ValueError, match="unknown keys"):
        dm.DemographicAssumptions.from_config({"fertilty_path": "low"})
    p = dm.DemographicAssumptions(fertility_path="low").to_params()
    assert p["demography.fertility_path"] == "low"
    assert p["demography.fertility_ages"] == "15-49"
    with pytest.raises(ValueError, match="fertility_ages"):
        dm.DemographicAssumptions(fertility_ages=(0, 49))


def test_stable_int_is_stable():
    """The per-area seed integer is the CRC-32 of the code (same on every platform and run)."""
    assert dm.stable_int("511025") == dm.stable_int("511025")
    assert dm.stable_int("511025") != dm.stable_int("511024")
    assert dm.stable_int("abc") == 891568578  # CRC-32("abc"), a published check value


# --- reference tables derived from the bundled data -------------------------------------------


def test_national_2010_is_sum_of_province_rows(processed):
    """The 2010 national table sums the 31 province rows: 1,332,810,869 persons (census README)."""
    nat = dm.national_census(2010)
    assert nat[S.POPULATION].sum() == 1_332_810_869


def test_capped_survival_never_exceeds_one(processed):
    """Capped national survival ratios lie in (0, 1]; uncapped ones exceed 1 at young ages."""
    capped = dm.national_survival(cap=True)
    raw = dm.national_survival(cap=False)
    assert (capped > 0).all() and (capped <= 1).all()
    assert (raw[:, :5] > 1).any()  # the 2010 under-count of young children shows up here


def test_closed_national_projection_reproduces_the_indexed_births(processed):
    """Closed nation, medium path: age 0 at 1 Nov t = census age 0 × B(t)/B(2020), census-moment
    births, for every observed year (rel. 1e-9; the old start-of-step exposure was 1-2 % high)."""
    a = dm.DemographicAssumptions(migration_source="none", local_births=False)
    base = dm.graduate_single_ages(dm.national_census(2020))
    births = dm._census_moment_births(dm.national_births())
    last = int(births.index.max())
    assert last >= 2022
    inputs = dm.prepare_inputs(base, a, end_year=last)
    _, pop0 = dm.to_array(base)
    a0 = pop0[0, :, 0].sum()
    for year, arr in dm.project_arrays(pop0, inputs, last - 2020, a):
        want = a0 * births[year] / births[2020]
        assert arr[0, :, 0].sum() == pytest.approx(want, rel=1e-9), year


def test_area_changing_like_the_nation_has_no_net_migration(processed):
    """An area whose cohorts change exactly like the nation's gets zero net migration."""
    _, ga = dm.census_groups5(dm.national_census(2010))
    _, gb = dm.census_groups5(dm.national_census(2020))
    m = dm.migration_log_rates(ga[0] * 0.001, gb[0] * 0.001)
    np.testing.assert_allclose(m, 0.0, atol=1e-12)


def test_hamilton_perry_by_hand():
    """With all cohort change ratios 2, cohorts double two groups older; children follow CWRs."""
    g = np.ones((2, 18)) * 10.0
    g[1, 3:9] = 20.0                     # women 15-44: 6 groups × 20 = 120
    out = dm.hamilton_perry(g, np.full((2, 16), 2.0))
    np.testing.assert_allclose(out[0, 2:17], 20.0)        # 10 × 2
    assert out[0, 17] == pytest.approx(3 * 10 * 2)        # 75+ (3 groups) → 85+
    # women 15-44 at B are the doubled 5-34 groups: 10·2·2 + 20·2·4 = 200; CWR = 10/120
    assert out[0, 0] == pytest.approx(10 / 120 * 200)


def test_neijiang_inputs_use_comparable_units(processed):
    """Neijiang's development zone takes the urban-districts unit's migration, Longchang its own."""
    pop = dm._bundled_census()
    codes = ["511002", "511011", "511024", "511025", "511071", "511083"]
    base = dm.graduate_single_ages(pop[(pop[S.CENSUS_YEAR] == 2020) & pop[S.AREA].isin(codes)])
    inp = dm.prepare_inputs(base, dm.DemographicAssumptions(), 2030)
    basis = dict(zip(inp.areas, inp.migration_basis, strict=True))
    assert basis["511071"] == basis["511002"] == "unit:urban_districts"
    assert basis["511083"] == "unit:longchang"
    i, j = inp.areas.index("511071"), inp.areas.index("511002")
    np.testing.assert_array_equal(inp.migration[i], inp.migration[j])


def test_fertility_paths_order_and_local_adjustment(processed):
    """low < medium < high after the last observed year, equal before; local factor 1 at census."""
    surv = dm.national_survival()
    w = ((dm.AGES >= 15) & (dm.AGES <= 49)).astype(float)
    paths = {p: dm.fertility_index_path(2020, 2030, dm.DemographicAssumptions(fertility_path=p),
                                        surv, w) for p in ("low", "medium", "high", "constant")}
    idx, last = paths["medium"]
    assert paths["low"][0][last] == idx[last] == paths["high"][0][last]
    assert paths["low"][0][last + 1] < idx[last + 1] < paths["high"][0][last + 1]
    assert set(paths["constant"][0].values()) == {1.0}
    births = dm.preferred_births()["511000"]
    nat = dm.national_births()
    y1, y2 = births.index.min(), births.index.max()
    a = (births[y2] / births[y1]) / (nat[y2] / nat[y1])
    adj, _ = dm.local_birth_adjustment("511025", 2020, [2020, y2, y2 + 3])
    frac0 = (2020 - y1) / (y2 - y1)
    np.testing.assert_allclose(adj, [1.0, a ** (1 - frac0), a ** (1 - frac0)])


def test_births_until_reads_no_later_births(processed):
    """births_until = 2020: the medium path's last observed year is 2020 and every later year
    holds the 2020 index (the bundled births go on to 2025); the local factor reads births to
    2020 only; the derived draw sd is the one of births up to 2020."""
    surv = dm.national_survival()
    w = ((dm.AGES >= 15) & (dm.AGES <= 49)).astype(float)
    full, last_full = dm.fertility_index_path(2020, 2026, dm.DemographicAssumptions(), surv, w)
    cut, last = dm.fertility_index_path(2020, 2026, dm.DemographicAssumptions(births_until=2020),
                                        surv, w)
    assert last_full > 2020 and last == 2020
    assert len(set(cut.values())) == 1 and cut[2026] != full[2026]
    # Neijiang's births are observed in 2019 and 2022: up to 2020 one year is too few for a
    # local factor (1), with 2022 there is one
    assert list(dm.preferred_births()["511000"].index) == [2019, 2022]
    cut_adj, note = dm.local_birth_adjustment("511025", 2020, [2020, 2025], up_to=2020)
    full_adj, _ = dm.local_birth_adjustment("511025", 2020, [2020, 2025])
    np.testing.assert_allclose(cut_adj, [1.0, 1.0])
    assert note == "none" and full_adj[1] != 1.0
    inputs = dm.prepare_inputs(
        dm.graduate_single_ages(dm.national_census(2020)),
        dm.DemographicAssumptions(births_until=2020, migration_source="none", local_births=False),
        2022)
    assert inputs.last_observed == 2020
    assert inputs.fertility_sd == pytest.approx(dm.derived_fertility_sd(up_to=2020))


def test_cli_project_writes_region_bands_and_rejects_bad_input(tmp_path, processed):
    """`demography project` writes region bands with intervals; bad input exits 2, no traceback."""
    from typer.testing import CliRunner

    from njforecast.cli import app
    from njforecast.config import raw_dir

    runner = CliRunner()
    out = tmp_path / "nj.csv"
    census = raw_dir() / "census" / "census_county_2020_sichuan.csv"
    r = runner.invoke(app, ["demography", "project", "--base", str(census), "--region",
                            "neijiang", "--to", "2023", "--draws", "20", "--output", str(out)])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out, dtype={S.AREA: str})
    assert set(df[S.AGE_GROUP]) == set(dm.SCHOOL_BANDS)
    assert sorted(df[S.YEAR].unique()) == [2021, 2022, 2023]
    assert (df[S.LO95] <= df[S.MEAN]).all() and (df[S.MEAN] <= df[S.HI95]).all()
    city = df[df[S.AREA] == "511000"].set_index([S.YEAR, S.AGE_GROUP])[S.MEAN]
    parts = df[df[S.AREA] != "511000"].groupby([S.YEAR, S.AGE_GROUP])[S.MEAN].sum()
    pd.testing.assert_series_equal(city.sort_index(), parts.sort_index(), check_names=False)
    bad = runner.invoke(app, ["demography", "project", "--base", str(tmp_path / "none.csv"),
                              "--output", str(tmp_path / "x.csv")])
    assert bad.exit_code == 2 and "census file not found" in bad.output
    assert "Traceback" not in bad.output


def test_region_base_keeps_census_totals(processed):
    """Neijiang's graduated 2020 base keeps each county's census total (e.g. Zizhong 845,579)."""
    base = dm.region_base("neijiang", 2020)
    tot = base.groupby(S.AREA)[S.POPULATION].sum()
    assert len(tot) == 6
    assert tot["511025"] == pytest.approx(845_579, rel=1e-12)
    assert tot.sum() == pytest.approx(3_140_678, rel=1e-12)


def test_hamilton_perry_region_applies_unit_ratios(processed):
    """Weiyuan 2030 males 10-14 = 2020 males 0-4 × (2020 males 10-14 / 2010 males 0-4)."""
    hp = dm.hamilton_perry_region("neijiang")
    assert set(hp[S.AREA]) == {"urban_districts", "weiyuan", "zizhong", "longchang"}
    pop = dm._bundled_census()

    def grp(year, labels):
        p = pop[(pop[S.CENSUS_YEAR] == year) & (pop[S.AREA] == "511024") & (pop[S.SEX] == "male")]
        return p[p[S.AGE_GROUP].isin(labels)][S.POPULATION].sum()

    want = grp(2020, ["0", "1-4"]) * grp(2020, ["10-14"]) / grp(2010, ["0", "1-4"])
    got = hp[(hp[S.AREA] == "weiyuan") & (hp[S.SEX] == "male") & (hp[S.AGE_GROUP] == "10-14")]
    assert got[S.POPULATION].iloc[0] == pytest.approx(want, rel=1e-12)


# --- county-relative coverage of young children; held-out protocol (issue 3 follow-up) -------


def _flat_pop(children: float, women: float) -> np.ndarray:
    """Synthetic (2, 101) population: `children` at each age 0-4 per sex, `women` at 15-44."""
    arr = np.zeros((2, N))
    arr[:, 0:5] = children
    arr[1, 15:45] = women
    arr[:, 50] = 7.0                      # other ages, untouched by the correction
    return arr


def test_child_coverage_factor_by_hand():
    """CWR twice the province's with ε = 0.5 gives √2 at ages 0-4 only; equal CWR gives 1."""
    prov = _flat_pop(children=10.0, women=20.0)       # CWR = 100 / 600
    high = _flat_pop(children=20.0, women=20.0)       # CWR = 200 / 600: twice the province
    base = np.stack([high, prov * 3.0])               # second area: same CWR as the province
    f = dm.child_coverage_factor(base, prov, 0.5)
    np.testing.assert_allclose(f[0, :, 0:5], np.sqrt(2.0))
    np.testing.assert_allclose(f[0, :, 5:], 1.0)
    np.testing.assert_allclose(f[1], 1.0)
    np.testing.assert_allclose(dm.child_coverage_factor(base, prov, 0.0), 1.0)
    no_women = _flat_pop(children=5.0, women=0.0)[None]
    np.testing.assert_allclose(dm.child_coverage_factor(no_women, prov, 0.5), 1.0)


def test_base_factor_moves_only_the_corrected_cohort():
    """A base factor 2 at ages 0-4 doubles that cohort ten years on and nothing else."""
    base = _base(["a"])
    _, pop0 = dm.to_array(base)
    plain = _inputs(["a"], survival=0.95, migration=0.01, fert=0.05, years=10)
    fac = np.ones((1, 2, N))
    fac[:, :, 0:5] = 2.0
    corr = _inputs(["a"], survival=0.95, migration=0.01, fert=0.05, years=10)
    corr = dm.DemographicInputs(**{**corr.__dict__, "base_factor": fac})
    a = dm.DemographicAssumptions()
    *_, (_, p) = list(dm.project_arrays(pop0, plain, 10, a))
    *_, (_, c) = list(dm.project_arrays(pop0, corr, 10, a))
    np.testing.assert_allclose(c[:, :, 10:15], 2 * p[:, :, 10:15])
    np.testing.assert_allclose(c[:, :, :10], p[:, :, :10])    # births depend on women only
    np.testing.assert_allclose(c[:, :, 15:], p[:, :, 15:])
    out = dm.project_population(base, a, 2020, 2021, inputs=corr)
    y0 = out[out[S.YEAR] == 2020].sort_values([S.SEX, S.AGE])[S.POPULATION].to_numpy()
    back = dm.back_step(pop0, plain, a)                          # from the census as counted
    np.testing.assert_allclose(y0, (10 / 12 * pop0[0] + 2 / 12 * back[0])[[1, 0]].ravel())
    sub = corr.subset([0])
    np.testing.assert_array_equal(sub.base_factor, fac)
