"""Official age bands, the plan's base-year baselines and the calibration of base rates.

Public names:
    DEFAULT_BANDS, LEVEL_BAND, BAND_GER, LEVEL_INDICATOR, PLAN_COUNTS, CONSOLIDATION,
    TRANSITION, RESIDENT_SUFFIX (vocabularies); band_population(pop_df, bands);
    plan_baselines(plan_obs, pop_base, region, ...) the plan's city baselines by level (the
    compulsory split by a stated rule); calibrate_base_rates(pop_base, baselines, region, ...)
    base enrolment and rates by area and level; registered_ratio(obs_df, area, base_year).

Conventions: ``year`` is the school year starting that autumn; population is dated 1 September
(demography takes the 1 November census back one step); rates are fractions of the band
population (any-age pupils in the numerator); GERs are percent (UIS definition). Age bands
(defaults = the plan's and UIS's official ages): preschool 3–5, primary 6–11, junior 12–14,
senior stage 15–17 (senior general + secondary vocational).

References: UNESCO Institute for Statistics, *Gross enrolment ratio*; Neijiang 14th Five-Year
education plan, box 1 (``data/raw/plan/plan_indicators_2015_2020.csv``).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from .. import schema as S
from ..areas import Region


#: Official age bands (first, last age, inclusive) — parameters; defaults per the plan / UIS.
DEFAULT_BANDS: dict[str, tuple[int, int]] = {
    "preschool": (3, 5), "primary": (6, 11), "junior": (12, 14), "senior": (15, 17)}


#: Which band each level's GER uses (secondary vocational counts in the senior stage).
LEVEL_BAND = {"preschool": "preschool", "primary": "primary", "junior": "junior",
              "senior_general": "senior", "secondary_vocational": "senior"}


#: Plan indicator ids (plan box 1) for each band's GER.
BAND_GER = {"preschool": "preschool_ger_3y", "primary": "primary_ger", "junior": "junior_ger",
            "senior": "senior_stage_ger"}


#: Observation indicators (README "Bringing your own county series") that give a level's count.
LEVEL_INDICATOR = {"preschool": "kindergarten_children", "primary": "primary_enrolment",
                   "junior": "junior_enrolment", "senior_general": "senior_general_enrolment",
                   "secondary_vocational": "vocational_secondary_enrolment"}


#: The plan's count indicators and the levels they add up.
PLAN_COUNTS = {"kindergarten_children": ("preschool",),
               "compulsory_enrolment": ("primary", "junior"),
               "senior_stage_enrolment": ("senior_general", "secondary_vocational"),
               "secondary_vocational_enrolment": ("secondary_vocational",)}


CONSOLIDATION = "compulsory_consolidation_rate"


TRANSITION = "junior_senior_transition"


RESIDENT_SUFFIX = "_resident_basis"


def _draw_keys(df: pd.DataFrame) -> list[str]:
    return [S.DRAW] if S.DRAW in df.columns else []


def _check_columns(df: pd.DataFrame, cols, what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {missing}; expected {list(cols)}")


def _check_bands(bands: Mapping[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    out = {}
    for name in DEFAULT_BANDS:
        if name not in bands:
            raise ValueError(f"age bands: band '{name}' is missing; give all of "
                             f"{list(DEFAULT_BANDS)} as [first age, last age]")
        lo, hi = (int(x) for x in bands[name])
        if not 0 <= lo <= hi:
            raise ValueError(f"age bands: band '{name}' = {bands[name]} must be [first, last] "
                             "with 0 <= first <= last")
        out[name] = (lo, hi)
    return out


def band_population(pop_df: pd.DataFrame,
                    bands: Mapping[str, tuple[int, int]] = DEFAULT_BANDS) -> pd.DataFrame:
    """Population of each official age band.

    Args:
        pop_df: population frame (area, year, sex, age, population[, draw]); persons.
        bands: band name → (first age, last age), inclusive.

    Returns:
        Columns area, year[, draw], band, population (persons, both sexes):
        P_band(a, t) = Σ_{age in band} Σ_sex pop(a, t, sex, age).
    """
    _check_columns(pop_df, [S.AREA, S.YEAR, S.AGE, S.POPULATION], "population frame")
    bands = _check_bands(bands)
    keys = [S.AREA, S.YEAR, *_draw_keys(pop_df)]
    frames = []
    for name, (lo, hi) in bands.items():
        part = pop_df[(pop_df[S.AGE] >= lo) & (pop_df[S.AGE] <= hi)]
        g = part.groupby(keys, sort=True)[S.POPULATION].sum().reset_index()
        g[S.BAND] = name
        frames.append(g)
    out = pd.concat(frames, ignore_index=True)
    return out[[*keys, S.BAND, S.POPULATION]]


def _base_band_population(pop_base: pd.DataFrame, bands, base_year: int) -> pd.DataFrame:
    """Band population in the base year, averaged over draws (draws agree at the base)."""
    if S.YEAR in pop_base.columns:
        pop_base = pop_base[pop_base[S.YEAR] == base_year]
        if pop_base.empty:
            raise ValueError(f"population frame has no rows for base year {base_year}")
    else:
        pop_base = pop_base.assign(**{S.YEAR: base_year})
    bp = band_population(pop_base, bands)
    if S.DRAW in bp.columns:
        bp = bp.groupby([S.AREA, S.YEAR, S.BAND], sort=True)[S.POPULATION].mean().reset_index()
    return bp


def _plan_value(plan_obs: pd.DataFrame, indicator: str, year: int) -> float:
    rows = plan_obs[(plan_obs[S.INDICATOR] == indicator) & (plan_obs[S.YEAR] == year)]
    if rows.empty:
        raise ValueError(f"plan baselines: no value for '{indicator}' in {year}; name the "
                         "region's box-1 table in its region file ([plan] indicators) or give "
                         f"the region's {year} value in your observations (--observations)")
    return float(rows[S.VALUE].iloc[0])


def plan_baselines(plan_obs: pd.DataFrame, pop_base: pd.DataFrame, region: Region,
                   bands: Mapping[str, tuple[int, int]] = DEFAULT_BANDS, base_year: int = 2020,
                   split_rule: str = "ger") -> pd.DataFrame:
    """The plan's city baselines by level (box 1), with the compulsory split by a stated rule.

    Published (observed): kindergarten children 85,600; compulsory 320,200 (primary + junior);
    senior stage 96,100, of which secondary vocational 35,000. Derived:
    senior general = senior stage − secondary vocational (61,100). Estimated (the split is not
    published): with ``split_rule="ger"``

        w_primary = GER_primary × P_6–11,   w_junior = GER_junior × P_12–14   (city, base year)
        primary = round(compulsory × w_primary / (w_primary + w_junior)),
        junior = compulsory − primary          (so the two add up to 320,200 exactly)

    ``split_rule="population"`` uses w = P_band alone.

    Args:
        plan_obs: plan box 1 as observations (:func:`njforecast.io.plan.load_plan_indicators`).
        pop_base: population frame including the base year (single ages).
        region: the region (its code is the city).
        bands: official age bands.
        base_year: the baseline year (2020).
        split_rule: "ger" (default) or "population".

    Returns:
        Columns area (city), year, level, enrolment (persons), quality, source_note; one row per
        school level. Also the plan's base GERs as attribute ``attrs["ger"]``
        (band → percent).
    """
    bp = _base_band_population(pop_base, bands, base_year)
    city = bp[bp[S.AREA].isin([a.code for a in region.counties])].groupby(S.BAND)[
        S.POPULATION].sum()
    def v(ind: str) -> float:
        return _plan_value(plan_obs, ind, base_year)

    kinder, comp = v("kindergarten_children"), v("compulsory_enrolment")
    senior, voc = v("senior_stage_enrolment"), v("secondary_vocational_enrolment")
    ger = {band: v(ind) for band, ind in BAND_GER.items()}
    if split_rule == "ger":
        wp, wj = ger["primary"] * city["primary"], ger["junior"] * city["junior"]
        note = ("compulsory split by the plan's primary and junior GER × base population of "
                "the primary and junior bands, rounded so the parts add up exactly")
    elif split_rule == "population":
        wp, wj = city["primary"], city["junior"]
        note = "compulsory split by base population of the primary and junior bands"
    else:
        raise ValueError(f"enrolment split_rule must be 'ger' or 'population', got {split_rule!r}")
    primary = float(round(comp * wp / (wp + wj)))
    rows = [
        ("preschool", kinder, "observed", "plan box 1: kindergarten children"),
        ("primary", primary, "estimated", note),
        ("junior", comp - primary, "estimated", note),
        ("senior_general", senior - voc, "derived",
         "plan box 1: senior stage minus secondary vocational"),
        ("secondary_vocational", voc, "observed", "plan box 1: secondary vocational"),
    ]
    out = pd.DataFrame([{S.AREA: region.code, S.YEAR: base_year, S.LEVEL: lvl, S.ENROLMENT: n,
                         S.QUALITY: q, S.SOURCE_NOTE: note_} for lvl, n, q, note_ in rows])
    out.attrs["ger"] = ger
    return out


def _user_counts(observations: pd.DataFrame | None, base_year: int, areas: list[str]) -> pd.DataFrame:
    """A planner's own base-year counts by area and level (area, level, enrolment)."""
    if observations is None or observations.empty:
        return pd.DataFrame(columns=[S.AREA, S.LEVEL, S.ENROLMENT])
    _check_columns(observations, [S.AREA, S.YEAR, S.INDICATOR, S.VALUE], "observations")
    obs = observations
    if S.PREFERRED in obs.columns:
        obs = obs[obs[S.PREFERRED].astype(bool)]
    ind_level = {v: k for k, v in LEVEL_INDICATOR.items()}
    obs = obs[(obs[S.YEAR] == base_year) & obs[S.INDICATOR].isin(ind_level)
              & obs[S.AREA].astype(str).isin(areas)]
    dup = obs.duplicated([S.AREA, S.INDICATOR])
    if dup.any():
        r = obs[dup].iloc[0]
        raise ValueError(f"observations: area {r[S.AREA]} has more than one '{r[S.INDICATOR]}' "
                         f"for {base_year}; keep one row (or mark one preferred)")
    return pd.DataFrame({S.AREA: obs[S.AREA].astype(str).values,
                         S.LEVEL: obs[S.INDICATOR].map(ind_level).values,
                         S.ENROLMENT: obs[S.VALUE].astype(float).values})


