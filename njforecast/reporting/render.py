"""A run's figures: which ones, and drawing them in worker processes while the caller writes
the tables.

Public names:
    FigureJob                       one figure: file stem, caption, layout, drawing function
    figure_jobs(results, gaps_df, lang, fig_lang, fan_indicators, tables, years)
                                    the report's figures → ([FigureJob], note on skipped panels)
    start_rendering(jobs, workers)  begin drawing; ``.result()`` → {stem: {"png", "svg"}}

Drawing a figure is CPU-bound Python (matplotlib), so the first share of the figures is drawn in
``workers`` forked processes (they inherit the loaded pandas and matplotlib; ``spawn`` would
import them again, ~1.5 s per worker) while the calling process writes CSV and Excel and then
draws the rest. Shares are balanced by an estimate of each job's drawing cost. The output bytes
do not depend on which process drew a figure (SVG ids use a fixed salt, PNGs carry no date).
Forking is only done from a single-threaded process (a thread holding a lock at the fork would
leave it locked in the child; the CLI's process has only its main thread when it writes the
report); otherwise, without ``fork`` (Windows) or with ``workers`` 0 every figure is drawn in
the calling process.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace

import pandas as pd

from .. import schema as S
from ..planning.targets import BASIS_CITY_COPY, SCOPE_CITY_APPLIED
from .labels import label


@dataclass(frozen=True)
class FigureJob:
    """One figure: ``figures.<func>(**kwargs)`` saved as ``<stem>.png`` and ``<stem>.svg``."""

    stem: str
    caption: str
    func: str
    kwargs: dict = field(repr=False)
    wide: bool = False
    cost: float = 1.0  # relative drawing time, for balancing workers
    note: str = ""  # printed small at the foot of the figure (the run's estimated inputs)


def _county_scope(gaps_df) -> pd.Series:
    """True for the rows whose scope is a county's; a scope column with no text at all (no
    row compared, read as floats) is no county's."""
    return gaps_df[S.SCOPE].astype("string").str.startswith("county").fillna(False).astype(bool)


def _is_city_copy(gaps_df, ind: str) -> bool:
    """True when no county has a projection of its own for ``ind``: the counties carry the
    city's rate (one "city assumption applied to counties" row, or county rows whose basis says
    so)."""
    rows = gaps_df[gaps_df[S.INDICATOR] == ind]
    own = rows[_county_scope(rows)]
    applied = (rows[S.SCOPE] == SCOPE_CITY_APPLIED).any()
    if len(own) == 0:
        return bool(applied)
    return S.BASIS in own.columns and bool((own[S.BASIS] == BASIS_CITY_COPY).all())


def figure_jobs(results, gaps_df, lang: str, fig_lang: str, fan_indicators, tables,
                years: tuple[int, int]) -> tuple[list[FigureJob], str]:
    """The report's figures, in report order.

    Fan charts of the city's target indicators; county small multiples only for indicators
    whose county values are the county's own (rows whose basis is "city rate applied" would
    repeat the city's panel, so they are left out and named in the returned note); what
    differs by county (enrolment change from ``years[0]`` to ``years[1]`` and seat utilisation
    in ``years[1]``); seat utilisation; teacher demand and supply.
    """
    region = results.region
    city = region.code
    names = region.names("zh" if fig_lang == "zh" else "en")
    text_names = region.names(lang)
    ind_zh = dict(zip(gaps_df[S.INDICATOR], gaps_df[S.INDICATOR_ZH], strict=True)) \
        if S.INDICATOR_ZH in gaps_df.columns else {}
    fig_ind = ind_zh if fig_lang == "zh" else None

    def ind_name(ind: str) -> str:
        return (ind_zh.get(ind) if lang == "zh" else None) or label(ind, lang)

    projectable = gaps_df[gaps_df[S.N_DRAWS].fillna(0) > 0]
    fan = list(fan_indicators) if fan_indicators is not None else \
        list(dict.fromkeys(projectable[S.INDICATOR]))
    county_inds = set(gaps_df.loc[_county_scope(gaps_df)
                                  | (gaps_df[S.SCOPE] == SCOPE_CITY_APPLIED), S.INDICATOR])
    ts = results.target_summary()
    jobs, copies = [], []
    counties = [a.code for a in region.counties]
    for ind in fan:
        t = gaps_df[(gaps_df[S.INDICATOR] == ind) & (gaps_df[S.AREA] == city)]
        tval = float(t[S.TARGET].iloc[0]) if len(t) else None
        tyear = int(t[S.TARGET_YEAR].iloc[0]) if len(t) else None
        d = ts[ts[S.INDICATOR] == ind]
        jobs.append(FigureJob(
            f"fan_{ind}", f"{text_names.get(city, city)}: {ind_name(ind)}", "fan_chart",
            dict(summary_df=d[d[S.AREA] == city], indicator=ind, area=city, lang=fig_lang,
                 target=tval, target_year=tyear, observed_df=results.observed_targets(),
                 area_names=names, indicator_names=fig_ind)))
        if ind in county_inds:
            if _is_city_copy(gaps_df, ind):
                copies.append(ind_name(ind))
                continue
            jobs.append(FigureJob(
                f"counties_{ind}", f"{ind_name(ind)} — {'各区县' if lang == 'zh' else 'by county'}",
                "county_multiples", dict(summary_df=d, indicator=ind, areas=counties,
                                         lang=fig_lang, target=tval, area_names=names,
                                         indicator_names=fig_ind), cost=2.5))
    enrol, cap = tables.get("enrolment"), tables.get("capacity")
    if enrol is not None and cap is not None and len(counties) > 1 \
            and {years[0], years[1]} <= set(enrol[S.YEAR]):
        jobs.append(FigureJob(
            "counties_enrolment_utilisation",
            label("county_title", lang) + f" ({years[0]}–{years[1]})", "county_change_chart",
            dict(enrolment_df=enrol, capacity_df=cap, areas=counties, start=years[0],
                 end=years[1], lang=fig_lang, area_names=names), wide=True, cost=1.5))
    if results.capacity is not None and len(results.capacity):
        jobs.append(FigureJob("capacity_utilisation", label("capacity_title", lang),
                              "capacity_chart", dict(capacity_df=cap if cap is not None
                                                     else results.capacity, lang=fig_lang,
                                                     area_names=names), wide=True, cost=2.5))
    teach = results.teachers
    if teach is not None and len(teach):
        jobs.append(FigureJob("teachers_demand_supply", label("teachers_title", lang),
                              "teachers_chart", dict(teachers_df=teach[teach[S.AREA] == city],
                                                     area=city,
                                                     lang=fig_lang, area_names=names),
                              wide=True, cost=3.5))
    note = label("city_copy_note", lang).format(inds=("、" if lang == "zh" else ", ").join(
        copies)) if copies else ""
    if any(S.QUALITY in t.columns and (t[S.QUALITY] == "estimated").any()
           for t in tables.values() if isinstance(t, pd.DataFrame)):
        # a figure travels alone (slides, reports): it says its inputs are partly estimated
        jobs = [replace(j, note=label("estimated_figure_note", fig_lang)) for j in jobs]
    return jobs, note


