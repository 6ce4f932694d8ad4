"""The cohort-component core over arrays, school-year dating, and summaries over draws.

Public names:
    project_arrays(pop0, inputs, n_steps, assumptions, draws, seed)
                                     one census-moment year at a time (area, sex, age[, draw])
    back_step(pop0, inputs, assumptions)   the census taken back one step by reverse survival
    project_population(base_df, ...)       long population frame by area, year, sex, age[, draw]
    project_population_summary(...)        the same streamed by area chunk, draw summaries only
    summarise_draws(df, value_col, by)     mean and 80 %/95 % intervals over ``draw``

Shared with other modules (private, stable): ``_area_draws``, ``_common_fertility_shocks``,
``_school_year``, ``_iter_school_years``, ``_quantile_block``; and the fast path for age
bands, ``_iter_school_ages`` (only the ages a band needs, same numbers) and ``_group_draws``
(group sums of every year, one area at a time), used by the summaries, ``batch`` and
``njforecast.engine.national``.
The step equations are in :func:`project_arrays`; the time convention (1 November census
moment, 1 September school year) in the package docstring.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from .. import schema as S
from .assumptions import AGES, N_AGES, QUANTILES, SEPT_WEIGHT, DemographicAssumptions, stable_int
from .graduation import to_array
from .inputs import DemographicInputs, prepare_inputs


def _area_draws(areas, seed: int, n_steps: int, draws: int, migration_sd: float,
                migration_multiplier: float) -> np.ndarray:
    """Per-area migration multipliers (area, draws), each area from its own seed stream."""
    out = np.empty((len(areas), draws))
    for i, code in enumerate(areas):
        rng = np.random.default_rng(np.random.SeedSequence([seed, stable_int(code)]))
        z = rng.standard_normal(draws)
        out[i] = migration_multiplier * np.exp(migration_sd * z - migration_sd ** 2 / 2)
    return out


def _common_fertility_shocks(seed: int, n_steps: int, draws: int) -> np.ndarray:
    """Fertility shocks shared by all areas (steps, draws): seeded by ``seed`` alone."""
    return _fertility_shocks(seed, n_steps, draws).copy()


@functools.lru_cache(maxsize=4)
def _fertility_shocks(seed: int, n_steps: int, draws: int) -> np.ndarray:
    """:func:`_common_fertility_shocks`, cached and read-only (for projections area by area)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x46455254]))  # "FERT"
    out = rng.standard_normal((n_steps, draws))
    out.flags.writeable = False
    return out


def project_arrays(pop0: np.ndarray, inputs: DemographicInputs, n_steps: int,
                   assumptions: DemographicAssumptions, draws: int = 0, seed: int = 20201101):
    """Cohort-component projection over arrays, one census-moment year at a time.

    Args:
        pop0: base population (area, 2, 101), persons at the census moment.
        inputs: rates for these areas (same order).
        n_steps: number of annual steps.
        assumptions: named assumptions (multipliers and draw spreads).
        draws: 0 for one deterministic path, else the number of draws.
        seed: random seed; areas draw from ``SeedSequence([seed, stable_int(area)])`` and the
            shared fertility shocks from ``SeedSequence([seed, "FERT"])``, so chunking or
            reordering areas gives identical numbers.

    Yields:
        (year, population) for year = census_year+1 … census_year+n_steps; population is
        (area, 2, 101) without draws, else (area, 2, 101, draws). Persons at 1 November.

    The base is first multiplied by ``inputs.base_factor`` where set (coverage correction).
    Step (1 Nov t−1 → 1 Nov t), for ages a = 0..99 and the open age 100:
        P(a+1, t) = P(a, t−1) · s(a) · exp(κ · m(a))   (the open age 100 also keeps its own
        survivors: P(100, t) += P(100, t−1) · s(100) · exp(κ · m(100)))
        P(0, t)   = k · I(t) · Σ_a w(a) · F(a, t) · {male share, 1 − male share}
    with s the annual survival, m the annual net-migration log factor, κ the migration
    multiplier (per draw), k the area's fertility ratio, I(t) the fertility index (× the
    shared log-normal random walk after the last observed year, per draw), w the women's ages
    and F(a, t) the women aged a at the end of the step (after survival and migration). The
    exposure is the same on all three sides: k counts the age-0 persons of the census per woman
    at the census moment (the end of the 12 months of births), and I(t) divides the national
    births of the 12 months to 1 Nov t by the closed nation's women at 1 Nov t; so a closed
    national projection reproduces A0 · B(t) / B(C) exactly for the observed years.
    """
    return _project_steps(pop0, inputs, n_steps, assumptions, draws, seed)


