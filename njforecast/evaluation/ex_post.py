"""Ex-post check of the rate paths: a region's rates projected from an earlier jump-off year
and compared with what was later observed.

Public names:
    EX_POST_INDICATORS, rate_path_ex_post(region, observations, actuals, jump_off, end_year,
    draws, seed, enr) → (table, assumptions), run_ex_post(cfg) → (table, assumptions),
    write_ex_post(table, assumptions, folder).

The check projects the region-level rates the plan targets — preschool GER, senior-stage GER,
nine-year consolidation rate — with the engine's ``trend`` rate path (the method of the
Neijiang baseline; :func:`njforecast.education.rate_paths.rate_multipliers` and
:func:`~njforecast.education.rate_paths.consolidation_values`): from the value observed in the
jump-off year J,

    G_d(t) = clip(G_J + (b + ε_d) · Σ_{i=1..t−J} φ^i, 0, ceiling)        (GERs)
    C_d(t) = clip(min(C_J + b · c(h), max(K, C_J)) + ε_d · c(h), 0, 100)   (consolidation)

with b the region's own annual change over the longest window of at most five years ending
at J that its series holds (the Neijiang baseline uses box 1, 2015→2020; b = 0, a held mean,
when no earlier value is observed), damping φ and drift spread σ (ε_d ~ Normal(0, σ)) from
:func:`~njforecast.education.trend.trend_parameters` / ``consolidation_parameters``, and the
ceilings of :func:`~njforecast.education.trend.trend_ceilings` (``[enrolment]`` damping,
drift_sd and ceilings override them, as in a run). **No look-ahead**: every parameter is
estimated from observations dated J or earlier; observations after J are only the actuals.
Intervals are the draws' central 80 % / 95 % (:func:`njforecast.engine.summaries.summarise`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .. import schema as S
from ..areas import Region, load_region
from ..config import RunConfig, raw_dir
from ..education import enrolment as en
from ..engine.summaries import summarise
from ..io import store

#: target id → (observation indicator, key of its trend parameters and shocks).
EX_POST_INDICATORS = {"preschool_ger_3y": ("preschool_ger_pct", "preschool"),
                      "senior_stage_ger": ("senior_stage_ger_pct", "senior"),
                      en.CONSOLIDATION: ("compulsory_consolidation_pct", en.CONSOLIDATION)}

COLUMNS = [S.AREA, S.INDICATOR, S.YEAR, S.ACTUAL, S.MEAN, S.LO80, S.HI80, S.LO95, S.HI95,
           "inside_80", "inside_95", "jump_off_value", "slope", "slope_window"]


def _series(obs: pd.DataFrame, area: str, indicator: str) -> pd.Series:
    o = obs[(obs[S.AREA].astype(str) == area) & (obs[S.INDICATOR] == indicator)]
    if S.PREFERRED in o.columns:
        o = o[o[S.PREFERRED].astype(bool)]
    return o.groupby(S.YEAR)[S.VALUE].first().astype(float)


def _slope(s: pd.Series, jump_off: int) -> tuple[float, int]:
    """(annual change over the longest window ≤ 5 years ending at J, window); (0, 0) if none."""
    for w in range(en.TREND_WINDOW, 0, -1):
        if jump_off - w in s.index:
            return (float(s[jump_off]) - float(s[jump_off - w])) / w, w
    return 0.0, 0


def _parameters(cal: pd.DataFrame, key: str, enr: Mapping) -> tuple[float, float, str]:
    """(damping, drift sd, source) for a band or the consolidation rate."""
    pre = "consolidation_" if key == en.CONSOLIDATION else ""
    if f"{pre}damping" in enr and f"{pre}drift_sd" in enr:
        return float(enr[f"{pre}damping"]), float(enr[f"{pre}drift_sd"]), "config"
    source = "national rate series (pooled)"
    if key == en.CONSOLIDATION:
        try:
            p = en.consolidation_parameters(cal)
            source = "national consolidation series"
        except ValueError:  # its window pairs end after J: the pooled series instead
            p = en.trend_parameters(cal)
            source = "national rate series (pooled; the consolidation-only windows end after J)"
    else:
        p = en.trend_parameters(cal)
    return (float(enr.get(f"{pre}damping", p["damping"])),
            float(enr.get(f"{pre}drift_sd", p["drift_sd"])),
            f"{source}: {p['n_windows']} windows ending ≤ J")


def rate_path_ex_post(region: Region, observations: pd.DataFrame, actuals: pd.DataFrame,
                      jump_off: int, end_year: int, draws: int, seed: int,
                      enr: Mapping | None = None) -> tuple[pd.DataFrame, list[tuple]]:
    """Project the region's rates from ``jump_off`` and compare with the actuals (module
    formulas).

    Args:
        region: the region (its code is the area checked).
        observations: observed series (bundled and others); only years ≤ ``jump_off`` are used.
        actuals: observed series whose rows after ``jump_off`` (≤ ``end_year``) are the actuals.
        jump_off, end_year: first and last year of the paths.
        draws: number of draws (≥ 2 for intervals); seed: the drift shocks' seed.
        enr: ``[enrolment]`` overrides (damping, drift_sd, consolidation_damping,
            consolidation_drift_sd, ceilings {band or compulsory_consolidation_rate: percent}).

    Returns:
        (table with :data:`COLUMNS`, one row per indicator and year with an actual; assumption
        rows (name, value, quality, note)).

    Raises:
        ValueError: an indicator has no observed value in the jump-off year, or draws < 2.
    """
    enr = dict(enr or {})
    if draws < 2:
        raise ValueError(f"ex-post check: draws must be at least 2 for intervals, got {draws}")
    both = pd.concat([observations, actuals], ignore_index=True)
    cal = both[both[S.YEAR].astype(int) <= jump_off]
    ceilings = dict(enr.get("ceilings", {}))
    if not {"preschool", "senior", en.CONSOLIDATION} <= set(ceilings):
        ceilings = {**en.trend_ceilings(cal, province=region.province), **ceilings}
    years = np.arange(jump_off, end_year + 1)
    h = (years - jump_off).astype(float)
    ids = np.arange(draws)
    rows, notes = [], []
    for ind, (obs_ind, key) in EX_POST_INDICATORS.items():
        s = _series(cal, region.code, obs_ind)
        if jump_off not in s.index:
            raise ValueError(f"ex-post check: no {obs_ind} for area {region.code} in the "
                             f"jump-off year {jump_off}; add it to the observations")
        v0 = float(s[jump_off])
        b, w = _slope(s, jump_off)
        phi, sd, src = _parameters(cal, key, enr)
        shocks = en.drift_shocks(ids, sd, seed, en.BAND_GER.get(key, key))
        if key == en.CONSOLIDATION:
            top = float(ceilings[en.CONSOLIDATION])
            path = en.consolidation_values(v0, years, slope=b, damping=phi, ceiling=top,
                                           draw_ids=ids, shocks=shocks)
        else:
            top = max(float(ceilings.get(key, 100.0)), v0)  # a unit above its ceiling is held
            path = en.damped_trend(v0, b + shocks, h, phi, 0.0, top)
        notes.append((f"ex_post_{ind}", f"{v0:g} in {jump_off}", "observed",
                      f"slope {b:+.3f} points a year over {w} years"
                      f"{'' if w else ' (no earlier value: mean held)'}; damping {phi:.3f}, "
                      f"drift sd {sd:.3f} ({src}); ceiling {top:g}"))
        act = _series(actuals[actuals[S.YEAR].astype(int) > jump_off], region.code, obs_ind)
        for y, a in act.items():
            if int(y) > end_year:
                continue
            summ = summarise(path[:, int(y) - jump_off])
            rows.append({S.AREA: region.code, S.INDICATOR: ind, S.YEAR: int(y), S.ACTUAL: a,
                         **{k: float(v) for k, v in summ.items()},
                         "inside_80": bool(summ[S.LO80] <= a <= summ[S.HI80]),
                         "inside_95": bool(summ[S.LO95] <= a <= summ[S.HI95]),
                         "jump_off_value": v0, "slope": b, "slope_window": w})
    return pd.DataFrame(rows, columns=COLUMNS), notes


def run_ex_post(cfg: RunConfig) -> tuple[pd.DataFrame, list[tuple]]:
    """The ``[ex_post]`` check of a config: its region, ``jump_off`` (a year), ``end_year``,
    draws, seed and ``[enrolment]`` overrides; the bundled observations and the actuals file
    ``[ex_post] actuals`` (observations layout, path under ``data/raw``).

    Raises:
        ValueError: ``jump_off`` is not a year.
        DataError: the actuals file is missing or has unknown areas.
    """
    if not isinstance(cfg.jump_off, int):
        raise ValueError(f"{cfg.path or 'config'}: an [ex_post] check needs jump_off = YEAR "
                         "(the year the paths start from; later observations are actuals)")
    sec = cfg.section("ex_post")
    path = raw_dir() / sec["actuals"]
    if not path.is_file():
        raise store.DataError(f"{cfg.path or 'config'}: [ex_post] actuals = "
                              f"{sec['actuals']!r} not found under {raw_dir()}")
    table, notes = rate_path_ex_post(load_region(cfg.region), store.load_observations(),
                                     store.load_observations([path]), cfg.jump_off,
                                     cfg.end_year, cfg.draws, cfg.seed, cfg.section("enrolment"))
    notes.append(("ex_post_actuals", sec["actuals"], "observed", "rows after the jump-off year"))
    return table, notes


def write_ex_post(table: pd.DataFrame, assumptions: list[tuple], folder: str | Path) -> Path:
    """Write ``ex_post.csv`` and ``ex_post_assumptions.csv`` into ``folder`` (each to a temp
    file, then renamed). Returns the table's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frames = {"ex_post.csv": table,
              "ex_post_assumptions.csv": pd.DataFrame(assumptions,
                                                      columns=["name", S.VALUE, S.QUALITY,
                                                               "note"])}
    for name, df in frames.items():
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        os.close(fd)
        df.to_csv(tmp, index=False)
        os.replace(tmp, folder / name)
    return folder / "ex_post.csv"
