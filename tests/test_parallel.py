"""Tests for njforecast.parallel: serial, local-process and Dask paths give identical numbers.

The projections are the real ones (``demography.project_population_summary`` and
``demography.project_population``) on the 2010 census of 20 county-level units from
data/raw/census/census_county_2010.xlsx, with few draws and a horizon to 2025.
"""

import math
from functools import partial

import pandas as pd
import psutil
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from njforecast import demography as D
from njforecast import parallel as P
from njforecast import schema as S
from conftest import sichuan_census_head
from njforecast.io.processed import read_processed

SCENARIOS = {"medium": D.DemographicAssumptions(),
             "low": D.DemographicAssumptions(fertility_path="low")}
AGES = range(19)
SUMMARY = {"groups": {str(a): (a, a) for a in AGES}, "by_sex": True}


@pytest.fixture(scope="module")
def base20():
    """Single-age 2010 base of the first 20 county-level units of the 2010 county table."""
    pop = read_processed("census_population")
    pop = pop[pop[S.CENSUS_YEAR] == 2010]
    areas = read_processed("census_areas")
    counties = areas[(areas[S.CENSUS_YEAR] == 2010) & (areas["kind"] == "county")][S.AREA]
    codes = sorted(set(counties) & set(pop[S.AREA]))[:20]
    return D.graduate_single_ages(pop[pop[S.AREA].isin(codes)])


def _run(base, draws=8, **kw):
    """Summaries by area, year, sex and single age 0-18, 2011-2025, two scenarios."""
    return P.project_in_chunks(base, None, 2011, 2025, draws, 7, scenarios=SCENARIOS,
                               project=D.project_population_summary, project_kwargs=SUMMARY,
                               **kw)


def _worker_processes():
    """Child processes other than multiprocessing's long-lived resource tracker."""
    kids = psutil.Process().children(recursive=True)
    return [p for p in kids if "resource_tracker" not in " ".join(p.cmdline())]


# ------------------------------------------------------------------------------------------
# equality across executors and chunkings


def test_dask_local_serial_identical(base20):
    """20 real counties × 2 scenarios × 8 draws to 2025: Dask LocalCluster = local pool = serial."""
    serial = _run(base20, executor="serial", chunk_size=20)
    local = _run(base20, executor="local", workers=2, chunk_size=7)
    dask = _run(base20, executor="dask", workers=2, chunk_size=7)
    assert len(serial) == 2 * 20 * 15 * 2 * 19
    assert serial[S.SCENARIO].unique().tolist() == ["medium", "low"]
    pd.testing.assert_frame_equal(local, serial, check_exact=True)
    pd.testing.assert_frame_equal(dask, serial, check_exact=True)
    assert _worker_processes() == []  # pool and cluster shut down


def test_dask_address_uses_existing_cluster_and_leaves_it_running(base20):
    """With --address the run uses that scheduler, matches serial, and does not close it."""
    from dask.distributed import Client, LocalCluster

    base3 = base20[base20[S.AREA].isin(sorted(base20[S.AREA].unique())[:3])]
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      dashboard_address=None) as cluster:
        got = _run(base3, executor="dask", address=cluster.scheduler_address, chunk_size=2,
                   draws=4)
        with Client(cluster.scheduler_address) as client:  # still reachable afterwards
            assert len(client.scheduler_info()["workers"]) == 1
    want = _run(base3, executor="serial", chunk_size=3, draws=4)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


@pytest.mark.parametrize("chunk_size", [1, 6])
def test_chunk_size_does_not_change_results(base20, chunk_size):
    """Per-area seeding makes the results identical whatever the chunk size (long draws path)."""
    keys = [S.AREA, S.YEAR, S.SEX, S.AGE]
    opts = {"project": D.project_population, "project_kwargs": {"ages": AGES},
            "reduce": partial(D.summarise_draws, value_col=S.POPULATION, by=keys),
            "executor": "serial"}
    base = base20[base20[S.AREA].isin(sorted(base20[S.AREA].unique())[:6])]
    ref = P.project_in_chunks(base, SCENARIOS["medium"], 2011, 2016, 5, 3, chunk_size=6, **opts)
    got = P.project_in_chunks(base, SCENARIOS["medium"], 2011, 2016, 5, 3,
                              chunk_size=chunk_size, **opts)
    assert len(ref) == 6 * 6 * 2 * 19 and set(ref[S.SCENARIO]) == {""}
    pd.testing.assert_frame_equal(got, ref, check_exact=True)


def test_point_run_equals_unchunked_projection(base20):
    """draws=0 in 3 chunks gives exactly demography.project_population on all 20 areas at once."""
    whole = D.project_population(base20, SCENARIOS["low"], 2011, 2020, 0, 5, ages=AGES)
    got = P.project_in_chunks(base20, SCENARIOS["low"], 2011, 2020, 0, 5,
                              project=D.project_population, project_kwargs={"ages": AGES},
                              chunk_size=7, executor="serial")
    got = got.drop(columns=S.SCENARIO).sort_values([S.YEAR, S.AREA, S.SEX, S.AGE])
    want = whole.sort_values([S.YEAR, S.AREA, S.SEX, S.AGE])
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True),
                                  check_exact=True)


