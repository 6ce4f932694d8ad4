"""A run's results: the projection's arrays, and the tidy frames built from them at the edge.

Public names:
    Results (frozen; frames built on first use), make_results(state, projection, cfg),
    quality_table(*frames).

Frames follow DESIGN §4. Long frames with a draw column (population, enrolment, indicators,
teachers, capacity, target_series) are built only when something reads them; the summaries
the report and the served model need (``tables()``, ``projection_summary()``) come straight
from the arrays through :func:`njforecast.engine.summaries.summarise`.
"""

from __future__ import annotations


from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from .. import schema as S
from ..areas import Region
from ..config import RunConfig
from ..demography.error_bands import error_columns
from ..education.capacity import capacity_status, capacity_years
from ..education.teachers import hiring_need
from ..planning.targets import NEED_TARGETS
from .project import LEVELS, SEAT_LEVELS, Projection
from .state import BaseState
from .summaries import summarise

#: Oldest age in the ``population_school_age`` table.
SCHOOL_TABLE_MAX_AGE = 22



def _grid(*axes) -> list[np.ndarray]:
    """Flattened coordinates of the Cartesian product of ``axes`` (C order)."""
    mesh = np.meshgrid(*[np.asarray(a) for a in axes], indexing="ij")
    return [m.ravel() for m in mesh]


def _summary_frame(keys: dict[str, np.ndarray], values: np.ndarray, sort_by: list[str]
                   ) -> pd.DataFrame:
    """``keys`` columns (flattened, one per cell) + mean … hi95 of ``values`` (cells × d)."""
    s = summarise(values, axis=-1)
    df = pd.DataFrame({**keys, **s})
    return df.sort_values(sort_by, kind="stable").reset_index(drop=True)


