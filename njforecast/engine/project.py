"""One scenario projected on arrays: population → enrolment → indicators → teachers → capacity.

Public names:
    Projection (frozen: the arrays and their coordinates), project(state, scenario=None).

Arrays carry the draw axis last. Counties come first on the area axis and the region (city)
last: the city is the sum of its areas, draw by draw (bottom-up coherence, DESIGN §5). Shapes:

=============  =====================================  ======================================
array          shape                                  unit
=============  =====================================  ======================================
population     (area, sex, age 0..max_age, year, d)   persons at 1 September of the year
enrolment      (area + city, level, year, d)          pupils (any age)
indicators     name → (area + city, year, d)          percent or persons (``units``)
teachers       field → (area + city, level, year, d)  teachers; ratio in pupils per teacher
capacity       field → (unit, seat level, year, d)    places, pupils; utilisation percent
=============  =====================================  ======================================

The formulas are those of the education stage functions (each named below with its
reference); this module evaluates them over whole arrays so a scenario costs milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import demography as dem
from ..education.trend import trend_assumptions
from .jumpoff import adjust_enrolment, adjust_indicators, jump_off_assumptions, teacher_mask
from .enrolment import (BANDS, LEVELS, SEAT_LEVELS, calibration, consolidation_arrays,
                        enrolment_arrays, flow_arrays, indicator_arrays, plan_ger_targets,
                        population_arrays, rate_path_arrays)
from .staffing import capacity_arrays, hiring_period, teacher_arrays, teacher_base
from .state import BaseState, rate_target_ids, stage_configs

__all__ = ["BANDS", "LEVELS", "SEAT_LEVELS", "Projection", "project"]


@dataclass(frozen=True, eq=False)
class Projection:
    """The arrays of one scenario and their coordinates (see the module table).

    Attributes:
        scenario: scenario name.
        overrides: the scenario's overrides (field → value).
        stages: the stage config tables in force (scenario applied).
        years: school years, jump-off first (int array).
        draws: number of draws (0 = one point path, stored as one draw).
        codes: area codes on the area axis (counties, then the city).
        population, band_population: (county, sex, age, year, d), (county + city, band, year, d).
        enrolment: (county + city, level, year, d); enrolment_quality: (county + city, level)
            quality of the census year's values (later years are "estimated");
            enrolment_observed: (county + city, level, year) True where a planner's count after
            the census year is used (quality "observed"; :mod:`njforecast.engine.jumpoff`).
        indicators, indicator_units, indicator_quality, indicator_first: name → values,
            unit, quality by (area, year), first valid year index.
        teachers: field → (county + city, level, year, d); teacher_method: the method;
            teacher_observed: (county + city, level, year) True where a planner's count after
            the census year is the stock (quality "observed"), or None.
        hiring_period: (first, last) year of the plan's teachers-added target.
        jump_off_year: the run's jump-off year (the latest year a planner's series is
            calibrated at; the census year without one).
        capacity: field → (unit, seat level, year, d); capacity_codes: units on its axis;
            capacity_nopop: units without population (no utilisation).
        rates, rate_mult: the calibrated base (frame) and the rate-path multipliers.
        assumptions: (name, value, quality, note) rows of the stage assumptions.
    """

    scenario: str
    overrides: dict
    stages: dict
    years: np.ndarray
    draws: int
    codes: tuple[str, ...]
    population: np.ndarray
    band_population: np.ndarray
    enrolment: np.ndarray
    enrolment_quality: np.ndarray
    enrolment_observed: np.ndarray | None
    indicators: dict
    indicator_units: dict
    indicator_quality: dict
    indicator_first: dict
    teachers: dict
    teacher_method: str
    hiring_period: tuple[int, int]
    hiring_target: float | None
    capacity: dict
    capacity_codes: tuple[str, ...]
    capacity_nopop: np.ndarray
    rates: pd.DataFrame
    rate_mult: Any
    assumptions: list
    dem_assumptions: dem.DemographicAssumptions
    end_year: int
    seed: int
    teacher_observed: np.ndarray | None = None
    jump_off_year: int | None = None

    @property
    def city(self) -> str:
        return self.codes[-1]


# --- the projection ---------------------------------------------------------------------------


def project(state: BaseState, scenario=None) -> Projection:
    """Project one scenario from the base state (numpy only; no file is read).

    Args:
        state: :func:`njforecast.engine.state.build_state` output.
        scenario: a :class:`njforecast.planning.scenarios.Scenario` (None = the config's
            assumptions); its end_year, draws and seed replace the config's.

    Returns:
        :class:`Projection`. Same state + scenario + seed → identical numbers.
    """
    cfg = state.config
    overrides = scenario.overrides() if scenario is not None else {}
    end_year = int(overrides.get("end_year", cfg.end_year))
    draws = int(overrides.get("draws", cfg.draws))
    seed = int(overrides.get("seed", cfg.seed))
    if end_year < state.base_year:
        raise ValueError(f"end_year {end_year} is before the base year {state.base_year}")
    stages = stage_configs(cfg, overrides, rate_target_ids(state.targets, state.region.code))
    sec = dict(stages["demography"])
    sec.pop("max_age", None)
    assumptions = dem.DemographicAssumptions.from_config(sec)
    enr, tch, capc = stages["enrolment"], stages["teachers"], stages["capacity"]
    years = np.arange(state.base_year, end_year + 1)
    D = max(draws, 1)
    draw_ids = np.arange(draws) if draws else None
    pop = population_arrays(state, assumptions, end_year, draws, seed)
    calib = calibration(state, enr, pop)
    bands = calib["bands"]
    bp = np.stack([pop[:, :, lo:hi + 1].sum(axis=(1, 2)) for lo, hi in bands.values()], axis=1)
    mult, model_notes, trend = rate_path_arrays(state, enr, calib, list(years), draw_ids, seed)
    E = enrolment_arrays(state, calib, mult, bp, D)
    method = enr.get("method", "rate")
    flow_note = ""
    if method == "flow":
        E, flow_note = flow_arrays(state, enr, E, pop, calib)
    elif method != "rate":
        raise ValueError(f"[enrolment] method must be 'rate' or 'flow', got {method!r}")
    jump = state.jump_off
    E, emask, jnotes = (adjust_enrolment(E, jump, state.codes, state.base_year, state.aggregate)
                        if jump is not None else (E, None, []))
    cons = consolidation_arrays(state, enr, trend, list(years), draw_ids, seed, D)
    ind, units, iq, first = indicator_arrays(state, calib, E, bp, pop, calib["q0"], cons)
    if jump is not None and jump.values:
        adjust_indicators(ind, iq, jump, state.codes, state.base_year, emask)
    tbase = teacher_base(state, tch, calib)
    teachers, t_method, _, t_assumptions = teacher_arrays(state, {"seed": seed, **tch}, tbase, E,
                                                     list(years), draw_ids, seed)
    period, htarget = hiring_period(state, tch)
    capacity, cap_codes, nopop, c_assumptions = capacity_arrays(state, capc, E, list(years))
    path = enr.get("rate_path", "hold")
    ger_targets, target_year = plan_ger_targets(state, enr)
    stage_assumptions = [
        ("base_year", state.base_year, "observed",
         f"population at 1 Sep {state.base_year} (start of school year {state.base_year}): the "
         "1 Nov census taken back one step by demography"),
        ("population_basis", calib["basis"], "estimated",
         f"GER denominators: {calib['basis_note']}"),
        ("ger_basis", calib["ger_basis"], "estimated",
         {"plan": "denominators scaled so the base GERs equal the plan's",
          "resident": "resident population as is",
          "registered": "resident population × registered/resident ratio"}[calib["ger_basis"]]),
        *((f"ger_factor_{b}", float(calib["f"][i]), "estimated",
           "GER denominator / resident population") for i, b in enumerate(BANDS)),
        ("bands", {b: list(v) for b, v in bands.items()}, "observed", "official ages"),
        ("split_rule", enr.get("split_rule", "ger"), "estimated",
         "primary/junior split of the plan's compulsory count"),
        ("distribution_rule", enr.get("distribution_rule", "age_structure"), "estimated",
         "county values from the city baseline"),
        ("enrolment_method", method, "estimated", flow_note),
        ("rate_path", path, "estimated", f"targets {ger_targets} by {target_year}"
         if path == "target" else ("damped trend of plan box 1 2015→2020 with drift draws"
                                   if path == "trend" else
                                   (f"city GER path from file {enr.get('ger_path')}"
                                    if path == "external" else ""))),
        *((f"rate_model_{k}", enr.get("rate_model", "auto"), "estimated", v) if path == "model"
          else (k, path, "estimated", v) for k, v in (n.split(": ", 1) for n in model_notes)),
        ("consolidation_path", enr.get("consolidation_path", "hold"), "estimated", ""),
        *(trend_assumptions(trend) if trend is not None else []),
        *t_assumptions, *c_assumptions,
        *(("skipped", "", "estimated", line) for line in state.skipped),
        *(jump_off_assumptions(jump, jnotes) if state.planner is not None and jump is not None
          else []),
    ]
    return Projection(
        scenario=scenario.name if scenario is not None else "baseline", overrides=overrides,
        stages=stages, years=years, draws=draws, codes=state.codes,
        population=pop, band_population=state.aggregate(bp),
        enrolment=E, enrolment_quality=calib["q0"], enrolment_observed=emask, indicators=ind,
        indicator_units=units,
        indicator_quality=iq, indicator_first=first, teachers=teachers, teacher_method=t_method,
        hiring_period=period, hiring_target=htarget, capacity=capacity,
        jump_off_year=jump.year if jump is not None else state.base_year,
        capacity_codes=cap_codes, capacity_nopop=nopop, rates=calib["rates"], rate_mult=mult,
        assumptions=stage_assumptions, dem_assumptions=assumptions, end_year=end_year,
        seed=seed, teacher_observed=None if jump is None or not jump.values else teacher_mask(
            jump, state.codes, state.base_year, len(years)))
