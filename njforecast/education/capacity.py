"""School places against projected enrolment, by area, seat level and year.

Public functions:
    base_capacity(base_enrol, rule, utilisation)
                                              estimated places at the base year
    seat_path(base_cap, seats_df, region, years, ...)
                                              places by year: base + planned new places phased in
    compare_capacity(enrol_df, seats_df, base_cap, region, ...)
                                              capacity frame: seats, enrolment, utilisation, status
    capacity_years(cap_df)                    years each area is over / under capacity
    capacity_status(utilisation)              over / at / under / n/a from utilisation (percent)
    summarise_capacity(cap_df)                capacity over draws: means, 80 % band, status of the
                                              mean utilisation and p_over (share of draws over)

Capacity frame (DESIGN §4): area, year, level[, draw], seats (places), enrolment (persons),
utilisation (percent = enrolment / seats × 100), status (over / at / under), quality.
Seat levels follow plan box 6: preschool, compulsory (primary + junior), senior_general,
secondary_vocational. Units without population (city-run schools 市本级, high-tech zone) follow
the region file's ``[allocation]``: "city" counts their places only in the city total; "own"
keeps them as rows with places and no enrolment (utilisation not computed).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import schema as S
from ..areas import Region, aggregate_to_parent

SEAT_LEVEL = {"preschool": "preschool", "primary": "compulsory", "junior": "compulsory",
              "senior_general": "senior_general", "secondary_vocational": "secondary_vocational"}
SEAT_LEVELS = ("preschool", "compulsory", "senior_general", "secondary_vocational")
#: Utilisation within this many points of 100 % counts as "at" capacity.
AT_TOLERANCE = 1e-6


def _draw_keys(df: pd.DataFrame) -> list[str]:
    return [S.DRAW] if S.DRAW in df.columns else []


def _to_seat_levels(enrol_df: pd.DataFrame) -> pd.DataFrame:
    e = enrol_df.assign(**{S.LEVEL: enrol_df[S.LEVEL].map(SEAT_LEVEL)})
    e = e[e[S.LEVEL].notna()]
    keys = [S.AREA, S.YEAR, S.LEVEL, *_draw_keys(e)]
    return e.groupby(keys, sort=True)[S.ENROLMENT].sum().reset_index()


def base_capacity(base_enrol: pd.DataFrame, rule: str = "enrolment",
                  utilisation: float = 100.0) -> pd.DataFrame:
    """Places at the base year (not published: a stated estimate).

    Rule ``"enrolment"``: seats0 = base enrolment / (utilisation / 100) with the base
    utilisation a named assumption (default 100 %: schools exactly full at the base).

    Args:
        base_enrol: base-year enrolment (area, level, enrolment; levels as in the enrolment
            frame), county rows, no draws.

    Returns:
        Columns area, level (seat level), seats (places), quality ("estimated").
    """
    if rule != "enrolment":
        raise ValueError(f"[capacity] base rule must be 'enrolment', got {rule!r}")
    if not utilisation > 0:
        raise ValueError(f"[capacity] base_utilisation must be > 0 percent, got {utilisation}")
    e = base_enrol.assign(**{S.LEVEL: base_enrol[S.LEVEL].map(SEAT_LEVEL)})
    out = e.groupby([S.AREA, S.LEVEL], sort=True)[S.ENROLMENT].sum().reset_index()
    out[S.SEATS] = out.pop(S.ENROLMENT) / (utilisation / 100.0)
    out[S.QUALITY] = "estimated"
    return out


def _allocation(region: Region, override: Mapping[str, str] | None) -> dict[str, str]:
    """Area code → "city" | "own" for the region's units without population."""
    rules = {**region.allocation, **dict(override or {})}
    out = {}
    for a in region.areas:
        if a.code == region.code or a.census:
            continue
        rule = rules.get(a.kind)
        if rule not in ("city", "own"):
            raise ValueError(f"{region.path}: [allocation] {a.kind} = {rule!r}; set it to "
                             "'city' or 'own' for unit {a.code} ({a.name_en})")
        out[a.code] = rule
    return out