def quality_table(*frames: pd.DataFrame) -> pd.DataFrame:
    """area, indicator/level, quality, rows — which outputs rest on estimated inputs."""
    parts = []
    for df in frames:
        if df is None or S.QUALITY not in df.columns:
            continue
        key = S.INDICATOR if S.INDICATOR in df.columns else S.LEVEL
        q = df.groupby([S.AREA, key, S.QUALITY]).size().rename("rows").reset_index()
        parts.append(q.rename(columns={key: "item"}))
    if not parts:
        return pd.DataFrame(columns=[S.AREA, "item", S.QUALITY, "rows"])
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True, eq=False)
class Results:
    """Everything one run produced.

    Attributes:
        config: the run's config (scenario's horizon, draws and seed applied).
        region: the region.
        data_hash: sha256 of the input files.
        scenario: scenario name ("baseline" when none).
        projection: the arrays (:class:`njforecast.engine.project.Projection`).
        observations: observed series for overlays (area, year, indicator, value, quality).
        assumptions: name, value, quality, note — every named assumption of the run.
        sources: the data sources table.
        target_ids: the plan's target indicator ids.
        staffing_ratios: pupils per teacher by level of the staffing standard in force.
        target_years: the years the plan's targets fall in.

    Frames (built on first use): population, enrolment, indicators, teachers, capacity,
    target_series, quality, extra (rates, rate path multipliers, hiring, hiring_summary,
    staffing ratios, capacity_years).
    """

    config: RunConfig
    region: Region
    data_hash: str
    scenario: str
    projection: Projection
    observations: pd.DataFrame
    assumptions: pd.DataFrame
    sources: pd.DataFrame
    target_ids: tuple[str, ...]
    staffing_ratios: pd.DataFrame = field(repr=False, default=None)
    target_years: tuple[int, ...] = ()

    # --- coordinates ---------------------------------------------------------------------

    @property
    def jump_off_year(self) -> int:
        """The run's jump-off year (:class:`njforecast.engine.project.Projection`)."""
        return int(self.projection.jump_off_year or self.config.base_year)

    @property
    def _dk(self) -> list[str]:
        return [S.DRAW] if self.projection.draws else []

    @property
    def _d(self) -> np.ndarray:
        return np.arange(max(self.projection.draws, 1))

    def _cells(self, arr: np.ndarray, axes: list[tuple[str, np.ndarray]], value: str
               ) -> pd.DataFrame:
        """Long frame of ``arr`` (axes…, d) with one row per cell and draw."""
        coords = _grid(*[a for _, a in axes], self._d)
        cols = {name: coords[i] for i, (name, _) in enumerate(axes)}
        if self.projection.draws:
            cols[S.DRAW] = coords[-1]
        cols[value] = np.asarray(arr, float).reshape(-1)
        return pd.DataFrame(cols)

    # --- long frames -----------------------------------------------------------------------

    @cached_property
    def population(self) -> pd.DataFrame:
        """area, year, sex, age, population[, draw] (persons at 1 September; counties)."""
        p = self.projection
        arr = np.moveaxis(p.population, 3, 0)  # (year, area, sex, age, d)
        df = self._cells(arr, [(S.YEAR, p.years), (S.AREA, np.asarray(p.codes[:-1], object)),
                               (S.SEX, np.asarray(S.SEXES, object)),
                               (S.AGE, np.arange(arr.shape[3]))], S.POPULATION)
        return df[[S.AREA, S.YEAR, S.SEX, S.AGE, *self._dk, S.POPULATION]]

    @cached_property
    def enrolment(self) -> pd.DataFrame:
        """area, year, level[, draw], enrolment, quality, rate_path, method."""
        p = self.projection
        arr = np.moveaxis(p.enrolment, 2, 1)  # (area, year, level, d)
        df = self._cells(arr, [(S.AREA, np.asarray(p.codes, object)), (S.YEAR, p.years),
                               (S.LEVEL, np.asarray(LEVELS, object))], S.ENROLMENT)
        q = np.broadcast_to(self._enrolment_quality()[:, :, :, None], arr.shape).reshape(-1)
        df[S.QUALITY] = q
        df[S.RATE_PATH] = p.rate_mult.path
        df[S.METHOD] = p.stages["enrolment"].get("method", "rate")
        keys = [S.AREA, S.YEAR, S.LEVEL, *self._dk]
        return df.sort_values(keys, kind="stable").reset_index(drop=True)

    def _enrolment_quality(self) -> np.ndarray:
        """(area, year, level): the jump-off year's calibration quality, else estimated."""
        p = self.projection
        q = np.full((len(p.codes), len(p.years), len(LEVELS)), "estimated", dtype=object)
        q[:, 0, :] = p.enrolment_quality
        if p.enrolment_observed is not None:
            q[np.moveaxis(p.enrolment_observed, 2, 1)] = "observed"
        return q

    @cached_property
    def indicators(self) -> pd.DataFrame:
        """area, year[, draw], indicator, value, unit, quality, rate_path."""
        return self._indicator_cells()

    def _indicator_cells(self, only: set[str] | None = None) -> pd.DataFrame:
        """The indicators frame, of the indicators in ``only`` (all when None)."""
        p = self.projection
        parts = []
        for ind, v in p.indicators.items():
            if only is not None and ind not in only:
                continue
            j0 = p.indicator_first[ind]
            df = self._cells(v[:, j0:], [(S.AREA, np.asarray(p.codes, object)),
                                         (S.YEAR, p.years[j0:])], S.VALUE)
            df[S.INDICATOR] = ind
            df[S.UNIT] = p.indicator_units[ind]
            df[S.QUALITY] = np.repeat(p.indicator_quality[ind][:, j0:].reshape(-1),
                                      max(p.draws, 1))
            parts.append(df)
        cols = [S.AREA, S.YEAR, *self._dk, S.INDICATOR, S.VALUE, S.UNIT, S.QUALITY]
        if not parts:
            return pd.DataFrame(columns=[*cols, S.RATE_PATH])
        out = pd.concat(parts, ignore_index=True)
        out = out[cols]
        out = out.sort_values([S.AREA, S.INDICATOR, S.YEAR, *self._dk], kind="stable")
        out = out.reset_index(drop=True)
        out[S.RATE_PATH] = p.rate_mult.path
        return out

    @cached_property
    def teachers(self) -> pd.DataFrame:
        """area, year, level[, draw], enrolment, ratio, demand, supply, hires_needed, hires,
        surplus (teachers; ratio pupils per teacher), method, quality."""
        p = self.projection
        axes = [(S.AREA, np.asarray(p.codes, object)), (S.LEVEL, np.asarray(LEVELS, object)),
                (S.YEAR, p.years)]
        cols = [S.ENROLMENT, S.RATIO, S.DEMAND, S.SUPPLY, S.HIRES_NEEDED, S.HIRES, S.SURPLUS]
        df = self._cells(p.teachers[cols[0]], axes, cols[0])
        for c in cols[1:]:
            df[c] = np.asarray(p.teachers[c], float).reshape(-1)
        df[S.METHOD] = p.teacher_method
        df[S.QUALITY] = "estimated"
        if p.teacher_observed is not None:
            seen = np.broadcast_to(p.teacher_observed[..., None], p.teachers[S.DEMAND].shape)
            df[S.QUALITY] = np.where(seen.reshape(-1), "observed", "estimated")
        keys = [S.AREA, S.YEAR, S.LEVEL, *self._dk]
        return df[[*keys, *cols, S.METHOD, S.QUALITY]].sort_values(
            [S.AREA, S.LEVEL, S.YEAR, *self._dk], kind="stable").reset_index(drop=True)

    @cached_property
    def capacity(self) -> pd.DataFrame:
        """area, year, level (seat level)[, draw], seats, enrolment, utilisation, status,
        quality."""
        p = self.projection
        axes = [(S.AREA, np.asarray(p.capacity_codes, object)),
                (S.LEVEL, np.asarray(SEAT_LEVELS, object)), (S.YEAR, p.years)]
        df = self._cells(p.capacity[S.SEATS], axes, S.SEATS)
        for c in (S.ENROLMENT, S.UTILISATION):
            df[c] = np.asarray(p.capacity[c], float).reshape(-1)
        df[S.STATUS] = capacity_status(df[S.UTILISATION])
        df[S.QUALITY] = "estimated"
        keys = [S.AREA, S.YEAR, S.LEVEL, *self._dk]
        return df[[*keys, S.SEATS, S.ENROLMENT, S.UTILISATION, S.STATUS, S.QUALITY]].sort_values(
            keys, kind="stable").reset_index(drop=True)

    @cached_property
    def target_series(self) -> pd.DataFrame:
        """The projected plan-target indicators: area, year, indicator, value[, draw], quality.

        Indicators the stages report under the plan's ids are taken as they are;
        ``teachers_added_<first>_<last>`` = Σ hires over the plan period, city, all levels
        (hires = hires needed when hiring to need), dated at the period's last year and
        reported for later years as the running sum over the same number of years.
        """
        p = self.projection
        # only the target indicators' cells (the whole indicators frame is 10× larger)
        ind = (self.__dict__["indicators"] if "indicators" in self.__dict__
               else self._indicator_cells(set(self.target_ids)))
        keep = [S.AREA, S.YEAR, S.INDICATOR, S.VALUE, *self._dk, S.QUALITY]
        parts = [ind.loc[ind[S.INDICATOR].isin(set(self.target_ids)), keep]]
        added = self.teachers_added()
        for name, ends, vals in added:
            t = self._cells(vals[None], [(S.AREA, np.asarray([p.city], object)),
                                         (S.YEAR, ends)], S.VALUE)
            t[S.INDICATOR] = name
            t[S.QUALITY] = "estimated"
            parts.append(t[keep])
        out = pd.concat([x for x in parts if len(x)] or parts[:1], ignore_index=True)
        out[S.YEAR] = out[S.YEAR].astype(int)
        out = out.sort_values([S.INDICATOR, S.AREA, S.YEAR, *self._dk], kind="stable")
        out = out.reset_index(drop=True)
        if added:
            kind = "hires" if self.fixed_hiring() else "need"
            out.attrs["projected_as"] = {name: kind for name, _, _ in added}
        return out

    def fixed_hiring(self) -> bool:
        """True when the teachers stage follows a fixed hiring plan (``[teachers]
        hires_per_year`` > 0, from the config or the scenario), as configured: the hires
        also differ from the need where a planner's teacher count sets them."""
        hpy = self.projection.stages["teachers"].get("hires_per_year")
        return hpy is not None and float(hpy) > 0

    def teachers_added(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """Every teachers-added target of the run's targets (``teachers_added_<first>_<last>``,
        e.g. 2021–2025 and 2026–2030): (target id, end years, (year, d) sums of the city's hires
        over the target's span, all levels; persons). A period that the projection years do
        not cover is left out."""
        p = self.projection
        per_year = p.teachers[S.HIRES][-1].sum(axis=0)  # city, all levels: (year, d)
        j = {int(y): i for i, y in enumerate(p.years)}
        out = []
        for name in self.target_ids:
            m = NEED_TARGETS.fullmatch(str(name))  # teachers_added_<first>_<last>
            if m is None:
                continue
            y0, y1 = int(m.group(1)), int(m.group(2))
            span = y1 - y0 + 1
            ends = [int(y) for y in p.years if y >= y1 and y - span + 1 >= p.years[0]]
            if ends:
                vals = np.stack([per_year[j[e] - span + 1:j[e] + 1].sum(axis=0) for e in ends])
                out.append((name, np.asarray(ends), vals))
        return out

    @cached_property
    def quality(self) -> pd.DataFrame:
        """area, item (indicator or level), quality, rows."""
        return quality_table(self.indicators, self.enrolment)

    @cached_property
    def extra(self) -> Mapping[str, pd.DataFrame]:
        """Other stage frames: rates, hiring, hiring_summary, staffing_ratios, capacity_years."""
        p = self.projection
        tch = self.teachers
        y0, y1 = p.hiring_period
        hiring = tch[[c for c in (S.AREA, S.YEAR, S.LEVEL, S.DRAW, S.HIRES_NEEDED, S.HIRES,
                                  S.QUALITY) if c in tch.columns]]
        return {"rates": p.rates, "hiring": hiring,
                "hiring_summary": hiring_need(tch, self.region, y0, y1, p.hiring_target),
                "staffing_ratios": self.staffing_ratios,
                "capacity_years": capacity_years(self.capacity)}

    # --- summaries from the arrays -----------------------------------------------------------

    def indicator_summary(self) -> pd.DataFrame:
        """Indicators over draws: area, year, indicator, unit, quality, mean, lo80 … hi95."""
        p = self.projection
        parts = []
        for ind, v in p.indicators.items():
            j0 = p.indicator_first[ind]
            a, y = _grid(np.asarray(p.codes, object), p.years[j0:])
            parts.append(pd.DataFrame({
                S.AREA: a, S.YEAR: y, S.INDICATOR: ind, S.UNIT: p.indicator_units[ind],
                S.QUALITY: p.indicator_quality[ind][:, j0:].reshape(-1),
                **summarise(v[:, j0:].reshape(-1, v.shape[-1]))}))
        out = pd.concat(parts, ignore_index=True)
        return out.sort_values([S.AREA, S.YEAR, S.INDICATOR, S.UNIT, S.QUALITY],
                               kind="stable").reset_index(drop=True)

    def target_summary(self) -> pd.DataFrame:
        """Plan-target indicators over draws: area, year, indicator, quality, mean … hi95."""
        p = self.projection
        parts = []
        for ind in self.target_ids:
            if ind not in p.indicators:
                continue
            v = p.indicators[ind]
            j0 = p.indicator_first[ind]
            a, y = _grid(np.asarray(p.codes, object), p.years[j0:])
            parts.append(pd.DataFrame({
                S.AREA: a, S.YEAR: y, S.INDICATOR: ind,
                S.QUALITY: p.indicator_quality[ind][:, j0:].reshape(-1),
                **summarise(v[:, j0:].reshape(-1, v.shape[-1]))}))
        for name, ends, vals in self.teachers_added():
            parts.append(pd.DataFrame({S.AREA: p.city, S.YEAR: ends, S.INDICATOR: name,
                                       S.QUALITY: "estimated", **summarise(vals)}))
        out = pd.concat(parts, ignore_index=True)
        out[S.YEAR] = out[S.YEAR].astype(int)
        return out.sort_values([S.AREA, S.YEAR, S.INDICATOR, S.QUALITY],
                               kind="stable").reset_index(drop=True)[
            [S.AREA, S.YEAR, S.INDICATOR, S.QUALITY, *S.SUMMARY_COLUMNS]]

    def observed_targets(self) -> pd.DataFrame:
        """Observed values of the plan-target indicators (for overlays on fan charts)."""
        ids = set(self.target_ids)
        o = self.observations
        return o[o[S.INDICATOR].isin(ids)][[S.AREA, S.YEAR, S.INDICATOR, S.VALUE]]

    def _population_table(self) -> pd.DataFrame:
        p = self.projection
        nA = min(SCHOOL_TABLE_MAX_AGE, p.population.shape[2] - 1) + 1
        both = p.population[:, :, :nA].sum(axis=1)  # (area, age, year, d)
        arr = np.moveaxis(both, 2, 1)  # (area, year, age, d)
        a, y, g = _grid(np.asarray(p.codes[:-1], object), p.years, np.arange(nA))
        df = _summary_frame({S.AREA: a, S.YEAR: y, S.AGE: g}, arr.reshape(-1, arr.shape[-1]),
                            [S.AREA, S.YEAR, S.AGE])
        # the jump-off year: the census graduated to single ages (derived); later: projected
        df[S.QUALITY] = np.where(df[S.YEAR] == self.config.base_year, "derived", "estimated")
        return pd.concat([df, error_columns(df[S.AREA], df[S.AGE])], axis=1)  # issue 17

    def _enrolment_table(self) -> pd.DataFrame:
        p = self.projection
        arr = np.moveaxis(p.enrolment, 2, 1)  # (area, year, level, d)
        a, y, lv = _grid(np.asarray(p.codes, object), p.years, np.asarray(LEVELS, object))
        return _summary_frame({S.AREA: a, S.YEAR: y, S.LEVEL: lv,
                               S.QUALITY: self._enrolment_quality().reshape(-1)},
                              arr.reshape(-1, arr.shape[-1]),
                              [S.AREA, S.YEAR, S.LEVEL, S.QUALITY])

    def _teachers_table(self) -> pd.DataFrame:
        p = self.projection
        t = {k: np.moveaxis(v, 2, 1) for k, v in p.teachers.items()}  # (area, year, level, d)
        a, y, lv = _grid(np.asarray(p.codes, object), p.years, np.asarray(LEVELS, object))
        cols = {S.AREA: a, S.YEAR: y, S.LEVEL: lv}
        D = t[S.DEMAND].shape[-1]
        for c in (S.ENROLMENT, S.RATIO, S.DEMAND, S.SUPPLY, S.HIRES_NEEDED, S.HIRES, S.SURPLUS):
            cols[c] = t[c].reshape(-1, D).mean(axis=-1)
        if p.draws:
            for c in (S.DEMAND, S.HIRES_NEEDED):
                q = np.quantile(t[c].reshape(-1, D), [0.1, 0.9], axis=-1)
                cols[f"{c}_lo80"], cols[f"{c}_hi80"] = q[0], q[1]
        cols[S.METHOD] = p.teacher_method
        cols[S.QUALITY] = "estimated"
        if p.teacher_observed is not None:
            cols[S.QUALITY] = np.where(np.moveaxis(p.teacher_observed, 2, 1).reshape(-1),
                                       "observed", "estimated")
        df = pd.DataFrame(cols).sort_values([S.AREA, S.YEAR, S.LEVEL], kind="stable")
        with np.errstate(divide="ignore", invalid="ignore"):
            df[S.RATIO] = np.where(df[S.DEMAND] > 0, df[S.ENROLMENT] / df[S.DEMAND], np.nan)
        return df.reset_index(drop=True)

    def _capacity_table(self) -> pd.DataFrame:
        p = self.projection
        c = {k: np.moveaxis(v, 2, 1) for k, v in p.capacity.items()}  # (unit, year, level, d)
        a, y, lv = _grid(np.asarray(p.capacity_codes, object), p.years,
                         np.asarray(SEAT_LEVELS, object))
        D = c[S.SEATS].shape[-1]
        u = c[S.UTILISATION].reshape(-1, D)
        over = np.where(np.isnan(u), np.nan, (u > 100 + 1e-6).astype(float))
        cols = {S.AREA: a, S.YEAR: y, S.LEVEL: lv,
                S.SEATS: c[S.SEATS].reshape(-1, D).mean(axis=-1),
                S.ENROLMENT: c[S.ENROLMENT].reshape(-1, D).mean(axis=-1)}
        with np.errstate(invalid="ignore"), _quiet():
            cols[S.UTILISATION] = np.nanmean(u, axis=-1)
            if p.draws:
                q = np.nanquantile(u, [0.1, 0.9], axis=-1)
                cols[f"{S.UTILISATION}_lo80"], cols[f"{S.UTILISATION}_hi80"] = q[0], q[1]
            cols[S.P_OVER] = np.nanmean(over, axis=-1)
        cols[S.STATUS] = capacity_status(cols[S.UTILISATION])
        cols[S.QUALITY] = "estimated"
        return pd.DataFrame(cols).sort_values([S.AREA, S.YEAR, S.LEVEL], kind="stable"
                                              ).reset_index(drop=True)

    def _quality_table(self) -> pd.DataFrame:
        """quality_table(indicators, enrolment) counted from the quality arrays."""
        p = self.projection
        D = max(p.draws, 1)
        rows = []
        for ind, q in p.indicator_quality.items():
            j0 = p.indicator_first[ind]
            for ai, code in enumerate(p.codes):
                vals, counts = np.unique(q[ai, j0:].astype(str), return_counts=True)
                rows += [(code, ind, v, int(n) * D) for v, n in zip(vals, counts, strict=True)]
        ind_part = pd.DataFrame(rows, columns=[S.AREA, "item", S.QUALITY, "rows"])
        ind_part = ind_part.sort_values([S.AREA, "item", S.QUALITY], kind="stable")
        eq = self._enrolment_quality()
        rows = []
        for ai, code in enumerate(p.codes):
            for li, lv in enumerate(LEVELS):
                vals, counts = np.unique(eq[ai, :, li].astype(str), return_counts=True)
                rows += [(code, lv, v, int(n) * D) for v, n in zip(vals, counts, strict=True)]
        enr_part = pd.DataFrame(rows, columns=[S.AREA, "item", S.QUALITY, "rows"])
        enr_part = enr_part.sort_values([S.AREA, "item", S.QUALITY], kind="stable")
        return pd.concat([ind_part, enr_part], ignore_index=True)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tidy output tables (summaries over draws), name → frame, for CSV and Excel."""
        return {"population_school_age": self._population_table(),
                "enrolment": self._enrolment_table(),
                "indicators": self.indicator_summary(),
                "teachers": self._teachers_table(),
                "capacity": self._capacity_table(),
                "quality_flags": self._quality_table()}

    def projection_summary(self) -> pd.DataFrame:
        """The served/compared projection: area, year, indicator, unit, mean, lo80 … hi95,
        quality. Indicators: the plan-target series (their units; teachers added in persons),
        ``enrolment_<level>`` (persons), ``teacher_demand`` and ``hires_needed`` (teachers,
        all levels)."""
        p = self.projection
        ts = self.target_summary()
        ts[S.UNIT] = ts[S.INDICATOR].map(p.indicator_units).fillna("persons")
        parts = [ts]
        e = self._enrolment_table()
        e[S.INDICATOR] = "enrolment_" + e.pop(S.LEVEL)
        parts.append(e.assign(**{S.UNIT: "persons"}))
        D = p.teachers[S.DEMAND].shape[-1]
        a, y = _grid(np.asarray(p.codes, object), p.years)
        for col, name in ((S.DEMAND, "teacher_demand"), (S.HIRES_NEEDED, "hires_needed")):
            v = p.teachers[col].sum(axis=1).reshape(-1, D)  # all levels: (area × year, d)
            parts.append(pd.DataFrame({S.AREA: a, S.YEAR: y, S.INDICATOR: name,
                                       **summarise(v), S.UNIT: "teachers",
                                       S.QUALITY: "estimated"}))
        out = pd.concat(parts, ignore_index=True)
        cols = [S.AREA, S.YEAR, S.INDICATOR, S.UNIT, *S.SUMMARY_COLUMNS, S.QUALITY]
        return out[cols].sort_values([S.INDICATOR, S.AREA, S.YEAR], kind="stable").reset_index(
            drop=True)

    def key_metrics(self, years: Iterable[int] | None = None) -> dict[str, float]:
        """City mean of each target indicator in ``years`` (for MLflow metrics and summaries;
        default: the target years and every fifth year after the jump-off)."""
        if years is None:
            base = int(self.projection.years[0])
            years = set(self.target_years) | set(range(base + 5, int(self.projection.years[-1]) + 1,
                                                       5))
        ts = self.target_summary()
        ts = ts[(ts[S.AREA] == self.region.code) & ts[S.YEAR].isin(list(years))]
        return {f"{r.indicator}.{r.year}": float(r.mean) for r in ts.itertuples()}


class _quiet:
    """Silence numpy's all-NaN slice warnings (units without pupils have no utilisation)."""

    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._w.__exit__(*exc)


def make_results(state: BaseState, projection: Projection, cfg: RunConfig) -> Results:
    """Wrap a projection with its run's lineage, assumptions and overlays."""
    from ..education.teachers import staffing_ratios

    rows = [(k, v, "estimated", "demography assumption")
            for k, v in projection.dem_assumptions.to_params().items()]
    rows += list(projection.assumptions)
    rows += [(f"scenario.{k}", v, "estimated", "scenario override")
             for k, v in projection.overrides.items()]
    if state.planner is not None:
        rows.append(("planner_observations", cfg.section("data")["observations"], "observed",
                     state.planner_note))
    if state.targets_path is not None:
        rows.append(("targets_file", str(state.targets_path), "observed", state.targets_note))
    assumptions = pd.DataFrame(rows, columns=["name", S.VALUE, S.QUALITY, "note"])
    assumptions[S.VALUE] = assumptions[S.VALUE].map(str)
    tch = projection.stages["teachers"]
    share, voc = tch.get("nonteaching_share"), tch.get("vocational_as", "senior_general")
    ratios = state.cached(("staffing_ratios", repr(share), voc),
                          lambda: staffing_ratios(state.standards, share, voc))
    observations = state.observations
    if state.planner is not None and not state.planner.empty:
        from ..planning.targets import target_actuals

        # a planner's own values (under target ids) are drawn as history in the charts
        mine = target_actuals(state.planner, None).drop(columns=[S.SOURCE])
        observations = pd.concat([mine.assign(**{S.QUALITY: "observed"}), observations],
                                 ignore_index=True)
    return Results(config=cfg, region=state.region, data_hash=state.data_hash,
                   scenario=projection.scenario, projection=projection,
                   observations=observations, assumptions=assumptions,
                   sources=state.sources,
                   target_ids=tuple(dict.fromkeys(state.targets[S.INDICATOR].astype(str))),
                   staffing_ratios=ratios,
                   target_years=tuple(sorted({int(y) for y in
                                              state.targets[S.TARGET_YEAR].dropna()})))
