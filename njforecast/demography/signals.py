"""Migration signals of an area from one census table, shrunk toward its parent (province/nation).

Public names:
    SIGNALS                    the signal names, in the order of :func:`signal_components`
    signal_components(...)     each signal's annual net-migration log factors (area, 2, 101)
    combine_signals(comp, w)   Σ weight · component
    signal_weights(ass)        the weights of a :class:`DemographicAssumptions`
    sex_selectivity(base, parent)   |change of log(M/F) from ages 5-14 to 15-24| against the
                               parent's (fourth study)
    registration_ratio()       log(residents / registered population) per coded 2010 row
    registration_gap(codes)    that ratio minus the parent's (province for a county, nation
                               for a province)
    urban_share(), urban_gap(codes)   urban share of residents per coded 2010 row, and minus
                               the parent's (fifth study)
    area_kind(code, log_pr)    urban district / county / county-level city / high in- or
                               out-migration, for the error bands

An area without its own census history gets the parent's residual migration (census-survival
residual, Siegel & Swanson 2004, ch. 21) plus these signals, each multiplied by a weight in
[0, 1] (weight 0 = the parent's pattern, 1 = the signal in full: shrinkage toward the parent):

    structure   relative age-profile steps log(rel(a+1)/rel(a)) of the base census from
                ``structure_from_age`` (rel = the area's share of the parent's persons aged a),
                carried forward as recurring migration; ages 14→15 … 19→20 excluded (next)
    school      the same steps at ages 14→15 … 19→20 only, where positive: the flow of
                15-19-year-olds into senior high schools in county seats and colleges in
                cities, as the base census shows it (an area with more 15-19s than its 10-14s
                relative to the parent receives them)
    school_out  the negative steps at those ages: 15-19-year-olds leaving, for schools
                elsewhere and — in 2010 much more than later — for work; weighted by
                school_flow_weight × school_outflow_weight (second study below)
    stock       net intra-provincial migration stock (2010 table, :func:`internal_migration_stock`)
                spread over ten years, log1p(s)/10 at every age
    gap         registered-elsewhere balance: [log(P/R)_area − log(P/R)_parent] / 10 at ages
                0-64, P residents and R registered population (户籍人口, 2010 table); a place
                whose residents exceed its registrations relative to its parent keeps drawing
                people, one that has lost its registered residents keeps losing them
    urban       urban share of residents against the parent's, (u_area − u_parent) / 10 at
                ages 0-14 (:func:`urban_share`; fifth study)

Pre-registration (issue 17; written before any score of these weights was looked at).
Candidates (grid): structure {0.5, 0.75, 1}, school {0, 0.5, 1}, stock {0, 0.5, 1},
gap {-0.25, 0, 0.25, 0.5}, and the child-coverage elasticity ε {0, 0.1, 0.15, 0.2}
(:func:`child_coverage_factor`). Before issue 17: structure 1, school 1, stock 1, gap 0,
ε 0.15 (back-test only). Choice: on half A of the Sichuan counties split by prefecture
(``census_backtest.prefecture_halves``, seed 20201101, fixed since issue 3), lowest median APE
of ages 10-14 plus that of 15-19, ties to the smaller weights. Scored, not chosen, on half B
and on the province table (every province projected 2010 → 2020 from its counties with the
same signals relative to the nation, against the 2020 province rows). A weight moves away from
its pre-issue value only if the move helps on half B and on the province table (else it keeps
the old value). Urban share and the sex ratio by age are named in the issue; they are not
tried here. The choice and its scores: benchmarks/README.md ("issue 17").

Second study (registered after the first study's tables were seen, which showed the 15-19 signal
hurting at the province level): school_outflow_weight {0, 0.25, 0.5, 0.75, 1} (1 = as before,
school in and out weighted alike), the other weights as chosen above. Choice on Sichuan half A
*and* on the first half of the provinces by code (11…37, 15 provinces): lowest sum of the two
median APEs of ages 15-19 (the weight does not touch younger ages). Scored on half B and on the
other 16 provinces (41…65). benchmarks/school_outflow_study.py. Result: 1 (no change).

Third study (registered after the second): the teenage *inflows* of 2010 into areas that import
labour (residents above registrations) were partly workers, a flow that shrank in the 2010s.
school_inflow_damping κ {0, 0.5, 1, 2, 4}: inflow steps × exp(−κ · max(log(P/R)_area, 0)).
Choice and scoring as in the second study (Sichuan half A + provinces 11…37; scored on half B
and provinces 41…65). benchmarks/school_outflow_study.py. Result: κ = 2 on the choice halves
(sum 26.54 vs 26.55 at κ = 0), then half B 19.20 → 19.17 but provinces 41…65 9.588 → 9.592:
it does not help on both, so κ stays 0 (the default).

Fourth study (registered 2026-12-06 04:50 UTC, after the third study's tables and before any
score of this rule was computed): sex-selective migration at the school ages. Moves for senior
high school and college are close to sex-balanced; the teenage labour moves of 2010 were
not (electronics and garment towns drew young women, building sites and mines young men, and
the sending counties lost the matching sex), and those labour moves shrank in the 2010s as
more 15-18-year-olds stayed in school. So the sex-selective part of an area's 2010 migration
marks school steps that were partly labour and carry forward less. Index, from the base census
alone (M, F persons by sex; A = the area, P = its parent):
``d = |[log(M/F)_A,15-24 − log(M/F)_A,5-14] − [log(M/F)_P,15-24 − log(M/F)_P,5-14]|``
(the change of the sex ratio from ages 5-14, who moved with their families, to ages 15-24,
relative to the parent's change; the difference removes the area's and the cohorts' sex ratio
at birth). The school steps (inflow and outflow, 14→15 … 19→20) are multiplied by
exp(−κ_s · d): ``school_sex_damping`` κ_s ∈ {0, 2.5, 5, 10, 20} (0 = no change, the default;
the 2010 counties' median d is 0.056, 90th percentile 0.16, so κ_s = 20 leaves a third of a
median county's school steps). Choice on Sichuan half A together with the provinces 11…37
(parent = the nation): lowest sum of the two median APEs of 2020 ages 15-19, ties to the
smaller κ_s (the rule cannot move ages under 15 in a 10-year projection). Shipping rule: the
chosen κ_s becomes the default only if it lowers the median APE of ages 15-19 on half B *and*
on the provinces 41…65, each against κ_s = 0; else the default stays 0 and the study is
reported as not shipped. benchmarks/sex_ratio_study.py. Result: κ_s = 0 on the choice halves
(sum 26.55; 27.69, 27.88, 31.88, 29.98 for κ_s = 2.5 … 20: worse on half A and on the provinces
11…37 at every value), so it is not shipped and the default stays 0. The held-out columns,
computed by the same run and not used: half B 19.20 → 19.65, 19.25, 20.27, 21.75; provinces
41…65 9.59 → 7.37, 6.11, 5.92, 4.37 (the damping helps the second half of the provinces and
hurts every other table: no rule chosen on these data can claim it).

Fifth study (registered 2026-12-06 04:40 UTC, after the fourth study's tables and before any
score of this signal was computed): the urban share and the children of the 2010s. In the
2010s school-age children followed their parents and the schools into towns and cities
(rural schools consolidated, boarding and county-seat schools grew), more than in the 2000s
that the province residual and the 2010 age profile describe; the urban share of the 2010
table marks where they went. Signal ``urban``: annual log factor (u_area − u_parent) / 10 at
ages 0-14, u = urban residents / (urban + rural residents) of the 2010 table (城镇人口,
乡村人口; a blank of one of the two read as 0 when the other is given, as the table leaves
the rural cell of a wholly urban district blank; no signal where both are blank), the
nation's u from the sum of the province rows. ``urban_share_weight`` w_u ∈ {0, 0.05, 0.1,
0.2, 0.4} (0 = no change, the default; at 0.2 a district 0.5 more urban than its province gains
10 % over ten years at ages 0-14). Choice on Sichuan half A together with the provinces 11…37:
lowest sum of the four median APEs (ages 10-14 and 15-19 on each), ties to the smaller w_u.
Shipping rule: the chosen w_u becomes the default only if, on half B and on the provinces
41…65 each, it lowers the median APE of ages 10-14 and does not raise that of 15-19, against
w_u = 0; else the default stays 0 and the study is reported as not shipped.
benchmarks/urban_share_study.py. Result: w_u = 0 on the choice halves (sum 38.34; 38.58,
39.85, 40.04, 39.98 for w_u = 0.05 … 0.4: the provinces 11…37 gain at 10-14, 4.02 → 3.05, but
half A loses at 10-14 and both lose at 15-19), so it is not shipped and the default stays 0.
Held-out columns (same run, not used): half B 10-14 6.74 → 6.73, 7.44, 7.73, 8.36 and 15-19
19.20 → 18.55, 18.06, 18.30, 16.58; provinces 41…65 10-14 5.12 → 5.00, 4.87, 5.31, 7.10 and
15-19 9.59 → 10.37, 11.00, 10.72, 10.02 (no value meets the shipping rule on both).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema as S
from .assumptions import AGES, N_AGES, DemographicAssumptions
from .reference import data_cache

SIGNALS = ("structure", "school", "school_out", "stock", "gap", "urban")
#: single ages a whose step a → a+1 is the school flow (14→15 … 19→20)
_SCHOOL_STEPS = (14, 20)
#: ages carrying the registered-elsewhere signal
_GAP_AGES = (0, 64)
#: ages carrying the urban-share signal (children moving with their parents and schools)
_URBAN_AGES = (0, 14)
#: ages (first, last) of the sex-selectivity index: the migrating ages and the ages before
_SEX_AGES_MOVE, _SEX_AGES_BEFORE = (15, 24), (5, 14)


def sex_selectivity(base: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """Sex-selective migration index d of each area (fourth study, module docstring).

    ``d = |[log(M/F)_15-24 − log(M/F)_5-14]_area − [log(M/F)_15-24 − log(M/F)_5-14]_parent|``,
    M and F persons by sex summed over the single ages of each band.

    Args:
        base: areas (area, 2, 101), persons, sexes in ``schema.SEXES`` order (male, female).
        parent: each area's parent (area, 2, 101) or one (2, 101).

    Returns:
        d per area (dimensionless, ≥ 0); 0 where a band has no male or no female.
    """
    def change(x: np.ndarray) -> np.ndarray:
        (a, b), (c, e) = _SEX_AGES_MOVE, _SEX_AGES_BEFORE
        move, before = x[..., a:b + 1].sum(-1), x[..., c:e + 1].sum(-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(move[..., 0] / move[..., 1]) - np.log(before[..., 0] / before[..., 1])

    d = np.abs(change(np.asarray(base, float)) - change(np.asarray(parent, float)))
    return np.where(np.isfinite(d), d, 0.0)


def _relative_steps(area: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """log(rel(a+1)/rel(a)) at a (…, 2, 101), rel = area / parent by sex and age; 0 where undefined.

    The open age and the ages inside the graduated open group (from the last census group's
    start) carry no signal.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = area / parent
        step = np.log(rel[..., 1:] / rel[..., :-1])
    out = np.zeros(np.broadcast_shapes(area.shape, parent.shape))
    out[..., :-1] = np.where(np.isfinite(step), step, 0.0)
    out[..., S.AGE_GROUPS[-1][1]:] = 0.0
    return out


