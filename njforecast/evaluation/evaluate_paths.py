"""What ``evaluate`` projects each indicator from, and its rate paths (design: :mod:`.evaluate`).

Public names:
    CENSUS_YEARS, NATION, BAND_GER, Spec, SPECS, PATHS, trend_settings(calibration),
    rate_path(g, J, years, settings, draw_ids, seed, key, spread), ger_inner_sd(g, J, φ),
    census_ages(J[, sex]), nation_rate_history(cal, indicator, ages, J[, window]),
    fertility_history(cal, women, J), fertility_path(cal, J, end, φ), RatePaths (the
    multipliers of one evaluation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import demography as dem
from .. import schema as S
from ..education import enrolment as en
from ..education import learned

#: Census years the population can jump off from (bundled census tables).
CENSUS_YEARS = (2010, 2020)
NATION = "100000"

_BAND_AGES = {"preschool": (3, 5), "primary": (6, 11), "junior": (12, 14), "senior": (15, 17)}
#: the GER series (percent) whose path moves a band's rate; primary has none (held)
BAND_GER = {"preschool": "preschool_ger_pct", "junior": "junior_ger_pct",
            "senior": "senior_stage_ger_pct"}


@dataclass(frozen=True)
class Spec:
    """How one observed indicator is projected.

    Attributes:
        ages: (first, last) age of the population window W (None: a held percent).
        band: the school band whose rate path m moves it (None: m = 1).
        kind: "count" (x(J)·W(t)/W(J)·m(t)), "ger" (the band's G(t)), "hold" (x(J)),
            "birth_rate" (x(J) · [W0(t)/W0(J)] / [Wall(t)/Wall(J)]).
        enrolment: for a teacher count, the level's enrolment indicator (pupils per teacher).
    """

    ages: tuple[int, int] | None
    band: str | None = None
    kind: str = "count"
    enrolment: str | None = None


def _level_specs() -> dict[str, Spec]:
    out = {}
    for prefix, band in (("kindergarten", "preschool"), ("primary", "primary"),
                         ("junior", "junior"), ("senior_general", "senior"),
                         ("vocational_secondary", "senior"),
                         ("vocational_secondary_institutions", "senior")):
        lo, hi = _BAND_AGES[band]
        enrol = "children" if prefix == "kindergarten" else "enrolment"
        out[f"{prefix}_{enrol}"] = Spec((lo, hi), band)
        out[f"{prefix}_teachers"] = Spec((lo, hi), band, enrolment=f"{prefix}_{enrol}")
        out[f"{prefix}_entrants"] = Spec((lo, lo), band)
        out[f"{prefix}_graduates"] = Spec((hi + 1, hi + 1), band)
    return out


#: observation indicator → :class:`Spec` (every indicator of the bundled provincial file).
SPECS: dict[str, Spec] = {
    **_level_specs(),
    "births": Spec((0, 0)),
    "population_year_end": Spec((0, dem.N_AGES - 1)),
    "birth_rate_permille": Spec((0, 0), kind="birth_rate"),
    **{g: Spec(None, band, "ger") for band, g in BAND_GER.items()},
    "compulsory_consolidation_pct": Spec(None, kind="hold"),
    "primary_net_enrolment_pct": Spec(None, kind="hold"),
}



def _series(obs: pd.DataFrame, area: str, indicator: str) -> pd.Series:
    o = obs[(obs[S.AREA] == area) & (obs[S.INDICATOR] == indicator)]
    return o.groupby(S.YEAR)[S.VALUE].first().astype(float).sort_index()


def trend_settings(calibration: pd.DataFrame) -> tuple[float, float] | None:
    """(damping φ, drift sd σ) from national rate series dated ≤ J; None when the engine
    cannot estimate them from those years (the rate is then held)."""
    try:
        p = en.trend_parameters(calibration)
    except ValueError:
        return None
    return float(p["damping"]), float(p["drift_sd"])


def _ger_mean(g: pd.Series, origin: int, h: np.ndarray, phi: float
              ) -> tuple[float, np.ndarray] | None:
    """(slope b, mean path at leads ``h``) of the GER path from ``origin`` (:func:`rate_path`
    without draws): b = the change over the longest window of at most five years ending at
    ``origin``; None when ``g`` has no earlier value in that window (the rate is then held)."""
    v0 = float(g[origin])
    for w in range(en.TREND_WINDOW, 0, -1):
        if origin - w in g.index:
            b = (v0 - float(g[origin - w])) / w
            return b, en.damped_trend(v0, b, h.astype(float), phi, 0.0, max(100.0, v0))
    return None


def ger_inner_sd(g: pd.Series, jump_off: int, phi: float) -> tuple[float, int]:
    """σ_inner of the GER path (percentage points a year): the rule's slope-equivalent errors
    from its inner origins (:func:`njforecast.education.learned.inner_origin_errors` on G,
    origins without a slope skipped), history J − 10 … J."""
    g = g[(g.index <= jump_off) & (g.index >= jump_off - learned.HISTORY_YEARS)]

    def forecast(hist, o, t):
        fit = _ger_mean(hist, o, t - o, phi)
        return None if fit is None else fit[1]

    return learned.inner_origin_errors(g, phi, forecast)


def rate_path(g: pd.Series, jump_off: int, years: np.ndarray, settings, draw_ids, seed: int,
              key: str, spread: str = "slopes") -> tuple[np.ndarray, str]:
    """G_d(t) (d, T) of a GER series from its value at J (module formula) and a note;
    ``spread="inner"`` raises σ to the path's inner-origin error (:func:`ger_inner_sd`)."""
    v0 = float(g[jump_off])
    D = len(draw_ids) if draw_ids is not None else 1
    if settings is None:
        return np.full((D, len(years)), v0), "held (no trend parameters from data ≤ J)"
    phi, sd = settings
    how = "trend parameters"
    if spread == "inner":
        inner, pairs = ger_inner_sd(g, jump_off, phi)
        if inner > sd:
            sd, how = inner, f"inner-origin error, {pairs} pairs"
    h = (years - jump_off).astype(float)
    fit = _ger_mean(g, jump_off, h, phi)
    b = 0.0 if fit is None else fit[0]
    shocks = en.drift_shocks(draw_ids, sd, seed, key) if draw_ids is not None else 0.0
    path = en.damped_trend(v0, b + shocks, h, phi, 0.0, max(100.0, v0))
    return path, (f"trend from {v0:g}: slope {b:+.3f} a year, φ {phi:.3f}, σ {sd:.3f} "
                  f"({how})")


#: rate-path designs: "learned" (default), "held" (the first scored runs) and "learned-rates"
#: (rates learned, pupils per teacher held: isolates the staffing path; module docstring)
PATHS = ("learned", "held", "learned-rates")


def census_ages(census_year: int, sex: int | None = None) -> np.ndarray:
    """The nation's persons by single age 0..100 at the census of ``census_year`` (both sexes,
    or ``sex`` 0 men, 1 women)."""
    _, arr = dem.to_array(dem.graduate_single_ages(dem.national_census(census_year)))
    return arr[0].sum(axis=0) if sex is None else arr[0][sex]


def _reverse_survived(ages: np.ndarray, lo: int, hi: int, jump_off: int, t: int) -> float:
    """Persons aged lo..hi in year t: those aged lo + J − t … hi + J − t at J (age 100 open)."""
    top = len(ages) - 1
    return float(ages[min(lo + jump_off - t, top):min(hi + jump_off - t, top) + 1].sum())


def nation_rate_history(cal: pd.DataFrame, indicator: str, ages: np.ndarray, jump_off: int,
                        window: tuple[int, int] | None = None) -> pd.Series:
    """r(t) = x(t) / W(t) of the nation for t = J − 10 … J, W the persons of the indicator's
    age window (or ``window``) by reverse survival from the census of J, ``ages`` its persons
    by age (module docstring); empty when the nation has no such values."""
    lo, hi = window or SPECS[indicator].ages
    x = _series(cal, NATION, indicator)
    x = x[(x.index <= jump_off) & (x.index >= jump_off - learned.HISTORY_YEARS) & (x > 0)]
    w = pd.Series({int(t): _reverse_survived(ages, lo, hi, jump_off, int(t)) for t in x.index},
                  dtype=float)
    return (x / w.replace(0, np.nan)).dropna()


#: ages of the women whose births per woman the fertility path learns (as the engine's
#: fertility ratio counts them)
FERTILE_AGES = (15, 49)


def fertility_history(cal: pd.DataFrame, women: np.ndarray, jump_off: int) -> pd.Series:
    """f(t) = births(t) / women 15–49 (t) of the nation, t = J − 10 … J, the women by reverse
    survival from the census of J (``women``: census women by age, :func:`census_ages`)."""
    return nation_rate_history(cal, "births", women, jump_off, FERTILE_AGES)


def fertility_path(cal: pd.DataFrame, jump_off: int, end_year: int, phi: float
                   ) -> tuple[dict[int, float] | None, str]:
    """The learned mean path of births per woman after J relative to J, {year: m(t)} for
    J < t ≤ ``end_year`` (module design of :mod:`.evaluate`), and a note; (None, why) when
    the nation's births history ≤ J is too short (fertility is then held)."""
    hist = fertility_history(cal, census_ages(jump_off, sex=1), jump_off)
    tr = learned.learn_log_trend(hist, jump_off, phi)
    if tr is None:
        return None, ("held (the nation's births history ≤ J ends more than 2 years before J "
                      "or has fewer than 3 values in its last six years)")
    years = np.arange(jump_off + 1, end_year + 1)
    m = learned.learned_multipliers(tr, years, jump_off)[0]
    return dict(zip(years.tolist(), m.tolist(), strict=True)), (
        f"births / women {FERTILE_AGES[0]}-{FERTILE_AGES[1]} (nation, reverse survival from "
        f"census {jump_off}), mean path; draws: the engine's log random walk; {tr.note}")


class RatePaths:
    """The rate multipliers m_d(t) (d, T) of one evaluation, built once per key."""

    def __init__(self, cal, jump_off, years, settings, draws, seed, paths):
        self.cal, self.j, self.years, self.settings = cal, jump_off, years, settings
        self.ids, self.seed, self.paths = np.arange(draws), seed, paths
        self.phi = settings[0] if settings is not None else learned.FALLBACK_DAMPING
        #: learned designs take the inner-origin spread; "held" keeps the first design's
        self.spread = "slopes" if paths == "held" else "inner"
        self._memo, self.notes, self._ages = {}, [], None

    def _note(self, name, value, note):
        self.notes.append((name, value, note))

    def ger(self, area: str, band: str):
        """The band's G_d(t), or None (no GER of the band in J)."""
        key = ("ger", area, band)
        if key not in self._memo:
            g = _series(self.cal, area, BAND_GER[band])
            path, note = ((None, "held (no GER of the band in J)") if self.j not in g.index
                          else rate_path(g, self.j, self.years, self.settings, self.ids,
                                         self.seed, BAND_GER[band], self.spread))
            self._memo[key] = path
            self._note(f"rate_path_{area}_{band}", BAND_GER[band], note)
        return self._memo[key]

    def _learned(self, key, series: pd.Series, name: str, value: str, centre: str):
        if key not in self._memo:
            tr = learned.learn_log_trend(series, self.j, self.phi, self.spread)
            self._memo[key] = None if tr is None else learned.learned_multipliers(
                tr, self.years, self.j, self.ids, self.seed, "|".join(key),
                centre=centre if self.spread == "inner" else None)
            self._note(name, value, "held (fewer than 3 values in J−5…J)" if tr is None
                       else tr.note)
        return self._memo[key]

    def count(self, area: str, indicator: str):
        """m of a count of a school band: the GER trend where it applies, else the learned
        rate path of the nation's history of the indicator ("learned") or 1 (None)."""
        spec = SPECS[indicator]
        if spec.band in BAND_GER and (self.settings is not None or self.paths == "held"):
            ger = self.ger(area, spec.band)
            if ger is not None:
                return ger / ger[:, :1]
        if self.paths == "held" or spec.band is None:
            return None
        if self._ages is None:
            self._ages = census_ages(self.j)
        hist = nation_rate_history(self.cal, indicator, self._ages, self.j)
        return self._learned(("rate", indicator), hist, f"rate_path_{indicator}",
                             f"{indicator} / persons of ages {spec.ages[0]}-{spec.ages[1]}, "
                             f"nation {NATION}, reverse survival from census {self.j}", "value")

    def pupils_per_teacher(self, area: str, indicator: str):
        """p_d(t) of a teacher count: the learned path of the area's own E/T, or None."""
        spec = SPECS[indicator]
        if self.paths != "learned" or spec.enrolment is None:
            return None
        e, t = _series(self.cal, area, spec.enrolment), _series(self.cal, area, indicator)
        ratio = (e / t[t > 0]).dropna()
        return self._learned(("ptr", area, indicator), ratio, f"ratio_path_{area}_{indicator}",
                             f"{spec.enrolment} / {indicator} (derived)", "reciprocal")