def _oldest_mother(inputs: DemographicInputs) -> int:
    """The oldest age with a non-zero fertility weight (0 when no age has one)."""
    ages = np.flatnonzero(inputs.fertility_weights)
    return int(ages[-1]) if len(ages) else 0


def _project_steps(pop0: np.ndarray, inputs: DemographicInputs, n_steps: int,
                   assumptions: DemographicAssumptions, draws: int, seed: int,
                   max_age: int | None = None, reuse: bool = False,
                   male_max_age: int | None = None):
    """The steps of :func:`project_arrays`, optionally for ages 0..max_age only.

    Ages above the oldest mother's age feed neither younger ages (cohorts only grow older)
    nor births, so with ``max_age`` ≥ that age the ages 0..max_age are the same numbers as in
    the full projection while the work and memory shrink to (max_age + 1) / 101; the open age
    is then simply not carried. With ``reuse`` the two state arrays are reused in turn: a
    yielded array is valid only until the generator resumes twice (callers that keep one
    year back, like :func:`_iter_school_ages`, stay within that). Men never enter births, so
    with ``male_max_age`` (needs ``reuse``) men are carried to that age only; their older
    ages hold NaN.

    Yields:
        (year, population (area, 2, max_age + 1[, draws])), persons at 1 November.
    """
    top = N_AGES - 1 if max_age is None else min(int(max_age), N_AGES - 1)
    open_age = top == N_AGES - 1
    if top < _oldest_mother(inputs):
        raise ValueError(f"max_age {top} is below the oldest mothers' age "
                         f"{_oldest_mother(inputs)}; births need every mother")
    n = top + 1
    male_top = top if male_max_age is None else max(0, min(int(male_max_age), top))
    if male_top < top and not reuse:
        raise ValueError("male_max_age needs reuse=True")
    A = pop0.shape[0]
    D = max(draws, 1)
    if inputs.base_factor is not None:
        pop0 = pop0 * inputs.base_factor
    pop0 = pop0[:, :, :n]
    cur = np.repeat(pop0[..., None], D, axis=-1) if draws else pop0[..., None].copy()
    mult = assumptions.migration_multiplier
    if draws:
        kappa = _area_draws(inputs.areas, seed, n_steps, draws, assumptions.migration_sd, mult)
        shocks = _fertility_shocks(seed, n_steps, draws)
    else:
        kappa = np.full((A, 1), mult)
        shocks = np.zeros((n_steps, 1))
    # growth factor per age: survival × migration, (area, 2, ages, D); constant over time
    survival = np.ascontiguousarray(inputs.survival[:, :n])
    migration = np.ascontiguousarray(inputs.migration[:, :, :n])
    log_s = np.log(np.clip(survival, 1e-12, None))[None, :, :, None]
    if male_top == top:
        growth = np.exp(log_s + migration[..., None] * kappa[:, None, None, :])
    else:                                  # by sex: women (area, ages, D), men to male_top
        growth_f = np.exp(log_s[:, 1] + migration[:, 1, :, None] * kappa[:, None, :])
        growth_m = np.exp(log_s[:, 0, :male_top]
                          + migration[:, 0, :male_top, None] * kappa[:, None, :])
    walk = np.zeros(D)
    w = inputs.fertility_weights[:n]
    k = inputs.fertility_ratio[:, None]
    spare = np.empty_like(cur) if reuse else None
    if male_top < top:                     # men older than male_top are not carried
        cur[:, 0, male_top + 1:] = np.nan
        spare[:, 0, male_top + 1:] = np.nan
    for step in range(1, n_steps + 1):
        year = inputs.census_year + step
        if reuse:
            nxt, spare = spare, cur
        else:
            nxt = np.empty_like(cur)
        if male_top == top:
            np.multiply(cur[:, :, :-1], growth[:, :, :-1], out=nxt[:, :, 1:])
            if open_age:
                nxt[:, :, -1] += cur[:, :, -1] * growth[:, :, -1]
        else:
            np.multiply(cur[:, 1, :-1], growth_f[:, :-1], out=nxt[:, 1, 1:])
            np.multiply(cur[:, 0, :male_top], growth_m, out=nxt[:, 0, 1:male_top + 1])
            if open_age:
                nxt[:, 1, -1] += cur[:, 1, -1] * growth_f[:, -1]
        idx = inputs.fertility_index.get(year)
        if idx is None:
            raise ValueError(f"no fertility index for {year}; prepare inputs with "
                             f"end_year >= {year}")
        if draws and year > inputs.last_observed:
            walk = walk + inputs.fertility_sd * shocks[step - 1]
        # exposure: women at the end of the step (1 Nov t), as in the fertility ratio k (women
        # at the census) and the national index (women of the closed nation at 1 Nov t)
        women = np.einsum("a,nad->nd", w[1:], nxt[:, 1, 1:])
        births = k * idx[:, None] * women * np.exp(walk)[None, :]
        nxt[:, 0, 0] = births * inputs.male_share
        nxt[:, 1, 0] = births * (1 - inputs.male_share)
        cur = nxt
        yield year, (cur if draws else cur[..., 0])