def signal_components(base: np.ndarray, parent: np.ndarray, from_age: int,
                      stock: np.ndarray | None = None, gap: np.ndarray | None = None,
                      log_pr: np.ndarray | None = None, inflow_damping: float = 0.0,
                      sex_damping: float = 0.0, urban: np.ndarray | None = None
                      ) -> dict[str, np.ndarray]:
    """Each signal's annual net-migration log factors (area, 2, 101) (module docstring).

    Args:
        base: areas at the base census (area, 2, 101), persons.
        parent: each area's parent at the same census (area, 2, 101) or one (2, 101).
        from_age: first age of the structure signal (``structure_from_age``).
        stock: net intra-provincial migration stock per area (share of residents; NaN = none).
        gap: log(P/R)_area − log(P/R)_parent per area (NaN = none).
        log_pr: log(P/R) of each area itself (NaN = none), for ``inflow_damping``.
        inflow_damping: κ ≥ 0; the school inflow steps are multiplied by
            exp(−κ · max(log(P/R), 0)): in an area whose residents exceed its registered
            population the 2010 teenage inflow was largely labour migration (third study).
        sex_damping: κ_s ≥ 0; the school steps (inflow and outflow) are multiplied by
            exp(−κ_s · d), d = :func:`sex_selectivity` (fourth study).
        urban: u_area − u_parent per area (:func:`urban_gap`; NaN = none): the ``urban``
            component is (u_area − u_parent) / 10 at ages 0-14 (fifth study).
    """
    steps = _relative_steps(np.asarray(base, float), np.asarray(parent, float))
    steps[..., :from_age] = 0.0
    school = np.zeros_like(steps)
    lo, hi = _SCHOOL_STEPS
    school[..., lo:hi] = steps[..., lo:hi]
    structure = steps - school
    school_out = np.minimum(school, 0.0)
    school = school - school_out
    n = steps.shape[0]
    if inflow_damping and log_pr is not None:
        lpr = np.maximum(np.nan_to_num(np.asarray(log_pr, float)), 0.0)
        school = school * np.exp(-inflow_damping * lpr)[:, None, None]
    if sex_damping:
        keep = np.exp(-sex_damping * sex_selectivity(base, parent))[:, None, None]
        school, school_out = school * keep, school_out * keep

    def flat(values, ages) -> np.ndarray:
        v = np.zeros(n) if values is None else np.nan_to_num(np.asarray(values, float))
        out = np.zeros((n, 2, N_AGES))
        out[:, :, ages] = v[:, None, None]
        return out

    s = None if stock is None else np.log1p(np.maximum(np.nan_to_num(stock), -0.99)) / 10
    g = None if gap is None else np.asarray(gap, float) / 10
    u = None if urban is None else np.asarray(urban, float) / 10
    return {"structure": structure, "school": school, "school_out": school_out,
            "stock": flat(s, np.ones(N_AGES, bool)),
            "gap": flat(g, (AGES >= _GAP_AGES[0]) & (AGES <= _GAP_AGES[1])),
            "urban": flat(u, (AGES >= _URBAN_AGES[0]) & (AGES <= _URBAN_AGES[1]))}


