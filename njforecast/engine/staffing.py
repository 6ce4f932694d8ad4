"""Teachers and school places of one scenario, on arrays.

Public names:
    teacher_base, teacher_method, ratio_multipliers, teacher_arrays, hiring_period,
    capacity_arrays.

Formulas: ``njforecast.education.teachers`` (demand by standard ratio, class-size caps or the
area's own ratio; supply rolled forward, S(t) = S(t−1)(1 − a) + hires(t), NCES teacher model)
and ``njforecast.education.capacity`` (seats(t) = seats0 + new × φ(t); utilisation =
enrolment / seats × 100).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import schema as S
from ..education import capacity as cap_mod
from ..education import teachers as tm
from ..education.learned import damping_for
from .jumpoff import anchor_teachers
from .state import BaseState, planner_up_to, preferred_observations

LEVELS = tuple(S.SCHOOL_LEVELS)
#: why the main job's pupils per teacher follow their learned trend (issue 15 part 4)
RATIO_TREND_REASON = (
    "pupils per teacher follow the learned damped trend of the province's ratio (years up to "
    "the base year), chosen by evidence: in `njforecast evaluate` (provinces 2010→2019, "
    "China 2010→2025 and 2020→2025) teacher counts from learned ratios had a mean MAPE of "
    "12.1 % against 13.4 % with ratios held (experiments/engine-evaluation); the held "
    "ratios are the scenario 'ratios_held'")
SEAT_LEVELS = cap_mod.SEAT_LEVELS

# --- teachers ---------------------------------------------------------------------------------


def teacher_base(state: BaseState, tch: Mapping, calib: dict) -> dict:
    """Base supply, staffing ratios and attrition (:func:`njforecast.education.teachers`
    base_teacher_supply, implied_attrition, staffing_ratios)."""
    key = ("teacher_base", id(calib), repr(sorted((k, str(v)) for k, v in tch.items()
                                                       if k in ("nonteaching_share",
                                                                "vocational_as", "base_supply",
                                                                "attrition"))))

    def build():
        ratios = tm.staffing_ratios(state.standards, tch.get("nonteaching_share"),
                                    tch.get("vocational_as", tm.VOCATIONAL_AS))
        A = len(state.areas)
        base = pd.DataFrame({S.AREA: np.repeat(np.asarray(state.areas, dtype=object),
                                               len(LEVELS)),
                             S.YEAR: state.base_year,
                             S.LEVEL: np.tile(np.asarray(LEVELS, dtype=object), A),
                             S.ENROLMENT: calib["e0"][:A].reshape(-1)})
        rule = tch.get("base_supply", "standard")
        prov = state.series_obs if rule == "province_ratio" else None
        supply0 = tm.base_teacher_supply(base, ratios, rule, prov, state.region.province,
                                         planner_up_to(state))
        if "attrition" in tch:
            attrition, a_q, a_note = float(tch["attrition"]), "estimated", "set in config"
        else:
            stock_ratios, p_share = tm.base_stock_ratios(base, supply0, ratios)
            attrition = tm.implied_attrition(state.plan_obs, stock_ratios, primary_share=p_share)
            h = state.plan_obs.loc[state.plan_obs[S.INDICATOR] == "teachers_added_2016_2020",
                                   S.VALUE].iloc[0]
            a_q, a_note = "derived", (f"implied by the plan's {h:,.0f} teachers added 2016-2020 "
                                      f"at the base supply's pupil-teacher ratios ({rule}), "
                                      f"primary share {p_share:.3f} of compulsory")
        sidx = supply0.set_index([S.AREA, S.LEVEL])
        s0 = np.array([[sidx.loc[(a, lv), S.SUPPLY] for lv in LEVELS] for a in state.areas])
        r0 = np.array([[sidx.loc[(a, lv), S.RATIO] for lv in LEVELS] for a in state.areas])
        return {"ratios": ratios, "supply0": supply0, "s0": s0, "r0": r0, "rule": rule,
                "attrition": attrition, "a_q": a_q, "a_note": a_note}

    return state.cached(key, build)


def _cap_quality(state: BaseState, level: str, cap: float) -> tuple[str, str]:
    """(quality, note) of a class cap: the plan's own standard (primary, junior) is observed;
    another value is the scenario's or the config's choice, and other levels' caps are
    assumptions."""
    std = state.cached(("class_caps", "[]"), lambda: tm.class_caps(state.standards))
    if level in ("primary", "junior") and cap == float(std[level]):
        return "observed", "pupils per class (the plan's standard class size)"
    if level in ("primary", "junior"):
        return "estimated", (f"pupils per class, set by the scenario or config (standard "
                             f"{float(std[level]):g})")
    return "estimated", "pupils per class"


def teacher_method(tch: Mapping) -> tuple[str, dict]:
    cap_over = dict(tch.get("class_caps", {}))
    for lv in ("primary", "junior"):
        if f"class_size_cap_{lv}" in tch:
            cap_over[lv] = float(tch[f"class_size_cap_{lv}"])
    if "method" in tch:
        return tch["method"], cap_over
    if cap_over:
        return "class_size", cap_over
    if "standard" in tch:
        std_map = {"current": "area_ratio", "unified_2014": "standard"}
        if tch["standard"] not in std_map:
            raise ValueError(f"[teachers] standard must be one of {sorted(std_map)}, got "
                             f"{tch['standard']!r}")
        return std_map[tch["standard"]], cap_over
    return "standard", cap_over


def ratio_multipliers(state: BaseState, tch: Mapping, years, draw_ids, seed: int, D: int,
                      method: str):
    """Pupil–teacher ratio multipliers (level, year, d) from a models/ forecast
    (:func:`njforecast.education.teachers.model_ratio_multipliers`), or None."""
    rp = tch.get("ratio_path", "linear")
    if rp == "linear":
        return None, []
    if rp not in ("model", "trend"):
        raise ValueError(f"[teachers] ratio_path must be 'linear' (ratio_change a year), "
                         f"'trend' or 'model', got {rp!r}")
    if method != "area_ratio":
        raise ValueError(f"[teachers] ratio_path {rp!r} moves each area's own pupil-teacher "
                         f"ratio; it needs method = 'area_ratio', got {method!r}")
    key = ("ratio_" + rp, repr(sorted((k, str(v)) for k, v in tch.items())), tuple(years),
           None if draw_ids is None else len(draw_ids), seed)
    area = str(tch.get("ratio_series_area", state.region.province))

    def build_trend():
        obs = preferred_observations(state)
        obs = obs[obs[S.YEAR] <= int(years[0])]
        return tm.trend_ratio_multipliers(obs, years, LEVELS, area, damping_for(obs), draw_ids,
                                          int(tch.get("seed", seed)))

    if rp == "trend":
        return state.cached(key, build_trend)

    def build():
        mult, notes = tm.model_ratio_multipliers(
            preferred_observations(state), list(years), sorted(LEVELS),
            area,
            model=tch.get("ratio_model", "auto"), draw_ids=draw_ids,
            seed=int(tch.get("seed", seed)),
            min_years=int(tch.get("ratio_series_min_years", 8)),
            model_options=tch.get("ratio_model_options"))
        arr = np.ones((len(LEVELS), len(years), D))
        if len(mult):
            yi = {int(y): j for j, y in enumerate(years)}
            for r in mult.itertuples(index=False):
                m = getattr(r, S.MULTIPLIER)
                d = int(getattr(r, S.DRAW)) if S.DRAW in mult.columns else slice(None)
                arr[LEVELS.index(getattr(r, S.LEVEL)), yi[int(getattr(r, S.YEAR))], d] = \
                    1.0 if pd.isna(m) else m
        return arr, notes

    return state.cached(key, build)


def teacher_arrays(state: BaseState, tch: Mapping, base: dict, E: np.ndarray, years, draw_ids,
              seed: int) -> tuple[dict, str, dict, list]:
    """Demand by method, supply rolled forward, hires and surplus
    (:func:`njforecast.education.teachers.teacher_demand`, ``teacher_supply``; NCES teacher
    model: S(t) = S(t−1)(1 − a) + hires(t))."""
    A = len(state.areas)
    Ec = E[:A]
    D = Ec.shape[-1]
    method, cap_over = teacher_method(tch)
    caps = state.cached(("class_caps", repr(sorted(cap_over.items()))),
                        lambda: tm.class_caps(state.standards, cap_over))
    std = base["ratios"].set_index(S.LEVEL)[S.RATIO]
    std_arr = np.array([float(std[lv]) for lv in LEVELS])[None, :, None, None]
    yrs = np.asarray(years, dtype=float)
    t0 = int(years[0])
    mult, notes = ratio_multipliers(state, tch, years, draw_ids, seed, D, method)
    if method == "standard":
        ratio = np.broadcast_to(std_arr, Ec.shape)
        demand = Ec / std_arr
    elif method == "class_size":
        std_caps = state.cached(("class_caps", "[]"), lambda: tm.class_caps(state.standards))
        tpc = tm.teachers_per_class_by_level(std, std_caps, tch.get("teachers_per_class"))
        cap_a = np.array([caps[lv] for lv in LEVELS])[None, :, None, None]
        tpc_a = np.array([tpc[lv] for lv in LEVELS])[None, :, None, None]
        demand = np.ceil(Ec / cap_a - 1e-9) * tpc_a
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = Ec / demand
    elif method == "area_ratio":
        r0 = base["r0"][:, :, None, None]
        if mult is not None:
            ratio = np.maximum(r0 * mult[None], 1e-9)
        else:
            ratio = np.maximum(r0 + float(tch.get("ratio_change", 0)) * (yrs - t0)[None, None, :,
                                                                                 None], 1e-9)
        ratio = np.broadcast_to(ratio, Ec.shape)
        demand = Ec / ratio
    else:
        raise ValueError(f"teacher demand method must be 'standard', 'class_size' or "
                         f"'area_ratio', got {method!r}")
    stock = None
    jump = state.jump_off
    if jump is not None and any(k[0] == "teachers" for k in jump.values):
        demand, stock, _ = anchor_teachers(np.broadcast_to(demand, Ec.shape), jump, state.areas,
                                           t0, method == "area_ratio")
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = Ec / demand if method == "area_ratio" else ratio
    attrition = base["attrition"]
    if not 0 <= attrition < 1:
        raise ValueError(f"[teachers] attrition must be in [0, 1), got {attrition}")
    hpy = tch.get("hires_per_year")
    hpy = float(hpy) if hpy is not None and float(hpy) > 0 else None
    T = Ec.shape[2]
    sup, need, hires = (np.empty_like(demand) for _ in range(3))
    if hpy is not None:
        totals = demand.sum(axis=(0, 1), keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(totals > 0, demand / totals, 0.0)
    prev = np.broadcast_to(base["s0"][:, :, None], (A, len(LEVELS), D))
    for j in range(T):
        surviving = prev if j == 0 else prev * (1 - attrition)
        need[:, :, j] = np.maximum(0.0, demand[:, :, j] - surviving)
        if j == 0:  # the base year is observed: its stock is S0 in every scenario
            hires[:, :, j] = 0.0
        elif hpy is None:
            hires[:, :, j] = need[:, :, j]
        else:
            hires[:, :, j] = hpy * share[:, :, j]
        sup[:, :, j] = surviving + hires[:, :, j]
        if stock is not None:  # a planner's observed stock after the census year
            seen = ~np.isnan(stock[:, :, j])
            obs = np.broadcast_to(np.nan_to_num(stock[:, :, j])[..., None], sup[:, :, j].shape)
            hires[:, :, j] = np.where(seen[..., None], np.maximum(0.0, obs - surviving),
                                      hires[:, :, j])
            sup[:, :, j] = np.where(seen[..., None], obs, sup[:, :, j])
        prev = sup[:, :, j]
    surplus = sup - demand
    surplus[np.isclose(sup, demand, rtol=1e-12, atol=1e-9)] = 0.0

    def with_city(x):
        return state.aggregate(x)

    out = {S.ENROLMENT: with_city(Ec), S.DEMAND: with_city(demand), S.SUPPLY: with_city(sup),
           S.HIRES_NEEDED: with_city(need), S.HIRES: with_city(hires),
           S.SURPLUS: with_city(surplus)}
    with np.errstate(divide="ignore", invalid="ignore"):
        out[S.RATIO] = np.concatenate([np.broadcast_to(ratio, Ec.shape),
                                       out[S.ENROLMENT][A:] / out[S.DEMAND][A:]], axis=0)
    r = base["ratios"].set_index(S.LEVEL)[S.RATIO]
    assumptions = [
        ("teacher_method", method, "estimated", "demand method"),
        *((f"pupils_per_teacher_{lv}", float(r[lv]), "derived" if lv != "secondary_vocational"
           else "estimated", "staffing standard / teacher share") for lv in r.index),
        ("base_supply", base["rule"], "estimated", "county teacher counts are not public"),
        ("attrition", attrition, base["a_q"], base["a_note"]),
        ("hiring_policy", "to need" if hpy is None else f"fixed {hpy:g} a year, shared by "
         "demand", "estimated", ""),
        *((f"class_cap_{lv}", float(v), *_cap_quality(state, lv, float(v)))
          for lv, v in caps.items() if method == "class_size"),
        *((f"ratio_model_{n.split(':', 1)[0]}", tch.get("ratio_model", "auto"), "estimated",
           n.split(": ", 1)[1]) for n in notes if tch.get("ratio_path") == "model"),
        *((f"ratio_trend_{n.split(':', 1)[0]}", "learned damped trend", "estimated",
           n.split(": ", 1)[1]) for n in notes if tch.get("ratio_path") == "trend"),
        *((("ratio_path", "trend", "estimated", RATIO_TREND_REASON),)
          if tch.get("ratio_path") == "trend" else ()),
    ]
    return out, method, caps, assumptions


def hiring_period(state: BaseState, tch: Mapping) -> tuple[tuple[int, int], float | None]:
    """The plan period of the teachers-added target (``teachers_added_YYYY_YYYY`` in the
    targets table) and its value; ``[teachers] hiring_period`` overrides the period."""
    t = state.targets[state.targets[S.INDICATOR].str.match(r"^teachers_added_\d{4}_\d{4}$")]
    period, target = None, None
    if len(t):
        # of several periods (e.g. 2021–2025 and 2026–2030), the first that starts after the
        # jump-off (else the latest), whatever the order of the targets file's rows
        jump = state.jump_off.year if state.jump_off is not None else state.base_year
        spans = sorted((tuple(int(x) for x in i.split("_")[-2:]), float(v))
                       for i, v in zip(t[S.INDICATOR], t[S.TARGET], strict=True))
        period, target = next((p for p in spans if p[0][0] > jump), spans[-1])
    period = tuple(tch.get("hiring_period", period or (state.base_year + 1,
                                                       state.base_year + 5)))
    return (int(period[0]), int(period[1])), target


# --- capacity ---------------------------------------------------------------------------------


def capacity_arrays(state: BaseState, capc: Mapping, E: np.ndarray, years) -> tuple[dict, tuple,
                                                                              np.ndarray, list]:
    """Places against enrolment by unit and seat level
    (:func:`njforecast.education.capacity.compare_capacity`): seats(t) = seats0 + new × φ(t);
    utilisation = enrolment / seats × 100."""
    A = len(state.areas)
    D = E.shape[-1]
    region = state.region
    seats = state.seats
    alloc = cap_mod._allocation(region, capc.get("allocation"))
    unknown = sorted(set(seats[S.AREA]) - set(state.areas) - set(alloc))
    if unknown:
        raise ValueError(f"planned seats: unknown area(s) {unknown} for region {region.slug}")
    u0 = float(capc.get("base_utilisation", 100.0))
    rule = capc.get("base_rule", "enrolment")
    if rule != "enrolment":
        raise ValueError(f"[capacity] base rule must be 'enrolment', got {rule!r}")
    if not u0 > 0:
        raise ValueError(f"[capacity] base_utilisation must be > 0 percent, got {u0}")
    default = None
    if "period" in seats.columns and seats["period"].nunique() == 1:
        default = tuple(int(x) for x in str(seats["period"].iloc[0]).split("-"))
    period = tuple(capc.get("period", default or hiring_period(state, {})[0]))
    phase = capc.get("phase_in", "linear")
    yrs = np.asarray(years)
    start, end = int(period[0]), int(period[1])
    if phase == "linear":
        phi = np.clip((yrs - start + 1) / (end - start + 1), 0, 1)
    elif phase == "end":
        phi = (yrs >= end).astype(float)
    else:
        raise ValueError(f"[capacity] phase_in must be 'linear' or 'end', got {phase!r}")
    li = {lv: i for i, lv in enumerate(LEVELS)}
    es = np.stack([E[:A, li["preschool"]], E[:A, li["primary"]] + E[:A, li["junior"]],
                   E[:A, li["senior_general"]], E[:A, li["secondary_vocational"]]], axis=1)
    seats0 = es[:, :, 0, 0] / (u0 / 100.0)  # base places: base enrolment at u0 % use
    units = list(state.areas) + sorted(set(seats[S.AREA]) - set(state.areas))
    new = seats.groupby([S.AREA, S.LEVEL])[S.SEATS].sum()
    U = len(units)
    base_u = np.zeros((U, len(SEAT_LEVELS)))
    base_u[:A] = seats0
    new_u = np.zeros((U, len(SEAT_LEVELS)))
    for (area, level), v in new.items():
        new_u[units.index(area), SEAT_LEVELS.index(level)] = v
    st = base_u[:, :, None] + new_u[:, :, None] * phi[None, None, :]  # (U, 4, T)
    st = np.broadcast_to(st[..., None], (U, len(SEAT_LEVELS), len(years), D))
    enr_u = np.zeros_like(st)
    enr_u[:A] = es
    city_seats = st.sum(axis=0, keepdims=True)
    city_enr = enr_u.sum(axis=0, keepdims=True)
    keep = [i for i, u in enumerate(units) if alloc.get(u) != "city"]
    codes = tuple([units[i] for i in keep] + [region.code])
    seats_a = np.concatenate([st[keep], city_seats], axis=0)
    enr_a = np.concatenate([enr_u[keep], city_enr], axis=0)
    nopop = np.array([c in alloc for c in codes])
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where(seats_a > 0, enr_a / seats_a * 100.0,
                     np.where(enr_a > 0, np.inf, np.nan))
    u[nopop] = np.nan
    assumptions = [
        ("base_capacity", f"{rule} at {u0:g}% utilisation", "estimated",
         "base places are not published"),
        ("seat_phase_in", f"{phase} {period[0]}-{period[1]}", "estimated",
         "plan box 6 new places"),
        ("seat_allocation", alloc, "estimated", "units without population"),
    ]
    return ({S.SEATS: seats_a, S.ENROLMENT: enr_a, S.UTILISATION: u}, codes, nopop,
            assumptions)