def calibrate_base_rates(pop_base: pd.DataFrame, baselines: pd.DataFrame, region: Region,
                         bands: Mapping[str, tuple[int, int]] = DEFAULT_BANDS,
                         base_year: int = 2020, rule: str = "age_structure",
                         observations: pd.DataFrame | None = None,
                         ger_basis: str = "plan",
                         registered_ratio: float | None = None) -> pd.DataFrame:
    """Base enrolment and enrolment rates by area and level, adding up to the city baselines.

    County values are not published. Rule ``"age_structure"`` (the only one implemented):
    the city's base rate r_L = E_L(city) / P_band(L)(city) is applied to each area's census
    band population, E_L(a) = r_L × P_band(L)(a) — the areas add up to the city exactly.
    Where a planner's own base-year count exists (``observations``, indicators
    :data:`LEVEL_INDICATOR`), it replaces the estimate (quality "observed"); the rest of the
    city total is shared among the other areas by band population. If every area is observed
    the city becomes their sum.

    GER basis: the plan does not state its denominators. The population basis is the
    resident (census) population. ``ger_basis="plan"`` scales each band's denominator by
    f_band = (Σ_{L in band} E_L(city) / GER_band^plan × 100) / P_band(city), so the base GERs
    equal the plan's (f absorbs the unstated basis — resident vs registered —, age graduation
    error and cross-border pupils; it is held constant and labelled estimated);
    ``ger_basis="resident"`` uses f = 1; ``ger_basis="registered"`` uses f = the area's
    registered (户籍) / resident population ratio (all ages; ``registered_ratio``, see
    :func:`registered_ratio`) for every band — registered population by age is not published,
    so this assumes the ratio is the same at school ages.

    Args:
        pop_base: population including the base year (area, [year,] sex, age, population[, draw]).
        baselines: :func:`plan_baselines` output (city enrolment by level; ``attrs["ger"]``).
        region: the region.
        bands: official age bands.
        base_year: base school year.
        rule: distribution rule for county values ("age_structure").
        observations: optional planner's observations (area, year, indicator, value).
        ger_basis: "plan" (default), "resident" or "registered".
        registered_ratio: registered / resident population (for ``ger_basis="registered"``).

    Returns:
        Rates frame: area (each census area, plus the city), level, band, population (base band
        population, persons), enrolment (base, persons), rate (enrolment / population,
        fraction), ger_factor (f_band), quality (observed/derived/estimated), year (base).

    Raises:
        ValueError: unknown rule/basis, or a planner's counts exceeding the city baseline.
    """
    if rule != "age_structure":
        raise ValueError(f"enrolment distribution rule must be 'age_structure', got {rule!r}")
    if ger_basis not in ("plan", "resident", "registered"):
        raise ValueError(f"ger_basis must be 'plan', 'resident' or 'registered', got "
                         f"{ger_basis!r}")
    if ger_basis == "registered" and not (registered_ratio and registered_ratio > 0):
        raise ValueError("ger_basis 'registered' needs registered_ratio > 0 (registered / "
                         "resident population)")
    bands = _check_bands(bands)
    bp = _base_band_population(pop_base, bands, base_year)
    areas = [a.code for a in region.counties if a.code in set(bp[S.AREA])]
    if not areas:
        raise ValueError(f"population frame has none of the areas of region {region.slug}")
    bp = bp[bp[S.AREA].isin(areas)]
    pop = bp.set_index([S.AREA, S.BAND])[S.POPULATION]
    base = baselines.set_index(S.LEVEL)
    user = _user_counts(observations, base_year, areas).set_index([S.AREA, S.LEVEL])[S.ENROLMENT]
    rows = []
    for level in S.SCHOOL_LEVELS:
        band = LEVEL_BAND[level]
        total = float(base.loc[level, S.ENROLMENT])
        qual_city = str(base.loc[level, S.QUALITY])
        p = pop.xs(band, level=S.BAND).reindex(areas)
        seen = {a: float(user[(a, level)]) for a in areas if (a, level) in user.index}
        rest_areas = [a for a in areas if a not in seen]
        if rest_areas:
            rest = total - sum(seen.values())
            if rest < 0:
                raise ValueError(f"observations: {LEVEL_INDICATOR[level]} {base_year} for areas "
                                 f"{sorted(seen)} add up to {sum(seen.values()):,.0f}, more "
                                 f"than the city baseline {total:,.0f}; give every area or fix "
                                 "the counts")
            share = p[rest_areas] / p[rest_areas].sum()
        else:
            total = sum(seen.values())
            qual_city = "observed"
        for a in areas:
            if a in seen:
                e, q = seen[a], "observed"
            else:
                e, q = rest * float(share[a]), "estimated"
            rows.append({S.AREA: a, S.LEVEL: level, S.BAND: band, S.POPULATION: float(p[a]),
                         S.ENROLMENT: e, S.QUALITY: q})
        rows.append({S.AREA: region.code, S.LEVEL: level, S.BAND: band,
                     S.POPULATION: float(p.sum()), S.ENROLMENT: total, S.QUALITY: qual_city})
    out = pd.DataFrame(rows)
    out[S.RATE] = out[S.ENROLMENT] / out[S.POPULATION]
    ger = baselines.attrs.get("ger", {})
    city = out[out[S.AREA] == region.code]
    factors = {}
    for band in bands:
        if ger_basis in ("resident", "registered"):
            factors[band] = 1.0 if ger_basis == "resident" else float(registered_ratio)
            continue
        if band not in ger:
            raise ValueError(f"ger_basis 'plan' needs the plan's base GER for band '{band}' "
                             "(baselines.attrs['ger']); use ger_basis='resident'")
        c = city[city[S.BAND] == band]
        factors[band] = (c[S.ENROLMENT].sum() / (ger[band] / 100.0)) / c[S.POPULATION].iloc[0]
    out[S.GER_FACTOR] = out[S.BAND].map(factors)
    out[S.YEAR] = base_year
    return out[[S.AREA, S.YEAR, S.LEVEL, S.BAND, S.POPULATION, S.ENROLMENT, S.RATE,
                S.GER_FACTOR, S.QUALITY]]


