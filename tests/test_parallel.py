"""Tests for njforecast.parallel: serial, local-process and Dask paths give identical numbers.

The projection used here is a TEST STAND-IN (``toy_project``), not the demography method: a
synthetic cohort shift with per-area seeded draws, written against the documented signature
``project_population(base_df, assumptions, start_year, end_year, draws, seed, ages)`` and the
population frame contract (area, year, sex, age, population, draw). Its inputs are real: the
2010 census age structure of 20 counties from data/raw/census/census_county_2010.xlsx.
"""

import numpy as np
import pandas as pd
import psutil
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from njforecast import parallel as P
from njforecast import schema as S
from njforecast.data import read_processed

# ------------------------------------------------------------------------------------------
# stand-in projection (synthetic method, labelled; real census inputs)


def _single_ages(base_df: pd.DataFrame) -> pd.DataFrame:
    """Census age groups → single ages by an even split (stand-in only; demography graduates)."""
    rows = base_df.loc[base_df.index.repeat(base_df[S.AGE_END] - base_df[S.AGE_START] + 1)].copy()
    rows[S.AGE] = rows[S.AGE_START] + rows.groupby(level=0).cumcount()
    width = rows[S.AGE_END] - rows[S.AGE_START] + 1
    rows[S.POPULATION] = rows[S.POPULATION] / width
    return rows[[S.AREA, S.SEX, S.AGE, S.POPULATION]].reset_index(drop=True)


def toy_project(base_df, assumptions, start_year, end_year, draws, seed, ages=None):
    """TEST STAND-IN: shift cohorts one age a year × survival; births = fertility × women 20-34.

    Draws multiply births by exp(N(0, sd)), seeded per area with (seed, area code), so the
    numbers of an area do not depend on which other areas share its chunk.
    """
    if assumptions.get("fail_area") in set(base_df[S.AREA]):
        raise ValueError(f"stand-in failure for area {assumptions['fail_area']}")
    single = _single_ages(base_df)
    areas = sorted(single[S.AREA].unique())
    n_age = S.OPEN_AGE + 1
    arr = np.zeros((len(areas), 2, n_age))
    ai = single[S.AREA].map({a: i for i, a in enumerate(areas)}).to_numpy()
    si = single[S.SEX].map({s: i for i, s in enumerate(S.SEXES)}).to_numpy()
    np.add.at(arr, (ai, si, single[S.AGE].to_numpy()), single[S.POPULATION].to_numpy())
    n_draw = max(draws, 1)
    years = list(range(start_year, end_year + 1))
    noise = np.stack([np.random.default_rng([seed, int(a)]).normal(0, assumptions["sd"],
                                                                  (len(years), n_draw))
                      for a in areas]) if draws else np.zeros((len(areas), len(years), 1))
    pop = np.repeat(arr[..., None], n_draw, axis=-1)  # area, sex, age, draw
    out = []
    for k, _ in enumerate(years):
        births = assumptions["fertility"] * pop[:, 1, 20:35, :].sum(axis=1) * np.exp(noise[:, k])
        new = np.empty_like(pop)
        new[:, :, 1:] = pop[:, :, :-1] * assumptions["survival"]
        new[:, :, -1] += pop[:, :, -1] * assumptions["survival"]
        new[:, 0, 0] = births * 0.5   # S.SEXES[0] = male
        new[:, 1, 0] = births * 0.5
        pop = new
        out.append(pop.copy())
    keep = list(range(n_age)) if ages is None else sorted(set(ages))
    cube = np.stack(out, axis=1)[:, :, :, keep, :]  # area, year, sex, age, draw
    idx = pd.MultiIndex.from_product([areas, years, list(S.SEXES), keep, range(n_draw)],
                                     names=[S.AREA, S.YEAR, S.SEX, S.AGE, S.DRAW])
    df = pd.DataFrame({S.POPULATION: cube.ravel()}, index=idx).reset_index()
    if not draws:
        df = df.drop(columns=S.DRAW)
    return df.reset_index(drop=True)


ASSUMPTIONS = {"medium": {"survival": 0.99, "fertility": 0.06, "sd": 0.05},
               "low": {"survival": 0.99, "fertility": 0.04, "sd": 0.05}}