def seat_path(base_cap: pd.DataFrame, seats_df: pd.DataFrame, region: Region, years,
              period: tuple[int, int], phase_in: str = "linear") -> pd.DataFrame:
    """Places by area, seat level and year: base + planned new places.

    seats(a, t) = seats0(a) + new(a) × φ(t), with φ the phased share of the plan's new places:
    ``"linear"``: φ(t) = clip((t − start + 1) / (end − start + 1), 0, 1) (equal fifths, the
    first fifth in school year 2021); ``"end"``: φ(t) = 1 for t ≥ end, else 0.
    Units without population get rows of their own (base 0).

    Returns:
        Columns area, year, level, seats, quality ("estimated").
    """
    start, end = int(period[0]), int(period[1])
    yrs = np.array(sorted(int(y) for y in years))
    if phase_in == "linear":
        phi = np.clip((yrs - start + 1) / (end - start + 1), 0, 1)
    elif phase_in == "end":
        phi = (yrs >= end).astype(float)
    else:
        raise ValueError(f"[capacity] phase_in must be 'linear' or 'end', got {phase_in!r}")
    new = seats_df.groupby([S.AREA, S.LEVEL])[S.SEATS].sum()
    base = base_cap.set_index([S.AREA, S.LEVEL])[S.SEATS]
    idx = base.index.union(new.index)
    b = base.reindex(idx, fill_value=0.0).to_numpy()
    n = new.reindex(idx, fill_value=0.0).to_numpy()
    vals = b[:, None] + n[:, None] * phi[None, :]
    out = pd.DataFrame(vals, index=idx, columns=yrs).stack().rename(S.SEATS).reset_index()
    out.columns = [S.AREA, S.LEVEL, S.YEAR, S.SEATS]
    out[S.QUALITY] = "estimated"
    return out[[S.AREA, S.YEAR, S.LEVEL, S.SEATS, S.QUALITY]]