# ------------------------------------------------------------------------------------------
# the command line: njforecast demography project --executor …


@pytest.fixture(scope="module")
def census12(tmp_path_factory):
    """The 2020 Sichuan county table cut to its first 12 county-level rows (real, unchanged)."""
    return sichuan_census_head(tmp_path_factory.mktemp("census"), 12)


def test_cli_local_pool_output_byte_identical_to_serial(census12, tmp_path):
    """`demography project --executor local --workers 2` writes the same bytes as serial."""
    from typer.testing import CliRunner

    from njforecast.cli import app

    outs = {}
    for ex in ("serial", "local"):
        outs[ex] = tmp_path / f"{ex}.csv"
        res = CliRunner().invoke(app, ["demography", "project", "--base", str(census12),
                                       "--to", "2023", "--draws", "0", "--output",
                                       str(outs[ex]), "--executor", ex, "--workers", "2"])
        assert res.exit_code == 0, res.output
        assert "12 areas, 2021-2023" in res.output
    assert outs["serial"].read_bytes() == outs["local"].read_bytes()


def test_cli_bad_executor_exits_2_without_traceback(census12, tmp_path):
    """An unknown --executor, or --address without dask, is a one-line error and exit 2."""
    from typer.testing import CliRunner

    from njforecast.cli import app

    base = ["demography", "project", "--base", str(census12), "--to", "2022",
            "--output", str(tmp_path / "x.csv")]
    res = CliRunner().invoke(app, [*base, "--executor", "threads"])
    assert res.exit_code == 2 and "executor must be one of serial, local, dask" in res.output
    res = CliRunner().invoke(app, [*base, "--address", "tcp://127.0.0.1:8786"])
    assert res.exit_code == 2 and "needs --executor dask" in res.output
    assert "Traceback" not in res.output and not (tmp_path / "x.csv").exists()


# ------------------------------------------------------------------------------------------
# errors


def _failing_project(base_df, assumptions, **kwargs):
    """Raises for the area named in ``assumptions`` (a string here), else returns the areas."""
    if assumptions in set(base_df[S.AREA]):
        raise ValueError(f"deliberate failure for area {assumptions}")
    return pd.DataFrame({S.AREA: sorted(base_df[S.AREA].unique())})


@pytest.mark.parametrize("executor", ["serial", "local"])
def test_worker_error_names_the_task(base20, executor):
    """A failure inside a worker comes back as ChunkError naming scenario, task and areas."""
    codes = sorted(base20[S.AREA].unique())
    with pytest.raises(P.ChunkError) as err:
        P.project_in_chunks(base20, None, 2011, 2013, 2, 1, project=_failing_project,
                            scenarios={"ok": "none", "low": codes[12]}, chunk_size=5,
                            executor=executor, workers=2)
    msg = str(err.value)
    assert isinstance(err.value, ValueError)  # input errors stay ValueErrors (CLI: exit 2)
    assert "task 6 (scenario 'low', 5 areas" in msg and codes[10] in msg
    assert f"deliberate failure for area {codes[12]}" in msg


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
    with pytest.raises(ValueError, match="area 2 appears twice in the area list"):
        P.make_tasks(["1", "2", "2"], 2)
    base = pd.DataFrame({S.AREA: ["1"], S.POPULATION: [1.0]})
    with pytest.raises(ValueError, match="not both"):
        P.project_in_chunks(base, {}, 2011, 2012, 0, 1, project=_failing_project,
                            scenarios=SCENARIOS)


def test_unreachable_dask_scheduler_is_a_clear_error(monkeypatch):
    """An address where no scheduler listens gives a ValueError naming it and the fix."""
    monkeypatch.setattr(P, "DASK_CONNECT_TIMEOUT", "1s")
    with pytest.raises(ValueError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        P.map_chunks(sum, [1, 2], 1, executor="dask", address="tcp://127.0.0.1:9")


# ------------------------------------------------------------------------------------------
# small known answers and properties


def test_default_chunk_size_hand_computed():
    """25 years × 2 sexes × 25 ages × 1000 draws × 64 B = 80,000,000 B/area → 6 areas in 512 MiB."""
    assert P.default_chunk_size(2857, 25, 25, 1000, workers=2) == 536_870_912 // 80_000_000
    assert P.default_chunk_size(2857, 25, 25, 100, workers=2) == 67  # memory; balance: 358
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
    """Tasks of very unequal cost (the first is the slowest) still come back in task order."""
    tasks = [120_000, 50_000, 3, 20_000, 7]
    out = P.run_tasks(math.factorial, tasks, executor="local", workers=2)
    assert [o % 1_000_003 for o in out] == [math.factorial(n) % 1_000_003 for n in tasks]
