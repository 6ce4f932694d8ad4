"""The rates of one base census: DemographicInputs and prepare_inputs.

Public names:
    DemographicInputs                       frozen rates for one base census (``subset`` by area)
    prepare_inputs(base_df, assumptions)    derive every rate from the bundled data
    child_coverage_factor(base, prov, ε)    county-relative coverage correction of ages 0-4
    TOTAL_RATIO_BAND                        total-population ratio band for an area's own history

Methods (package docstring): census survival (Preston, Heuveline & Guillot 2001), census-
survival residual migration with county signals (Siegel & Swanson 2004, ch. 21), general
fertility ratio × national births index, coverage of young children (Goodkind 2011).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import schema as S
from .assumptions import AGES, N_AGES, DemographicAssumptions
from .graduation import census_groups5, to_array
from .signals import (combine_signals, registration_gap, registration_ratio, signal_components,
                      signal_weights, urban_gap)
from .reference import (_bundled_census, _province_migration, _province_single,
                        derived_fertility_sd, fertility_index_path, internal_migration_stock,
                        local_birth_adjustment, migration_log_rates, national_census,
                        national_survival)


@dataclass(frozen=True)
class DemographicInputs:
    """Rates for one base census, derived in code from the bundled data.

    Attributes:
        census_year: base census year (population at 1 November).
        areas: area codes, in array order.
        survival: annual survival ratios (2, 101).
        migration: annual net-migration log factors (area, 2, 101).
        migration_basis: per area, where its migration came from ("own", "unit:<id>",
            "province:<code>", "none").
        fertility_ratio: age-0 persons per woman in ``fertility_ages`` at the census (area,).
        fertility_weights: 1 for the ages of the women counted, else 0 (101,).
        male_share: male share of births (national age-0 count of the base census).
        fertility_index: year → (area,) index of births per woman relative to the census year
            (census-moment years ``census_year+1 ..``), including the local adjustment.
        last_observed: last census-moment year whose national births are observed.
        fertility_sd: annual sd of the log births random walk after ``last_observed``.
        base_factor: multiplicative coverage correction of the base population (area, 2, 101)
            applied before the first step (:func:`child_coverage_factor`); None = 1.
    """

    census_year: int
    areas: tuple[str, ...]
    survival: np.ndarray
    migration: np.ndarray
    migration_basis: tuple[str, ...]
    fertility_ratio: np.ndarray
    fertility_weights: np.ndarray
    male_share: float
    fertility_index: dict[int, np.ndarray] = field(repr=False)
    last_observed: int
    fertility_sd: float
    base_factor: np.ndarray | None = field(default=None, repr=False)

    def subset(self, idx) -> DemographicInputs:
        """The inputs of the areas at positions ``idx`` (for chunked runs)."""
        idx = np.asarray(idx)
        return DemographicInputs(
            census_year=self.census_year, areas=tuple(np.asarray(self.areas)[idx]),
            survival=self.survival, migration=self.migration[idx],
            migration_basis=tuple(np.asarray(self.migration_basis)[idx]),
            fertility_ratio=self.fertility_ratio[idx], fertility_weights=self.fertility_weights,
            male_share=self.male_share,
            fertility_index={y: v[idx] for y, v in self.fertility_index.items()},
            last_observed=self.last_observed, fertility_sd=self.fertility_sd,
            base_factor=None if self.base_factor is None else self.base_factor[idx])


def _region_units(census_year: int) -> list[tuple[str, list[str], list[str]]]:
    """(unit id, codes at the earlier census, codes at ``census_year``) from every region file."""
    from ..areas import load_region
    from ..config import external_dir

    out = []
    for p in sorted((external_dir() / "regions").glob("*.toml")):
        reg = load_region(p)
        for u in reg.comparable_units:
            later = [str(c) for c in u.get(f"codes_{census_year}", ())]
            earlier = [str(c) for c in u.get(f"codes_{census_year - 10}", ())]
            if later and earlier:
                out.append((str(u["id"]), earlier, later))
    return out


#: a county is compared with its own earlier census only if its total changed by a factor
#: inside this band (outside it, boundary changes are the likelier cause)
TOTAL_RATIO_BAND = (0.5, 2.0)


def _cwr(arr: np.ndarray) -> np.ndarray:
    """Child-woman ratio (…): persons aged 0-4 (both sexes) per woman aged 15-44, single ages."""
    kids = arr[..., :, 0:5].sum(axis=(-1, -2))
    women = arr[..., 1, 15:45].sum(axis=-1)
    return np.divide(kids, women, out=np.full_like(kids, np.nan), where=women > 0)


def child_coverage_factor(base_arr: np.ndarray, province_arr: np.ndarray,
                          elasticity: float) -> np.ndarray:
    """County-relative coverage correction of the base census's children aged 0-4.

    ``f = (CWR_area / CWR_province)^ε`` for ages 0-4 (both sexes), 1 at other ages, with
    CWR = persons 0-4 per woman 15-44 at the base census. Under-reporting of young children
    in China's censuses is concentrated where fertility is higher (births outside the
    birth-planning quota; Goodkind 2011, *Demography* 48:291) and where children stay with
    grandparents while their mothers work elsewhere; the child-woman ratio measures both.
    The province's own level of under-count is not touched here (the uncapped national
    survival ratios carry it); ε only spreads it between the province's counties. Areas
    with no women 15-44 or no children get 1.

    Args:
        base_arr: base population (area, 2, 101), persons.
        province_arr: each area's province at the same census (area, 2, 101) or one (2, 101).
        elasticity: ε (0 → all ones).

    Returns:
        Factors (area, 2, 101).
    """
    out = np.ones_like(base_arr, dtype=float)
    if elasticity == 0:
        return out
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = _cwr(base_arr) / _cwr(np.broadcast_to(province_arr, base_arr.shape))
    f = np.where(np.isfinite(rel) & (rel > 0), rel, 1.0) ** elasticity
    out[:, :, 0:5] = f[:, None, None]
    return out


def _migration_for(areas: list[str], base_arr: np.ndarray, census_year: int,
                   assumptions: DemographicAssumptions) -> tuple[np.ndarray, list[str]]:
    """Annual net-migration log factors per area and their basis (see DemographicAssumptions)."""
    source = assumptions.migration_source
    mig = np.zeros((len(areas), 2, N_AGES))
    basis = ["none"] * len(areas)
    if source == "none":
        return mig, basis
    earlier = census_year - 10
    pop = _bundled_census()
    have_earlier = source == "auto" and (pop[S.CENSUS_YEAR] == earlier).any()
    if have_earlier:
        old = pop[pop[S.CENSUS_YEAR] == earlier]
        old_areas, old_g = census_groups5(old)
        old_pos = {a: i for i, a in enumerate(old_areas)}
        new_all = pop[pop[S.CENSUS_YEAR] == census_year]
        new_areas, new_g = census_groups5(new_all)
        new_pos = {a: i for i, a in enumerate(new_areas)}
        units = _region_units(census_year)
    stock = gaps = lprs = urbs = None
    if source == "auto" and not have_earlier and census_year == 2010:
        stock = internal_migration_stock()
        gaps = registration_gap(areas)
        lprs = registration_ratio().reindex(list(areas)).to_numpy()
        urbs = urban_gap(areas)
    for i, code in enumerate(areas):
        if have_earlier:
            unit = next((u for u in units if code in u[2]), None)
            if unit and all(c in old_pos for c in unit[1]) and all(c in new_pos for c in unit[2]):
                ga = sum(old_g[old_pos[c]] for c in unit[1])
                gb = sum(new_g[new_pos[c]] for c in unit[2])
                mig[i] = migration_log_rates(ga, gb, earlier, census_year)
                basis[i] = f"unit:{unit[0]}"
                continue
            if code in old_pos and code in new_pos:
                ga, gb = old_g[old_pos[code]], new_g[new_pos[code]]
                ratio = gb.sum() / max(ga.sum(), 1.0)
                if TOTAL_RATIO_BAND[0] <= ratio <= TOTAL_RATIO_BAND[1]:
                    mig[i] = migration_log_rates(ga, gb, earlier, census_year)
                    basis[i] = "own"
                    continue
        prov = code[:2] + "0000"
        years = (earlier, census_year) if have_earlier else (census_year, census_year + 10)
        mig[i] = _province_migration(prov, *years)
        basis[i] = f"province:{prov}"
        if source == "auto" and code != prov:
            s = None if stock is None else np.array([stock.get(code, np.nan)])
            comp = signal_components(base_arr[i:i + 1], _province_single(census_year, prov),
                                     assumptions.structure_from_age, stock=s,
                                     gap=gaps[i:i + 1] if gaps is not None else None,
                                     log_pr=lprs[i:i + 1] if lprs is not None else None,
                                     inflow_damping=assumptions.school_inflow_damping,
                                     sex_damping=assumptions.school_sex_damping,
                                     urban=urbs[i:i + 1] if urbs is not None else None)
            mig[i] += combine_signals(comp, signal_weights(assumptions))[0]
            basis[i] += "+structure"
            if s is not None and np.isfinite(s[0]):
                basis[i] += "+internal_stock"
            if gaps is not None and np.isfinite(gaps[i]):
                basis[i] += "+registration_gap"
            if assumptions.urban_share_weight and urbs is not None and np.isfinite(urbs[i]):
                basis[i] += "+urban_share"
    return mig, basis



def prepare_inputs(base_df: pd.DataFrame, assumptions: DemographicAssumptions,
                   end_year: int = 2035, census_groups: pd.DataFrame | None = None
                   ) -> DemographicInputs:
    """Derive every rate for a base census from the bundled data (see module docstring).

    Args:
        base_df: single-age base (census_year, area, sex, age, population), one census year.
        assumptions: the named assumptions.
        end_year: last census-moment year for which a fertility index is needed.
        census_groups: the census group frame the base was graduated from (optional; only
            used to check that the fertility ratio's women are counted exactly).
    """
    years = sorted(base_df[S.CENSUS_YEAR].unique()) if S.CENSUS_YEAR in base_df else []
    if len(years) != 1:
        raise ValueError("base_df must hold exactly one census year (column census_year); "
                         f"found {years}")
    c = int(years[0])
    areas, arr = to_array(base_df)
    if assumptions.survival_source == "none":
        surv = np.ones((2, N_AGES))
    else:
        surv = national_survival(2010, 2020, cap=assumptions.survival_cap)
    lo, hi = assumptions.fertility_ages
    weights = ((AGES >= lo) & (AGES <= hi)).astype(float)
    women = (arr[:, 1] * weights).sum(axis=1)
    k = np.divide(arr[:, :, 0].sum(axis=1), women, out=np.zeros(len(areas)), where=women > 0)
    nat0 = national_census(c)
    age0 = nat0[nat0[S.AGE_GROUP] == "0"].set_index(S.SEX)[S.POPULATION]
    male_share = float(age0["male"] / age0.sum())
    mig, basis = _migration_for(areas, arr, c, assumptions)
    nat_path, last = fertility_index_path(c, max(end_year, c + 1), assumptions, surv, weights)
    ys = list(nat_path)
    idx = {y: np.full(len(areas), v) for y, v in nat_path.items()}
    if assumptions.local_births and assumptions.fertility_path != "constant" and ys:
        for i, code in enumerate(areas):
            adj, _ = local_birth_adjustment(code, c, ys, up_to=assumptions.births_until)
            for j, y in enumerate(ys):
                idx[y][i] *= adj[j]
    sd = assumptions.fertility_sd if assumptions.fertility_sd is not None else \
        derived_fertility_sd(up_to=assumptions.births_until)
    base_factor = None
    if assumptions.child_coverage_elasticity != 0:
        prov = np.stack([_province_single(c, code[:2] + "0000") for code in areas])
        base_factor = child_coverage_factor(arr, prov, assumptions.child_coverage_elasticity)
    return DemographicInputs(census_year=c, areas=tuple(areas), survival=surv, migration=mig,
                             migration_basis=tuple(basis), fertility_ratio=k,
                             fertility_weights=weights, male_share=male_share,
                             fertility_index=idx, last_observed=last, fertility_sd=sd,
                             base_factor=base_factor)