def registered_ratio(obs_df: pd.DataFrame, area: str, base_year: int) -> tuple[float, int]:
    """Registered (户籍) / resident (常住) population of an area, all ages.

    Uses the ``registered_population`` and ``resident_population`` observations of the latest
    year ≤ ``base_year`` with both (else the earliest year after it); ``preferred`` rows.

    Returns:
        (ratio, year used).

    Raises:
        ValueError: no year has both figures for the area.
    """
    obs = obs_df[obs_df[S.AREA].astype(str) == str(area)]
    if S.PREFERRED in obs.columns:
        obs = obs[obs[S.PREFERRED].astype(bool)]
    w = obs.pivot_table(index=S.YEAR, columns=S.INDICATOR, values=S.VALUE, aggfunc="first")
    cols = ["registered_population", "resident_population"]
    if not set(cols) <= set(w.columns) or w[cols].dropna().empty:
        raise ValueError(f"population basis 'registered': area {area} has no year with both "
                         "registered_population and resident_population; add them to your "
                         "observations or use population_basis = 'resident'")
    both = w[cols].dropna()
    before = both[both.index <= base_year]
    year = int(before.index.max()) if len(before) else int(both.index.min())
    return float(both.loc[year, cols[0]] / both.loc[year, cols[1]]), year

