"""What the planner's page shows for one scenario, computed from the projection's arrays.

Public functions:
    comparison_years(targets_df, base_year, end_year)   years the target table compares
    target_draws(results, years)         the plan-target indicators' draws in ``years`` (long frame)
    target_table(results, targets_df, years)   target gaps (``compare_to_targets``) for ``years``
    area_targets(draws_df, targets_df, years, area, city)   one area's target-table rows
    scenario_answer(results, targets_df, observed_df)   everything the page draws, every area
    for_area(answer, area, targets_df)   the part of an answer one area's page needs

Charts read the :class:`~njforecast.engine.project.Projection` arrays through
:func:`njforecast.engine.summarise` (mean, 80 % and 95 % intervals over draws), the same
summaries ``Results.projection_summary()`` gives, so the page shows the numbers of
``njforecast scenario run``. No long frame with a draw column is built except the plan-target
draws of the compared years (``target_draws``): the full ``Results.target_series`` holds every
indicator in every year and costs more than the page's latency budget.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from .. import schema as S
from ..engine.summaries import QUANTILES
from ..planning.targets import SCOPE_CITY_APPLIED, compare_to_targets

#: Columns of the target table the page shows (the CSV/Excel download has every column).
TABLE_COLUMNS = (S.AREA, S.INDICATOR, S.INDICATOR_ZH, S.YEAR, S.TARGET_YEAR, S.TARGET, S.COMPARISON,
                 S.UNIT, S.PROJECTED_MEAN, S.PROJECTED_LO80, S.PROJECTED_HI80, S.GAP,
                 S.P_MEET, S.STATUS, S.N_DRAWS, S.SCOPE, S.BASIS, S.QUALITY, S.NOTE)


def comparison_years(targets_df: pd.DataFrame, base_year: int, end_year: int) -> list[int]:
    """Years the target table compares: each target year and the horizon's end (as the report).

    Args:
        targets_df: the plan's targets (``target_year`` column).
        base_year, end_year: the projection's first and last year.
    """
    want = {int(y) for y in targets_df[S.TARGET_YEAR].dropna()} | {int(end_year)}
    return sorted(want & set(range(int(base_year), int(end_year) + 1)))


def _floats(x) -> list:
    """A float array as a JSON-safe list (NaN and infinities become None)."""
    return [v if math.isfinite(v) else None for v in np.asarray(x, float).ravel().tolist()]


def _bands(x: np.ndarray, keys=(S.MEAN, S.LO80, S.HI80, S.LO95, S.HI95)) -> dict[str, np.ndarray]:
    """The ``keys`` of :func:`njforecast.engine.summarise` of ``x`` over its last (draw) axis,
    every cell at once (one quantile call per array, not per chart line), computing only the
    quantiles asked for (the same values: ``np.quantile`` at ``QUANTILES``' probabilities)."""
    x = np.asarray(x, dtype=float)
    out = {S.MEAN: x.mean(axis=-1)} if S.MEAN in keys else {}
    probs = [k for k in keys if k in QUANTILES]
    if probs:
        q = np.quantile(x, [QUANTILES[k] for k in probs], axis=-1)
        out.update({k: q[i] for i, k in enumerate(probs)})
    return out


def _pick(bands: dict[str, np.ndarray], *index) -> dict[str, list]:
    """One line of :func:`_bands` (``index`` selects it) as JSON-safe lists."""
    return {k: _floats(v[index]) for k, v in bands.items()}


def _nan_bands(x: np.ndarray) -> dict[str, np.ndarray]:
    """mean, 80 % interval and share of draws over 100 % of a utilisation array (…, d),
    ignoring NaN (units without pupils), as the capacity table of ``Results.tables()`` does.

    Cells whose draws are all finite use one vectorised quantile call (the same linear
    interpolation as ``np.nanquantile``); only cells with some NaN draws go one by one.
    """
    nan = np.isnan(x)
    some, every = nan.any(axis=-1), nan.all(axis=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(x, axis=-1)
        q = np.quantile(np.where(nan, 0.0, x), [0.1, 0.9], axis=-1)
        q[:, every] = np.nan
        for idx in zip(*np.nonzero(some & ~every), strict=True):
            q[(slice(None), *idx)] = np.nanquantile(x[idx], [0.1, 0.9])
        over = np.nanmean(np.where(nan, np.nan, (x > 100 + 1e-6).astype(float)), axis=-1)
    return {S.MEAN: mean, S.LO80: q[0], S.HI80: q[1], S.P_OVER: over}


def target_draws(results, years: list[int]) -> pd.DataFrame:
    """The projected plan-target indicators in ``years``: area, year, indicator, value[, draw],
    quality — the rows of ``results.target_series`` for those years, built from the arrays.

    Args:
        results: a :class:`njforecast.engine.Results`.
        years: years to keep (ints).

    Returns:
        Long frame in the target's unit, with ``attrs["projected_as"]`` as ``target_series``
        sets it (teachers added: ``need`` or ``hires``).
    """
    p = results.projection
    d = max(p.draws, 1)
    col = {int(y): j for j, y in enumerate(p.years)}
    keys: list[tuple[str, int, str, str]] = []  # (area, year, indicator, quality) per block
    blocks: list[np.ndarray] = []  # d draws per block
    for ind in results.target_ids:
        if ind not in p.indicators:
            continue
        v, q, j0 = p.indicators[ind], p.indicator_quality[ind], p.indicator_first[ind]
        for y in years:
            j = col.get(int(y))
            if j is None or j < j0:
                continue
            for a, code in enumerate(p.codes):
                keys.append((code, int(y), ind, str(q[a, j])))
                blocks.append(v[a, j])
    # teachers added over the plan period (the engine's own sums: Results.teachers_added)
    projected_as = {}
    for name, ends, vals in results.teachers_added():
        for k, y in enumerate(ends):
            if int(y) in years:
                keys.append((p.city, int(y), name, "estimated"))
                blocks.append(vals[k])
        projected_as[name] = "hires" if results.fixed_hiring() else "need"
    n = len(keys)
    out = pd.DataFrame({
        S.AREA: np.repeat(np.array([k[0] for k in keys], object), d),
        S.YEAR: np.repeat(np.array([k[1] for k in keys], int), d),
        S.INDICATOR: np.repeat(np.array([k[2] for k in keys], object), d),
        S.VALUE: np.concatenate(blocks).astype(float) if n else np.array([], float),
        S.DRAW: np.tile(np.arange(d), n),
        S.QUALITY: np.repeat(np.array([k[3] for k in keys], object), d)})
    if not p.draws:
        out = out.drop(columns=S.DRAW)
    out.attrs["projected_as"] = projected_as
    return out


def target_table(results, targets_df: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Target gaps for ``years`` (:func:`njforecast.planning.targets.compare_to_targets`, the
    report's call: city first, then the counties in the region's order)."""
    order = [results.region.code, *[a.code for a in results.region.counties]]
    return compare_to_targets(target_draws(results, years), targets_df, years=years,
                              area_order=order)


def area_targets(draws_df: pd.DataFrame, targets_df: pd.DataFrame, years: list[int], area: str,
                 city: str) -> list[dict]:
    """One area's rows of the target table (JSON-safe), from the plan-target draws.

    ``compare_to_targets`` treats each target × area × year on its own (a county row also
    reads the city's draws, to say whether it merely copies them), so comparing only the
    city's and the area's draws gives exactly those rows of the whole table at a fraction of
    the cost.
    """
    d = draws_df[draws_df[S.AREA].isin({city, area})]
    d.attrs = dict(draws_df.attrs)
    gaps = compare_to_targets(d, targets_df, years=years, area_order=[city, area])
    # a county with no series of its own is covered by the one "city assumption" row, shown
    # with the city's row it points to
    applied = gaps[S.SCOPE] == SCOPE_CITY_APPLIED
    city_rows = (gaps[S.AREA] == city) & gaps[S.INDICATOR].isin(gaps.loc[applied, S.INDICATOR]) \
        & (area != city)
    mine = (gaps[S.AREA] == area) | applied | city_rows
    return _records(gaps.loc[mine, list(TABLE_COLUMNS)])


def _records(df: pd.DataFrame) -> list[dict]:
    """Rows as JSON-safe dicts (NaN → None, numpy scalars → Python)."""
    cols = {c: [None if isinstance(v, float) and not math.isfinite(v) else v
                for v in df[c].tolist()] for c in df.columns}
    return [dict(zip(cols, vals, strict=True)) for vals in zip(*cols.values(), strict=True)]


def _target_line(tgt: pd.DataFrame, ind: str) -> dict | None:
    """The plan's target of ``ind`` for a chart: value, year, comparison (None without one)."""
    t = tgt[tgt[S.INDICATOR] == ind]
    if t.empty:
        return None
    return {"value": float(t[S.TARGET].iloc[0]), "year": int(t[S.TARGET_YEAR].iloc[0]),
            "comparison": str(t[S.COMPARISON].iloc[0])}


def scenario_answer(results, targets_df: pd.DataFrame, observed_df: pd.DataFrame) -> dict:
    """Everything the page draws for one scenario, every area: summaries over draws as arrays
    (area first), turned into one area's lists by :func:`for_area`.

    Args:
        results: the scenario's :class:`njforecast.engine.Results`.
        targets_df: the plan's targets (``state.targets``).
        observed_df: observed values of the target indicators (``Results.observed_targets()``).

    Returns:
        dict with ``years``, ``areas`` (counties then the city), ``fan`` (target id → years,
        bands (mean … hi95 arrays, area × year), unit, target), ``observed`` ((area, id) →
        [year, value] pairs), ``enrolment`` (mean, lo80, hi80: area × level × year; pupils),
        ``teachers`` (demand and supply bands, hires: area × year, all levels; teachers),
        ``capacity`` (seat level → unit → mean, lo80, hi80, p_over of utilisation in %, as
        lists: every area's page shows every unit), ``target_draws`` (:func:`target_draws` of
        the compared years), ``assumptions`` (name, value, quality, note) and ``scenario``.
    """
    p = results.projection
    years = [int(y) for y in p.years]
    codes = list(p.codes)
    tgt = targets_df[targets_df[S.TARGET].notna()]
    observed: dict[tuple[str, str], list] = {}
    for a, ind, y, v in zip(observed_df[S.AREA], observed_df[S.INDICATOR], observed_df[S.YEAR],
                            observed_df[S.VALUE], strict=True):
        observed.setdefault((str(a), str(ind)), []).append([int(y), float(v)])
    fan: dict[str, dict] = {}
    for ind in results.target_ids:
        if ind in p.indicators:
            j0 = p.indicator_first[ind]
            fan[ind] = {"years": years[j0:], "bands": _bands(p.indicators[ind][:, j0:]),
                        "unit": p.indicator_units[ind], "target": _target_line(tgt, ind)}
    for name, ends, vals in results.teachers_added():  # city totals: other areas have no line
        fan[name] = {"years": [int(y) for y in ends], "bands": _bands(vals), "unit": "persons",
                     "target": _target_line(tgt, name), "areas": [p.city]}
    from ..engine.project import LEVELS, SEAT_LEVELS

    tch = p.teachers  # field -> (area, level, year, d); all levels summed draw by draw
    teachers = {S.DEMAND: _bands(tch[S.DEMAND].sum(axis=1), (S.MEAN, S.LO80, S.HI80)),
                S.SUPPLY: _bands(tch[S.SUPPLY].sum(axis=1), (S.MEAN, S.LO80, S.HI80)),
                S.HIRES: tch[S.HIRES].sum(axis=1).mean(axis=-1),
                S.HIRES_NEEDED: tch[S.HIRES_NEEDED].sum(axis=1).mean(axis=-1)}
    ub = _nan_bands(p.capacity[S.UTILISATION])  # (unit, seat level, year)
    capacity = {lv: {code: _pick(ub, u, li) for u, code in enumerate(p.capacity_codes)
                     if not bool(p.capacity_nopop[u])}
                for li, lv in enumerate(SEAT_LEVELS)}
    cmp_years = comparison_years(targets_df, years[0], years[-1])
    sc = results.config.section("scenario") or {"name": results.scenario}
    return {"years": years, "areas": codes, "city": p.city, "levels": list(LEVELS),
            "seat_levels": list(SEAT_LEVELS), "fan": fan, "observed": observed,
            "enrolment": _bands(p.enrolment, (S.MEAN, S.LO80, S.HI80)),
            "teachers": teachers, "capacity": capacity, "comparison_years": cmp_years,
            "target_draws": target_draws(results, cmp_years),
            "assumptions": _records(results.assumptions),
            "scenario": {k: (v.item() if hasattr(v, "item") else v) for k, v in sc.items()},
            "draws": int(p.draws), "seed": int(p.seed), "end_year": int(p.end_year)}


def for_area(answer: dict, area: str, targets_df: pd.DataFrame) -> dict:
    """What one area's page shows (JSON-safe): its fan charts (``fan``: id → years, mean …
    hi95, unit, target, observed), enrolment (level → mean, lo80, hi80), teachers (demand and
    supply bands, hires, hires_needed) and target rows (:func:`area_targets`); the seat
    utilisation of every unit (the county comparison), the assumptions and the scenario.

    Raises:
        KeyError: ``area`` is not an area of the answer.
    """
    codes = answer["areas"]
    if area not in codes:
        raise KeyError(area)
    a = codes.index(area)
    fan = {}
    for ind, f in answer["fan"].items():
        if area not in f.get("areas", codes):
            continue
        line = _pick(f["bands"]) if "areas" in f else _pick(f["bands"], a)  # city-only: 1 row
        fan[ind] = {"years": f["years"], **line, "unit": f["unit"],
                    "target": f["target"], "observed": sorted(answer["observed"].get((area, ind),
                                                                                     []))}
    enrol = {lv: _pick(answer["enrolment"], a, li) for li, lv in enumerate(answer["levels"])}
    t = answer["teachers"]
    teachers = {S.DEMAND: _pick(t[S.DEMAND], a), S.SUPPLY: _pick(t[S.SUPPLY], a),
                S.HIRES: _floats(t[S.HIRES][a]), S.HIRES_NEEDED: _floats(t[S.HIRES_NEEDED][a])}
    keep = ("years", "areas", "city", "levels", "seat_levels", "capacity", "comparison_years",
            "assumptions", "scenario", "draws", "seed", "end_year")
    return {**{k: answer[k] for k in keep}, "area": area, "fan": fan, "enrolment": enrol,
            "teachers": teachers,
            "targets": area_targets(answer["target_draws"], targets_df,
                                    answer["comparison_years"], area, answer["city"])}