@pytest.fixture(scope="module")
def base20():
    """2010 census population (age groups) of the first 20 county-level units of the table."""
    pop = read_processed("census_population")
    pop = pop[pop[S.CENSUS_YEAR] == 2010]
    areas = read_processed("census_areas")
    counties = areas[(areas[S.CENSUS_YEAR] == 2010) & (areas["kind"] == "county")][S.AREA]
    codes = sorted(set(counties) & set(pop[S.AREA]))[:20]
    return pop[pop[S.AREA].isin(codes)].reset_index(drop=True)


def _run(base, **kw):
    opts = {"start_year": 2011, "end_year": 2025, "draws": 16, "seed": 7, "ages": range(19),
            "project": toy_project}
    opts.update(kw)
    return P.project_in_chunks(base, None, opts.pop("start_year"), opts.pop("end_year"),
                               opts.pop("draws"), opts.pop("seed"), opts.pop("ages"),
                               scenarios=ASSUMPTIONS, **opts)


# ------------------------------------------------------------------------------------------
# equality across executors and chunkings


def test_dask_local_serial_identical(base20):
    """20 real counties × 2 scenarios × 16 draws to 2025: Dask LocalCluster = local pool = serial."""
    serial = _run(base20, executor="serial", chunk_size=20)
    local = _run(base20, executor="local", workers=2, chunk_size=7)
    dask = _run(base20, executor="dask", workers=2, chunk_size=7)
    assert len(serial) == 2 * 20 * 15 * 2 * 19
    assert serial[S.SCENARIO].unique().tolist() == ["medium", "low"]
    pd.testing.assert_frame_equal(local, serial, check_exact=True)
    pd.testing.assert_frame_equal(dask, serial, check_exact=True)
    assert _worker_processes() == []  # pool and cluster shut down


def _worker_processes():
    """Child processes other than multiprocessing's long-lived resource tracker."""
    kids = psutil.Process().children(recursive=True)
    return [p for p in kids if "resource_tracker" not in " ".join(p.cmdline())]


def test_dask_address_uses_existing_cluster_and_leaves_it_running(base20):
    """With --address the run uses that scheduler, matches serial, and does not close it."""
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      dashboard_address=None) as cluster:
        got = _run(base20.iloc[: 38 * 3], executor="dask", address=cluster.scheduler_address,
                   chunk_size=2, draws=4)
        with Client(cluster.scheduler_address) as client:  # still reachable afterwards
            assert len(client.scheduler_info()["workers"]) == 1
    want = _run(base20.iloc[: 38 * 3], executor="serial", chunk_size=3, draws=4)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


@pytest.mark.parametrize("chunk_size", [1, 3, 20])
def test_chunk_size_does_not_change_results(base20, chunk_size):
    """Per-area seeding makes the summaries identical whatever the chunk size."""
    ref = _run(base20, executor="serial", chunk_size=20, draws=8)
    got = _run(base20, executor="serial", chunk_size=chunk_size, draws=8)
    pd.testing.assert_frame_equal(got, ref, check_exact=True)


def test_summaries_bracket_mean_and_point_run_has_no_draw(base20):
    """lo95 ≤ lo80 ≤ hi80 ≤ hi95 in every cell; draws=0 returns plain population."""
    s = _run(base20.iloc[: 38 * 4], executor="serial", draws=40)
    assert (s[S.LO95] <= s[S.LO80]).all() and (s[S.LO80] <= s[S.HI80]).all()
    assert (s[S.HI80] <= s[S.HI95]).all()
    point = _run(base20.iloc[: 38 * 4], executor="serial", draws=0)
    assert S.DRAW not in point.columns and S.POPULATION in point.columns
    # ages 1+ in the first year are census survivors (no randomness): one value across draws
    aged = s[(s[S.YEAR] == 2011) & (s[S.AGE] >= 1)]
    assert np.array_equal(aged[S.LO95].to_numpy(), aged[S.HI95].to_numpy())