def compare_capacity(enrol_df: pd.DataFrame, seats_df: pd.DataFrame, base_cap: pd.DataFrame,
                     region: Region, period: tuple[int, int], phase_in: str = "linear",
                     allocation: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Utilisation of places by area, seat level and year (and draw).

    utilisation = enrolment / seats × 100 (percent); status "over" above 100 %, "under" below,
    "at" within :data:`AT_TOLERANCE`. The city's places are the sum of all units' places
    (territorial areas + city-run schools + high-tech zone) and its enrolment the sum of its
    areas, draw by draw.

    Args:
        enrol_df: enrolment frame (county rows used; a city row is recomputed).
        seats_df: planned new places (:func:`njforecast.io.plan.load_seats`: area, level, seats).
        base_cap: :func:`base_capacity` output.
        region: the region (``[allocation]`` for units without population).
        phase_in, period: see :func:`seat_path`.
        allocation: overrides of the region's allocation rules ({kind: "city" | "own"}).

    Returns:
        Capacity frame: area, year, level[, draw], seats, enrolment, utilisation, status,
        quality.
    """
    alloc = _allocation(region, allocation)
    counties = [a.code for a in region.counties]
    unknown = sorted(set(seats_df[S.AREA]) - set(counties) - set(alloc))
    if unknown:
        raise ValueError(f"planned seats: unknown area(s) {unknown} for region {region.slug}")
    years = sorted(int(y) for y in enrol_df[S.YEAR].unique())
    sp = seat_path(base_cap, seats_df, region, years, period, phase_in)
    e = _to_seat_levels(enrol_df[enrol_df[S.AREA].isin(counties)])
    dk = _draw_keys(e)
    if dk:
        draws = pd.DataFrame({S.DRAW: np.sort(e[S.DRAW].unique())})
        sp = sp.merge(draws, how="cross")
    keys = [S.AREA, S.YEAR, S.LEVEL, *dk]
    m = sp.drop(columns=S.QUALITY).merge(e, on=keys, how="outer")
    m[S.SEATS] = m[S.SEATS].fillna(0.0)
    m[S.ENROLMENT] = m[S.ENROLMENT].fillna(0.0)
    m = aggregate_to_parent(m[[*keys, S.SEATS, S.ENROLMENT]], region, [S.SEATS, S.ENROLMENT],
                            [S.YEAR, S.LEVEL, *dk])
    m = m[~m[S.AREA].isin([c for c, r in alloc.items() if r == "city"])]
    nopop = m[S.AREA].isin(list(alloc))
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where(m[S.SEATS] > 0, m[S.ENROLMENT] / m[S.SEATS] * 100.0,
                     np.where(m[S.ENROLMENT] > 0, np.inf, np.nan))
    m[S.UTILISATION] = np.where(nopop, np.nan, u)
    m[S.STATUS] = capacity_status(m[S.UTILISATION])
    m[S.QUALITY] = "estimated"
    return m.sort_values(keys, kind="stable").reset_index(drop=True)


def capacity_status(utilisation) -> np.ndarray:
    """Status of utilisation u (percent): "over" if u > 100 + :data:`AT_TOLERANCE`, "under"
    if u < 100 − tolerance, "at" otherwise, "n/a" where u is missing (units without pupils)."""
    u = pd.Series(utilisation, dtype=float)
    return np.select([u > 100 + AT_TOLERANCE, u < 100 - AT_TOLERANCE, u.notna()],
                     ["over", "under", "at"], default="n/a")


def summarise_capacity(cap_df: pd.DataFrame) -> pd.DataFrame:
    """The capacity frame over draws (the ``capacity.csv`` table).

    By area, year and seat level: mean seats, enrolment and utilisation (percent) over draws,
    utilisation_lo80 / _hi80 (10th / 90th percentiles), ``status`` of the *mean* utilisation
    (:func:`capacity_status`) and ``p_over`` = share of draws with utilisation above 100 %
    (NaN where utilisation is not computed). Without draws, p_over is 0 or 1.
    Status is never taken from a single draw.
    """
    keys = [S.AREA, S.YEAR, S.LEVEL]
    over = (cap_df[S.UTILISATION] > 100 + AT_TOLERANCE).astype(float).where(
        cap_df[S.UTILISATION].notna())
    c = cap_df.assign(**{S.P_OVER: over})
    g = c.groupby(keys, sort=True)
    out = g[[S.SEATS, S.ENROLMENT, S.UTILISATION]].mean()
    if S.DRAW in cap_df.columns:
        out[f"{S.UTILISATION}_lo80"] = g[S.UTILISATION].quantile(0.1)
        out[f"{S.UTILISATION}_hi80"] = g[S.UTILISATION].quantile(0.9)
    out[S.P_OVER] = g[S.P_OVER].mean()
    out[S.STATUS] = capacity_status(out[S.UTILISATION].to_numpy())
    if S.QUALITY in cap_df.columns:
        out[S.QUALITY] = g[S.QUALITY].first()
    return out.reset_index()


def capacity_years(cap_df: pd.DataFrame) -> pd.DataFrame:
    """Years each area and seat level is over or under capacity.

    With draws, a year counts as over capacity when the mean utilisation over draws exceeds
    100 %; ``p_over_max`` gives the largest share of draws over capacity in any year.

    Returns:
        Columns area, level, years_over (e.g. "2021,2022"), n_years_over, first_year_over,
        n_years_under, max_utilisation (percent, of the mean over draws), p_over_max.
    """
    dk = _draw_keys(cap_df)
    c = cap_df[cap_df[S.UTILISATION].notna()]
    if dk:
        g = c.groupby([S.AREA, S.LEVEL, S.YEAR])
        c = g[S.UTILISATION].mean().rename(S.UTILISATION).to_frame()
        c["p_over"] = g[S.UTILISATION].apply(lambda u: float((u > 100 + AT_TOLERANCE).mean()))
        c = c.reset_index()
    else:
        c = c.assign(p_over=(c[S.UTILISATION] > 100 + AT_TOLERANCE).astype(float))
    rows = []
    for (area, level), g in c.groupby([S.AREA, S.LEVEL], sort=True):
        over = g.loc[g[S.UTILISATION] > 100 + AT_TOLERANCE, S.YEAR].astype(int).tolist()
        under = g.loc[g[S.UTILISATION] < 100 - AT_TOLERANCE, S.YEAR]
        rows.append({S.AREA: area, S.LEVEL: level, "years_over": ",".join(map(str, over)),
                     "n_years_over": len(over), "first_year_over": over[0] if over else np.nan,
                     "n_years_under": len(under), "max_utilisation": g[S.UTILISATION].max(),
                     "p_over_max": g["p_over"].max()})
    return pd.DataFrame(rows)