def signal_weights(assumptions: DemographicAssumptions) -> dict[str, float]:
    """The weight of each signal under ``assumptions`` (name → weight)."""
    return {"structure": assumptions.structure_weight, "school": assumptions.school_flow_weight,
            "school_out": assumptions.school_flow_weight * assumptions.school_outflow_weight,
            "stock": assumptions.internal_stock_weight,
            "gap": assumptions.registration_gap_weight,
            "urban": assumptions.urban_share_weight}


def combine_signals(components: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """Σ_k weights[k] · components[k] (area, 2, 101); a signal absent from ``weights`` has
    weight 0."""
    return sum(float(weights[k]) * components[k] for k in SIGNALS if k in weights)


@data_cache(maxsize=2)
def registration_ratio() -> pd.Series:
    """log(residents / registered population) per coded row of the 2010 county table.

    Provinces, prefectures and counties as published; the nation (100000) as the sum over the
    31 province rows. Rows without a registered population are left out.
    """
    from ..config import raw_dir
    from ..io.store import load_census_migration

    df = load_census_migration(raw_dir() / "census" / "census_county_2010.xlsx")
    df = df.drop_duplicates(S.AREA).dropna(subset=["total", "registered_population"])
    df = df[(df["total"] > 0) & (df["registered_population"] > 0)]
    prov = df[df[S.AREA].str.endswith("0000")]
    out = pd.Series(np.log(df["total"].to_numpy() / df["registered_population"].to_numpy()),
                    index=df[S.AREA].to_numpy())
    out["100000"] = float(np.log(prov["total"].sum() / prov["registered_population"].sum()))
    return out


def _parent(code: str) -> str:
    return "100000" if code.endswith("0000") else code[:2] + "0000"


def _parent_gap(values: pd.Series, codes) -> np.ndarray:
    return np.array([values.get(c, np.nan) - values.get(_parent(c), np.nan)
                     for c in map(str, codes)])


def registration_gap(codes) -> np.ndarray:
    """log(P/R)_area − log(P/R)_parent for each code (NaN where either is missing)."""
    return _parent_gap(registration_ratio(), codes)


@data_cache(maxsize=2)
def urban_share() -> pd.Series:
    """Urban share u = U / (U + R) of residents per coded row of the 2010 county table.

    U urban (城镇人口), R rural residents (乡村人口); one blank of the two is read as 0 when
    the other is given (the table leaves the rural cell of a wholly urban district blank),
    rows with both blank are left out. The nation (100000) from the sums over the 31
    province rows.
    """
    from ..config import raw_dir
    from ..io.store import load_census_migration

    df = load_census_migration(raw_dir() / "census" / "census_county_2010.xlsx")
    df = df.drop_duplicates(S.AREA)
    df = df[df["urban_population"].notna() | df["rural_population"].notna()]
    urb, rur = df["urban_population"].fillna(0.0), df["rural_population"].fillna(0.0)
    ok = (urb + rur) > 0
    df, urb, tot = df[ok], urb[ok], (urb + rur)[ok]
    out = pd.Series((urb / tot).to_numpy(), index=df[S.AREA].to_numpy())
    prov = df[S.AREA].str.endswith("0000").to_numpy()
    out["100000"] = float(urb[prov].sum() / tot[prov].sum())
    return out


def urban_gap(codes) -> np.ndarray:
    """u_area − u_parent for each code (:func:`urban_share`; NaN where either is missing)."""
    return _parent_gap(urban_share(), codes)


#: |log(P/R)| at or above which a county is "high in-migration" (P/R ≥ 1.10) or "high
#: out-migration" (P/R ≤ 1/1.10) for the error bands
MIGRATION_KIND_THRESHOLD = float(np.log(1.10))
AREA_KINDS = ("urban district", "county", "county-level city", "high in-migration",
              "high out-migration")


def area_kind(code: str, log_pr: float = np.nan) -> str:
    """Kind of a county-level area for the error bands.

    High in-/out-migration (|log(P/R)| ≥ :data:`MIGRATION_KIND_THRESHOLD`, 2010 table) comes
    first; else by the GB/T 2260 code's last two digits: 01-20 urban district (市辖区),
    81-99 county-level city, otherwise county (县, 旗, and special zones).
    """
    if np.isfinite(log_pr) and abs(log_pr) >= MIGRATION_KIND_THRESHOLD:
        return "high in-migration" if log_pr > 0 else "high out-migration"
    tail = int(str(code)[-2:]) if str(code)[-2:].isdigit() else 50
    if 1 <= tail <= 20:
        return "urban district"
    if tail >= 81:
        return "county-level city"
    return "county"