# ------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize("executor", ["serial", "local"])
def test_worker_error_names_the_task(base20, executor):
    """A failure inside a worker comes back as ChunkError naming scenario, task and areas."""
    codes = sorted(base20[S.AREA].unique())
    bad = dict(ASSUMPTIONS, low={**ASSUMPTIONS["low"], "fail_area": codes[12]})
    with pytest.raises(P.ChunkError) as err:
        P.project_in_chunks(base20, None, 2011, 2013, 2, 1, project=toy_project, chunk_size=5,
                            scenarios=bad, executor=executor, workers=2)
    msg = str(err.value)
    assert "task 6 (scenario 'low', 5 areas" in msg and codes[10] in msg
    assert f"stand-in failure for area {codes[12]}" in msg


def test_bad_options_are_rejected():
    """Unknown executor, workers < 1, an address without Dask, assumptions twice: ValueErrors."""
    with pytest.raises(ValueError, match="executor must be one of serial, local, dask"):
        P.map_chunks(sum, [1, 2], 1, executor="threads")
    with pytest.raises(ValueError, match="workers must be >= 1"):
        P.map_chunks(sum, [1, 2], 1, workers=0)
    with pytest.raises(ValueError, match="needs --executor dask"):
        P.map_chunks(sum, [1, 2], 1, executor="local", address="tcp://127.0.0.1:8786")
    with pytest.raises(ValueError, match="chunk size must be >= 1"):
        P.chunked([1], 0)
    with pytest.raises(ValueError, match="area 2 appears twice"):
        P.make_tasks(["1", "2", "2"], 2)
    base = pd.DataFrame({S.AREA: ["1"], S.POPULATION: [1.0]})
    with pytest.raises(ValueError, match="not both"):
        P.project_in_chunks(base, {}, 2011, 2012, 0, 1, project=toy_project, scenarios=ASSUMPTIONS)


# ------------------------------------------------------------------------------------------
# small known answers and properties


def test_summarise_draws_hand_computed():
    """Draws 1..5 of one cell: mean 3, 10/90 % = 1.4/4.6, 2.5/97.5 % = 1.1/4.9 (type-7 quantiles)."""
    df = pd.DataFrame({S.AREA: "a", S.DRAW: [4, 0, 2, 1, 3], S.POPULATION: [5., 1., 3., 2., 4.]})
    got = P.summarise_draws(df, S.POPULATION, [S.AREA]).iloc[0]
    assert got[S.MEAN] == 3.0
    assert got[[S.LO80, S.HI80, S.LO95, S.HI95]].tolist() == pytest.approx([1.4, 4.6, 1.1, 4.9])
    uneven = pd.concat([df, pd.DataFrame({S.AREA: ["b"], S.DRAW: [0], S.POPULATION: [1.0]})])
    with pytest.raises(ValueError, match="cell b has 1 draws, expected 5"):
        P.summarise_draws(uneven, S.POPULATION, [S.AREA])


def test_default_chunk_size_hand_computed():
    """25 years × 2 sexes × 25 ages × 1000 draws × 64 B = 80,000,000 B/area → 6 areas in 512 MiB."""
    assert P.default_chunk_size(2857, 25, 25, 1000, workers=2) == 536_870_912 // 80_000_000
    assert P.default_chunk_size(2857, 25, 25, 100, workers=2) == 67  # by memory (balance alone would allow 358)
    assert P.default_chunk_size(40, 25, 25, 10, workers=2) == 5  # 4 chunks per worker
    assert P.default_chunk_size(3, 16, 101, 10**6, workers=1) == 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-1000, 1000), max_size=40), st.integers(1, 12))
def test_map_chunks_keeps_order_and_covers_every_item(items, size):
    """Concatenated chunk results equal the items in order; each chunk has at most `size` items."""
    out = P.map_chunks(list, items, size, executor="serial")
    assert [x for chunk in out for x in chunk] == items
    assert all(1 <= len(c) <= size for c in out)
    tasks = P.make_tasks([str(i) for i in range(len(items))], size, ["a", "b"])
    assert [t.index for t in tasks] == list(range(len(tasks)))
    assert len(tasks) == 2 * -(-len(items) // size)


def test_local_pool_returns_results_in_task_order():
    """Tasks that finish in reverse order (longer sleeps first) still come back in task order."""
    out = P.map_chunks(_slow_identity, [0.6, 0.3, 0.0, 0.2], 1, executor="local", workers=2)
    assert out == [[0.6], [0.3], [0.0], [0.2]]


def _slow_identity(chunk):
    import time

    time.sleep(chunk[0])
    return chunk