def _draw(jobs: list[FigureJob]) -> list[tuple[str, dict[str, bytes]]]:
    from . import figures

    return [(j.stem, figures.save_figure_bytes(figures.foot_note(
        getattr(figures, j.func)(**j.kwargs), j.note))) for j in jobs]


def _split(jobs: list[FigureJob], workers: int, local_cost: float
           ) -> tuple[list[list[FigureJob]], list[FigureJob]]:
    """Shares for ``workers`` worker processes and for the calling process, which first spends
    ``local_cost`` (in job-cost units) on other work: longest job first to the least loaded
    process (Graham's LPT rule, within 4/3 of the best balance). Shares keep report order."""
    loads = [0.0] * workers + [local_cost]
    owner = {}
    for k in sorted(range(len(jobs)), key=lambda k: -jobs[k].cost):
        b = min(range(len(loads)), key=lambda b: (loads[b], b))
        owner[k] = b
        loads[b] += jobs[k].cost
    shares = [[j for k, j in enumerate(jobs) if owner[k] == b] for b in range(workers)]
    return [s for s in shares if s], [j for k, j in enumerate(jobs) if owner[k] == workers]


class _Rendering:
    def __init__(self, jobs: list[FigureJob], workers: int, local_cost: float):
        self._pool, self._futures, self._local = None, [], list(jobs)
        if (workers >= 1 and len(jobs) > 1 and threading.active_count() == 1
                and "fork" in multiprocessing.get_all_start_methods()):
            from . import figures

            figures._plt("en")  # import matplotlib once, before the fork, for every process
            shares, self._local = _split(jobs, workers, local_cost)
            self._pool = ProcessPoolExecutor(len(shares),
                                             mp_context=multiprocessing.get_context("fork"))
            self._futures: list[Future] = [self._pool.submit(_draw, s) for s in shares]

    def result(self) -> dict[str, dict[str, bytes]]:
        """{stem: {"png": bytes, "svg": bytes}}: this process draws its share, then collects
        the workers'."""
        try:
            mine = _draw(self._local)
            return dict([*(pair for f in self._futures for pair in f.result()), *mine])
        finally:
            if self._pool is not None:
                self._pool.shutdown(cancel_futures=True)


def start_rendering(jobs: list[FigureJob], workers: int = 1, local_cost: float = 4.0
                    ) -> _Rendering:
    """Start drawing ``jobs`` in ``workers`` forked processes; the calling process draws the
    remaining jobs when ``.result()`` is called, after about ``local_cost`` units of its own
    work (a fan chart is 1 unit, ~0.2 s; the CSV files and workbook ~4). ``workers`` 0: all in
    this process."""
    return _Rendering(jobs, workers, local_cost)