def _school_year(prev: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """Population at 1 September from the census-moment populations before and after it."""
    return SEPT_WEIGHT * cur + (1 - SEPT_WEIGHT) * prev


def back_step(pop0: np.ndarray, inputs: DemographicInputs,
              assumptions: DemographicAssumptions) -> np.ndarray:
    """Population at 1 November of the year before the census, by reverse survival (area, 2, 101).

    Each cohort of the census is taken back one step with the engine's own annual growth
    factor g(a) = s(a) · exp(κ · m(a)) at the central migration multiplier κ (no draw spread,
    so the base year is the same in every draw): ``P(a, C−1) = P(a+1, C) / g(a)`` for
    a = 0..98, the exact inverse of a forward step at these ages. Approximations: migration
    in the back step follows the same residual rates as the forward steps; the two oldest
    ages (99 and the open 100+), whose split the open group does not identify, keep their
    census counts (they do not enter births or school ages). Ages with g = 0 get 0.
    """
    log_s = np.log(np.clip(inputs.survival, 1e-12, None))[None]
    g = np.exp(log_s + inputs.migration * assumptions.migration_multiplier)
    out = np.zeros(pop0.shape)
    out[:, :, :-2] = np.divide(pop0[:, :, 1:-1], g[:, :, :-2], out=np.zeros(g[:, :, :-2].shape),
                               where=g[:, :, :-2] > 0)
    out[:, :, -2:] = pop0[:, :, -2:]
    return out


def _iter_school_years(pop0, inputs, start_year, end_year, assumptions, draws, seed):
    """Yield (year, array) at 1 September for start_year..end_year (every year, census too)."""
    c = inputs.census_year
    if start_year < c:
        raise ValueError(f"start_year {start_year} is before the base census {c}")
    if end_year < start_year:
        raise ValueError(f"end_year {end_year} is before start_year {start_year}")
    prev = np.repeat(pop0[..., None], draws, axis=-1) if draws else pop0
    if start_year == c:                    # 1 Sep C: between the back step and the census
        sep = _school_year(back_step(pop0, inputs, assumptions), pop0)
        yield c, (np.repeat(sep[..., None], draws, axis=-1) if draws else sep)
    if inputs.base_factor is not None:     # later years start from the corrected base
        fac = inputs.base_factor[..., None] if draws else inputs.base_factor
        prev = prev * fac
    for year, cur in project_arrays(pop0, inputs, end_year - c, assumptions, draws, seed):
        if year >= start_year:
            yield year, _school_year(prev, cur)
        prev = cur


def _iter_school_ages(pop0, inputs, start_year, end_year, assumptions, draws, seed, lo, hi):
    """:func:`_iter_school_years` for the ages lo..hi only: (year, (area, 2, hi−lo+1[, draws])).

    The same numbers as ``_iter_school_years(...)[:, :, lo:hi + 1]``: the projection runs to
    age max(hi, oldest mother's age) for women and to age hi for men only
    (:func:`_project_steps`, state arrays reused) and the
    1 September interpolation is taken on ages lo..hi only. The yielded array is reused:
    it is valid until the generator resumes (reduce it first, or copy it).
    """
    c = inputs.census_year
    if start_year < c:
        raise ValueError(f"start_year {start_year} is before the base census {c}")
    if end_year < start_year:
        raise ValueError(f"end_year {end_year} is before start_year {start_year}")
    if not 0 <= lo <= hi <= N_AGES - 1:
        raise ValueError(f"ages {lo}..{hi} must lie in 0..{N_AGES - 1}")
    window = slice(lo, hi + 1)
    base = pop0[:, :, window]
    prev = np.repeat(base[..., None], draws, axis=-1) if draws else base
    if start_year == c:                    # 1 Sep C: between the back step and the census
        sep = _school_year(back_step(pop0, inputs, assumptions), pop0)[:, :, window]
        yield c, (np.repeat(sep[..., None], draws, axis=-1) if draws else sep)
    if inputs.base_factor is not None:     # later years start from the corrected base
        fac = inputs.base_factor[:, :, window]
        prev = prev * (fac[..., None] if draws else fac)
    top = max(hi, _oldest_mother(inputs))
    out = tmp = None
    for year, cur in _project_steps(pop0, inputs, end_year - c, assumptions, draws, seed,
                                    max_age=top, reuse=True, male_max_age=hi):
        cur = cur[:, :, window]
        if year >= start_year:
            if out is None:
                out, tmp = np.empty(cur.shape), np.empty(cur.shape)
            # _school_year(prev, cur) computed into reused arrays (same operations, same order)
            np.multiply(cur, SEPT_WEIGHT, out=out)
            np.multiply(prev, 1 - SEPT_WEIGHT, out=tmp)
            np.add(out, tmp, out=out)
            yield year, out
        prev = cur


def _age_window(groups: dict[str, tuple[int, int]]) -> tuple[int, int]:
    """The first and last age any of ``groups`` (label → (first age, last age)) needs."""
    return min(a for a, _ in groups.values()), max(b for _, b in groups.values())


#: areas projected together inside :func:`_group_draws`: one area's state (2 × ages × draws)
#: stays in the CPU cache through all steps, which is faster than streaming many areas' states
#: through memory every step; numbers do not depend on it (per-area seeds)
GROUP_BLOCK = 1
#: memory bound of one chunk's group sums in :func:`project_population_summary` (bytes)
SUMMARY_BUDGET_BYTES = 256 * 2**20


def _group_draws(pop0, inputs, start_year, end_year, assumptions, draws, seed, groups,
                 by_sex=False, block=GROUP_BLOCK) -> np.ndarray:
    """Age-group sums at 1 September for every year and area: (year, area, sexes, groups, D).

    ``sexes`` is 2 with ``by_sex`` else 1 (both sexes summed after the group sums, as in
    :func:`project_population_summary`); D is ``draws`` (1 without draws). Areas are
    projected ``block`` at a time (:func:`_iter_school_ages`), each group summed over its
    single ages; the same numbers as projecting all areas at once.
    """
    first, last = _age_window(groups)
    A, D, n_years = pop0.shape[0], max(draws, 1), end_year - start_year + 1
    out = np.empty((n_years, A, len(S.SEXES) if by_sex else 1, len(groups), D))
    buf = np.empty((n_years, min(block, A), len(S.SEXES), last - first + 1, D))
    for lo in range(0, A, block):
        idx = np.arange(lo, min(lo + block, A))
        ages = buf[:, :len(idx)]                           # (year, area, sex, age, D)
        for year, arr in _iter_school_ages(pop0[idx], inputs.subset(idx), start_year, end_year,
                                           assumptions, draws, seed, first, last):
            ages[year - start_year] = arr if draws else arr[..., None]
        # each group summed over its single ages (axis 3), every year at once
        g = np.stack([ages[:, :, :, a - first:b - first + 1].sum(axis=3)
                      for a, b in groups.values()], axis=3)
        if not by_sex:
            g = g.sum(axis=2, keepdims=True)               # (year, area, 1, groups, D)
        out[:, idx] = g
    return out


def project_population(base_df: pd.DataFrame, assumptions: DemographicAssumptions | None = None,
                       start_year: int | None = None, end_year: int = 2035, draws: int = 0,
                       seed: int = 20201101, ages=None,
                       inputs: DemographicInputs | None = None) -> pd.DataFrame:
    """Project a base census by area, sex and single age, year by year (cohort-component).

    Args:
        base_df: single-age base as from :func:`graduate_single_ages` (one census year).
        assumptions: named assumptions (default :class:`DemographicAssumptions`()).
        start_year: first output year (default the year after the census).
        end_year: last output year (inclusive).
        draws: 0 → one deterministic path (no ``draw`` column); N → draws 0..N−1.
        seed: random seed (same inputs + seed → identical numbers; per-area streams).
        ages: iterable of ages to return (default all 0..100).
        inputs: precomputed :class:`DemographicInputs` (default derived by
            :func:`prepare_inputs`).

    Returns:
        Frame area, year, sex, age, population [, draw]; persons at 1 September of ``year``
        (school-year start; see the module docstring for the mapping from 1 November).
    """
    assumptions = assumptions or DemographicAssumptions()
    inputs = inputs or prepare_inputs(base_df, assumptions, end_year)
    areas, pop0 = to_array(base_df)
    if tuple(areas) != inputs.areas:
        raise ValueError("inputs were prepared for other areas than base_df")
    c = inputs.census_year
    start_year = c + 1 if start_year is None else start_year
    sel = np.arange(N_AGES) if ages is None else np.asarray(sorted({int(a) for a in ages}))
    if len(sel) and (sel.min() < 0 or sel.max() > S.OPEN_AGE):
        raise ValueError(f"ages must lie in 0..{S.OPEN_AGE}")
    frames = []
    for year, arr in _iter_school_years(pop0, inputs, start_year, end_year, assumptions,
                                        draws, seed):
        frames.append(_long(areas, year, arr[:, :, sel], sel, draws))
    return pd.concat(frames, ignore_index=True)


def _long(areas, year, arr, ages, draws) -> pd.DataFrame:
    """(area, 2, ages[, draws]) → long frame."""
    A, nS, nA = arr.shape[:3]
    D = arr.shape[3] if draws else 1
    out = {
        S.AREA: np.repeat(np.asarray(areas, dtype=object), nS * nA * D),
        S.YEAR: np.full(A * nS * nA * D, year, dtype=int),
        S.SEX: np.tile(np.repeat(np.asarray(S.SEXES, dtype=object), nA * D), A),
        S.AGE: np.tile(np.repeat(ages, D), A * nS),
    }
    if draws:
        out[S.DRAW] = np.tile(np.arange(D), A * nS * nA)
    out[S.POPULATION] = arr.reshape(-1)
    return pd.DataFrame(out)


# ------------------------------------------------------------------------------------------
# summaries


def _quantile_block(x: np.ndarray) -> dict[str, np.ndarray]:
    """Mean and interval bounds over the last axis."""
    # the order statistics of sorted rows are those of x, so the quantiles are identical;
    # np.quantile partitions a sorted, contiguous last axis faster than an unsorted one
    q = np.quantile(np.sort(x, axis=-1), list(QUANTILES.values()), axis=-1)
    out = {S.MEAN: x.mean(axis=-1)}
    out.update({name: q[i] for i, name in enumerate(QUANTILES)})
    return out


def summarise_draws(df: pd.DataFrame, value_col: str, by: list[str]) -> pd.DataFrame:
    """Mean and central 80 %/95 % intervals of ``value_col`` over draws, for each ``by`` group.

    Args:
        df: long frame with a ``draw`` column (or any replicate column not in ``by``).
        value_col: column to summarise (e.g. population, enrolment).
        by: grouping columns (e.g. [area, year, age]).

    Returns:
        Frame ``by`` + mean, lo80, hi80, lo95, hi95 (``schema.SUMMARY_COLUMNS``); quantiles
        by linear interpolation (numpy default), 10/90 % and 2.5/97.5 %.
    """
    missing = [c for c in [*by, value_col] if c not in df.columns]
    if missing:
        raise ValueError(f"summarise_draws: columns {missing} not in frame "
                         f"(columns: {list(df.columns)})")
    g = df.groupby(by, sort=True, observed=True)[value_col]
    out = g.mean().rename(S.MEAN).to_frame()
    q = g.quantile(list(QUANTILES.values())).unstack(-1)
    q.columns = list(QUANTILES)
    out = out.join(q).reset_index()
    return out[[*by, *S.SUMMARY_COLUMNS]]


def project_population_summary(base_df: pd.DataFrame,
                               assumptions: DemographicAssumptions | None = None,
                               start_year: int | None = None, end_year: int = 2035,
                               draws: int = 100, seed: int = 20201101,
                               groups: dict[str, tuple[int, int]] | None = None,
                               by_sex: bool = False, chunk_size: int = 100,
                               inputs: DemographicInputs | None = None) -> pd.DataFrame:
    """Draw summaries of a projection, streamed by area chunk and year (bounded memory).

    Args:
        base_df, assumptions, start_year, end_year, seed, inputs: as :func:`project_population`.
        draws: number of draws (≥ 1).
        groups: label → (first age, last age); default each single age 0..100 ("0", "1", …).
        by_sex: keep sexes apart (else both sexes summed before summarising).
        chunk_size: areas per chunk; results do not depend on it (per-area seeds).

    Returns:
        Frame area, year[, sex], age_group, mean, lo80, hi80, lo95, hi95 (persons at
        1 September). Only one chunk's group sums and one area's draws for two years are in
        memory at a time.
    """
    if draws < 1:
        raise ValueError("project_population_summary needs draws >= 1")
    assumptions = assumptions or DemographicAssumptions()
    inputs = inputs or prepare_inputs(base_df, assumptions, end_year)
    areas, pop0 = to_array(base_df)
    c = inputs.census_year
    start_year = c + 1 if start_year is None else start_year
    groups = groups or {str(a): (a, a) for a in AGES}
    labels = list(groups)
    nS, nG = (len(S.SEXES) if by_sex else 1), len(groups)
    years = np.arange(start_year, end_year + 1)
    # areas per chunk also bounded so that a chunk's group sums (years × areas × sexes ×
    # groups × draws) stay within SUMMARY_BUDGET_BYTES
    per_area = len(years) * nS * nG * draws * 8
    size = max(1, min(chunk_size, SUMMARY_BUDGET_BYTES // per_area))
    frames = []
    for lo in range(0, len(areas), size):
        idx = np.arange(lo, min(lo + size, len(areas)))
        sums = _group_draws(pop0[idx], inputs.subset(idx), start_year, end_year, assumptions,
                            draws, seed, groups, by_sex)        # (year, area, sex, group, D)
        stats = _quantile_block(sums)
        nY, nA = sums.shape[:2]
        part = {
            S.AREA: np.tile(np.repeat(np.asarray(inputs.areas, dtype=object)[idx], nS * nG), nY),
            S.YEAR: np.repeat(years, nA * nS * nG),
        }
        if by_sex:
            part[S.SEX] = np.tile(np.repeat(np.asarray(S.SEXES, dtype=object), nG), nY * nA)
        part[S.AGE_GROUP] = np.tile(np.asarray(labels, dtype=object), nY * nA * nS)
        part.update({k: v.reshape(-1) for k, v in stats.items()})
        frames.append(pd.DataFrame(part))
    out = pd.concat(frames, ignore_index=True)
    keys = [S.AREA, S.YEAR] + ([S.SEX] if by_sex else []) + [S.AGE_GROUP]
    order = {lab: i for i, lab in enumerate(labels)}
    out = out.sort_values(keys[:-1] + [S.AGE_GROUP], key=lambda s: s.map(order)
                          if s.name == S.AGE_GROUP else s, kind="stable")
    return out.reset_index(drop=True)

