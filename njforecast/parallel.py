"""Executor choice for large runs: a local process pool by default, Dask distributed for clusters.

Public names:
    EXECUTORS                       the executor names: "serial", "local", "dask"
    ChunkError                      a task failed in a worker; the message names the task
                                    (ChunkInputError, also a ValueError, when the cause was one)
    Task                            one unit of work: scenario name, chunk of area codes, payload
    chunked(items, size)            consecutive chunks of a sequence
    balanced_chunk_size(n, workers) items per chunk for about four chunks per worker
    make_tasks(areas, chunk_size, scenarios)   split work by scenario × area chunk
    run_tasks(func, tasks, ...)     ``func(task, **shared)`` for every task, results in task order
    map_chunks(func, items, chunk_size, ...)   ``func(chunk, **shared)`` for every chunk of items
    default_chunk_size(...)         areas per chunk so one chunk's draws fit a memory budget
    project_in_chunks(base_df, ...) a (national) population projection split by area chunk and
                                    scenario, each chunk reduced inside its worker

Executors (DESIGN §3 ``parallel.py``):
    * ``serial`` — every task in the calling process, in order (debugging, tiny runs);
    * ``local`` (default) — :class:`concurrent.futures.ProcessPoolExecutor` with the ``spawn``
      start method (safe with threads, identical on Linux/macOS/Windows), ``workers`` processes
      (default ``os.cpu_count()``);
    * ``dask`` — Dask distributed (https://distributed.dask.org): ``Client(address)`` for an
      existing cluster (``tcp://host:8786``), otherwise a ``LocalCluster`` of ``workers``
      single-threaded worker processes that is shut down when the run ends. Large shared inputs
      are sent once per worker with ``Client.scatter(..., broadcast=True)``; tasks go through
      ``Client.submit`` and results come back in task order.

Determinism: each task's result depends only on its own inputs (the projection seeds its draws
per area, see ``demography``), results are returned in task order whatever order workers finish
in, and summaries are computed per cell, so serial, local and Dask runs — and any chunk size —
give identical numbers.

No MLflow here: workers compute and return frames; logging stays in the driver (single writer,
DESIGN §6). Functions and task payloads must be picklable (defined at module level).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import schema as S

EXECUTORS = ("serial", "local", "dask")

#: How long to wait for an existing Dask scheduler (``address``) before giving up.
DASK_CONNECT_TIMEOUT = "10s"

#: Memory budget for one chunk's draws inside one worker (bytes), and the bytes one row of a
#: long population frame with draws takes in pandas (area and sex as object references to
#: shared strings, year, age, draw, population: 48 B/row measured with pandas 2.x, plus
#: copies made while reducing; 64 used).
CHUNK_BUDGET_BYTES = 512 * 2**20
LONG_ROW_BYTES = 64


class ChunkError(RuntimeError):
    """A task raised in a worker; the message names the task (scenario, areas) and the error."""


class ChunkInputError(ChunkError, ValueError):
    """A task raised ValueError (bad input, e.g. DataError): still a ValueError, so the CLI
    reports it as an input error (exit 2, no traceback)."""


@dataclass(frozen=True)
class Task:
    """One unit of parallel work.

    Attributes:
        index: position in the task list (results come back in this order).
        scenario: scenario name ("" when the run has a single scenario).
        areas: area codes of this chunk.
        payload: task-specific inputs (e.g. the chunk's rows of the base population).
    """

    index: int
    scenario: str
    areas: tuple[str, ...]
    payload: Any = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        """Short label for messages: 'task 3 (scenario 'low', 20 areas 110101…110229)'."""
        where = f"{len(self.areas)} areas {self.areas[0]}…{self.areas[-1]}" if self.areas \
            else "no areas"
        scen = f"scenario '{self.scenario}', " if self.scenario else ""
        return f"task {self.index} ({scen}{where})"


def _describe(index: int, task: Any) -> str:
    if isinstance(task, Task):
        return task.describe()
    if isinstance(task, (list, tuple)) and task:
        return f"chunk {index} ({len(task)} items {task[0]!r}…{task[-1]!r})"
    return f"chunk {index} ({task!r:.60})"


# ------------------------------------------------------------------------------------------
# splitting


def chunked(items: Sequence, size: int) -> list[list]:
    """Consecutive chunks of ``items`` of at most ``size`` elements (order kept).

    Raises:
        ValueError: ``size`` < 1.
    """
    if int(size) < 1:
        raise ValueError(f"chunk size must be >= 1, got {size}")
    items = list(items)
    return [items[i:i + size] for i in range(0, len(items), size)]


def make_tasks(areas: Sequence[str], chunk_size: int,
               scenarios: Sequence[str] | None = None) -> list[Task]:
    """Split work by scenario × area chunk (scenario-major, areas in the given order).

    Args:
        areas: area codes.
        chunk_size: areas per task.
        scenarios: scenario names (default one unnamed scenario "").

    Returns:
        Tasks numbered 0…n-1; ``len(scenarios) * ceil(len(areas) / chunk_size)`` of them.
    """
    codes = [str(a) for a in areas]
    if len(set(codes)) != len(codes):
        dup = pd.Series(codes)[pd.Series(codes).duplicated()].iloc[0]
        raise ValueError(f"area {dup} appears twice in the area list; list each area once")
    scens = [""] if scenarios is None else [str(s) for s in scenarios]
    if not scens:
        raise ValueError("no scenarios given; pass at least one scenario name")
    tasks: list[Task] = []
    for scen in scens:
        for chunk in chunked(codes, chunk_size):
            tasks.append(Task(len(tasks), scen, tuple(chunk)))
    return tasks


def balanced_chunk_size(n_items: int, workers: int | None = None, per_worker: int = 4,
                        cap: int | None = None) -> int:
    """Items per chunk giving every worker about ``per_worker`` chunks, at most ``cap``, ≥ 1.

    ``ceil(n_items / (per_worker × workers))`` with workers defaulting to ``os.cpu_count()``.
    Use it for projections that stream their draws internally (memory bounded inside the
    task, e.g. ``demography.project_census``); ``cap`` keeps tasks short so that several
    workers share the load and the per-task results stay small.
    """
    w = max(int(workers or os.cpu_count() or 1), 1)
    size = max(1, -(-int(n_items) // (per_worker * w)))
    return int(min(size, cap)) if cap else int(size)


def default_chunk_size(n_areas: int, n_years: int, n_ages: int, draws: int,
                       workers: int = 1, budget_bytes: int = CHUNK_BUDGET_BYTES) -> int:
    """Areas per chunk so that one chunk's draws stay within ``budget_bytes``.

    One area of a chunk yields ``years × 2 sexes × ages × max(draws, 1)`` rows of a long
    population frame of ``LONG_ROW_BYTES`` each; the chunk size is the largest number of areas
    within the budget, but small enough to give every worker at least four chunks (load
    balance), and at least 1. Peak memory of a run is then about ``workers × budget`` plus the
    summaries collected in the driver (``areas × years × 2 × ages`` rows), whatever the draws.
    """
    per_area = LONG_ROW_BYTES * max(n_years, 1) * len(S.SEXES) * max(n_ages, 1) * max(draws, 1)
    by_memory = max(1, budget_bytes // per_area)
    return int(max(1, min(by_memory, balanced_chunk_size(n_areas, workers), n_areas)))


# ------------------------------------------------------------------------------------------
# executors

_SHARED: dict[str, Any] = {}


def _init_worker(shared: Mapping[str, Any]) -> None:
    """Process-pool initializer: keep the shared inputs once per worker process."""
    _SHARED.clear()
    _SHARED.update(shared)


def _call_shared(func: Callable, task: Any) -> Any:
    return func(task, **_SHARED)


def _call(func: Callable, task: Any, **shared: Any) -> Any:
    return func(task, **shared)


def _check_options(executor: str, workers: int | None, address: str | None) -> None:
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}; got '{executor}'")
    if workers is not None and int(workers) < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if address is not None and executor != "dask":
        raise ValueError(f"--address {address} needs --executor dask (got '{executor}')")


def _fail(index: int, task: Any, exc: BaseException) -> ChunkError:
    cls = ChunkInputError if isinstance(exc, ValueError) else ChunkError
    return cls(f"{_describe(index, task)} failed: {type(exc).__name__}: {exc}")


def _run_serial(func, tasks, shared):
    out = []
    for i, task in enumerate(tasks):
        try:
            out.append(func(task, **shared))
        except Exception as exc:
            raise _fail(i, task, exc) from exc
    return out


def _run_local(func, tasks, shared, workers):
    ctx = multiprocessing.get_context("spawn")
    n = min(workers or os.cpu_count() or 1, max(len(tasks), 1))
    pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_init_worker,
                               initargs=(dict(shared),))
    try:
        futures = [pool.submit(_call_shared, func, task) for task in tasks]
        out = []
        for i, (task, fut) in enumerate(zip(tasks, futures, strict=True)):
            try:
                out.append(fut.result())
            except Exception as exc:
                raise _fail(i, task, exc) from exc
        return out
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run_dask(func, tasks, shared, workers, address):
    from dask.distributed import Client, LocalCluster

    cluster = None
    if address:
        try:
            client = Client(address, timeout=DASK_CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"cannot reach the Dask scheduler at {address} ({exc}); start one "
                             "(`dask scheduler`, then `dask worker ADDRESS` on each machine) or "
                             "omit --address to use a LocalCluster") from exc
    else:
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                               processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)
        client = Client(cluster)
    try:
        # scatter([v]) sends v as one object even when it is a list or dict
        remote = {k: client.scatter([v], broadcast=True)[0] for k, v in shared.items()}
        run = uuid.uuid4().hex[:8]
        futures = [client.submit(_call, func, task, key=f"njforecast-{run}-{i}", pure=False,
                                 **remote) for i, task in enumerate(tasks)]
        out = []
        try:
            for i, (task, fut) in enumerate(zip(tasks, futures, strict=True)):
                try:
                    out.append(fut.result())
                except Exception as exc:
                    raise _fail(i, task, exc) from exc
                fut.release()
        finally:
            client.cancel(futures)
        return out
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_tasks(func: Callable[..., Any], tasks: Sequence[Any], *, executor: str = "local",
              workers: int | None = None, address: str | None = None,
              shared: Mapping[str, Any] | None = None) -> list:
    """Run ``func(task, **shared)`` for every task; return the results in task order.

    Args:
        func: a module-level (picklable) function of one task and the shared keyword inputs.
        tasks: picklable task descriptions (e.g. :class:`Task` or lists of items).
        executor: "serial", "local" (process pool, default) or "dask".
        workers: processes (local) or worker processes of the Dask ``LocalCluster``; default
            ``os.cpu_count()``. Ignored when ``address`` names an existing cluster.
        address: scheduler address of an existing Dask cluster (``tcp://host:8786``); only with
            ``executor="dask"``.
        shared: large inputs every task needs (sent once per worker, not once per task).

    A single task with ``executor="local"`` runs in the calling process (a pool would only add
    start-up time; the numbers are the same).

    Returns:
        ``[func(tasks[0], **shared), func(tasks[1], **shared), ...]``.

    Raises:
        ValueError: unknown executor, workers < 1, an address without ``executor="dask"``, or
            no Dask scheduler reachable at ``address``.
        ChunkError: a task raised; the message names the task and the original error (chained).
    """
    _check_options(executor, workers, address)
    tasks = list(tasks)
    shared = dict(shared or {})
    if not tasks:
        return []
    if executor == "serial" or (executor == "local" and len(tasks) == 1):
        return _run_serial(func, tasks, shared)
    if executor == "local":
        return _run_local(func, tasks, shared, workers)
    return _run_dask(func, tasks, shared, workers, address)


def map_chunks(func: Callable[..., Any], items: Sequence, chunk_size: int, *,
               executor: str = "local", workers: int | None = None, address: str | None = None,
               shared: Mapping[str, Any] | None = None) -> list:
    """Split ``items`` into chunks of ``chunk_size`` and run ``func(chunk, **shared)`` on each.

    Returns the per-chunk results in input order; see :func:`run_tasks` for the options.
    """
    return run_tasks(func, chunked(items, chunk_size), executor=executor, workers=workers,
                     address=address, shared=shared)


# ------------------------------------------------------------------------------------------
# chunked projection


def _project_task(task: Task, *, project: Callable, assumptions: Mapping[str, Any],
                  start_year: int, end_year: int, draws: int, seed: int,
                  project_kwargs: Mapping[str, Any], reduce: Callable | None) -> pd.DataFrame:
    """Worker side: project one chunk of areas under one scenario, then reduce it."""
    years = {"end_year": end_year} if start_year is None else \
        {"start_year": start_year, "end_year": end_year}
    out = project(task.payload, assumptions=assumptions[task.scenario], draws=draws, seed=seed,
                  **years, **project_kwargs)
    if reduce is not None:
        out = reduce(out)
    out.insert(0, S.SCENARIO, task.scenario)
    return out


def project_in_chunks(base_df: pd.DataFrame, assumptions: Any, start_year: int | None,
                      end_year: int, draws: int, seed: int, *, project: Callable,
                      project_kwargs: Mapping[str, Any] | None = None,
                      reduce: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
                      scenarios: Mapping[str, Any] | None = None, chunk_size: int | None = None,
                      n_ages: int = S.OPEN_AGE + 1, executor: str = "local",
                      workers: int | None = None, address: str | None = None) -> pd.DataFrame:
    """Project many areas (e.g. every county of China) split by area chunk × scenario.

    Each task gets only its own areas' base rows; the scenario assumptions, the projection
    function and its options are shared (sent once per worker). A worker calls
    ``project(base_chunk, assumptions=assumptions[scenario], start_year=…, end_year=…,
    draws=…, seed=…, **project_kwargs)`` (``start_year`` only when not None) and then
    ``reduce(result)`` if given, so only reduced frames travel back
    to the driver. With ``project=demography.project_population_summary`` the draws are
    streamed year by year and reduced to mean/lo80/hi80/lo95/hi95 inside the worker, so memory
    grows with areas × years × ages, never × draws; with ``demography.project_population`` pass
    ``reduce=partial(demography.summarise_draws, …)``.

    Args:
        base_df: base population with an ``area`` column (e.g. single ages from
            ``demography.graduate_single_ages``; persons).
        assumptions: the assumptions of a single-scenario run (None when ``scenarios`` given).
        start_year, end_year: first and last projected year (inclusive; None = projection's
            default first year).
        draws: Monte Carlo draws (0 = point projection); ``seed`` seeds them. The projection
            must seed per area (demography does: ``SeedSequence([seed, area])``) for results
            not to depend on the chunking.
        project: the projection function, picklable (module level, or a ``functools.partial``).
        project_kwargs: further keyword arguments of ``project`` (e.g. ``ages``, ``groups``).
        reduce: function applied to each chunk's result in the worker (picklable).
        scenarios: scenario name → assumptions, for a run over several scenarios (each
            scenario × area chunk is one task).
        chunk_size: areas per task (default :func:`default_chunk_size` with ``n_ages``).
        n_ages: ages per area and sex in one chunk's output, for the default chunk size.
        executor, workers, address: see :func:`run_tasks`.

    Returns:
        ``scenario`` followed by the (reduced) projection's columns; rows in task order
        (scenario, then area chunks in the order areas first appear in ``base_df``).
    """
    if S.AREA not in base_df.columns:
        raise ValueError(f"base population has no '{S.AREA}' column; columns are "
                         f"{list(base_df.columns)}")
    if scenarios is not None and assumptions is not None:
        raise ValueError("pass either one assumptions object or a scenarios mapping "
                         "(name → assumptions), not both")
    by_scenario = dict(scenarios) if scenarios is not None else {"": assumptions}
    if not by_scenario:
        raise ValueError("the scenarios mapping is empty; give at least one scenario")
    base = base_df.assign(**{S.AREA: base_df[S.AREA].astype(str)})
    areas = list(pd.unique(base[S.AREA]))
    if chunk_size is None:
        n_workers = 1 if executor == "serial" else (workers or os.cpu_count() or 1)
        first = start_year if start_year is not None else end_year
        chunk_size = default_chunk_size(len(areas), end_year - first + 1, n_ages, draws,
                                        n_workers)
    groups = dict(tuple(base.groupby(S.AREA, sort=False)))
    tasks = [Task(t.index, t.scenario, t.areas,
                  pd.concat([groups[a] for a in t.areas], ignore_index=True))
             for t in make_tasks(areas, chunk_size, list(by_scenario))]
    shared = {"project": project, "assumptions": by_scenario, "start_year": start_year,
              "end_year": end_year, "draws": draws, "seed": seed,
              "project_kwargs": dict(project_kwargs or {}), "reduce": reduce}
    parts = run_tasks(_project_task, tasks, executor=executor, workers=workers,
                      address=address, shared=shared)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
