"""Rolling-origin back-tests (time-series cross-validation with refit at every cutoff).

Public names:
    read_observations_file(path)   any file in the observations format → long frame
    series_from(obs_df, ...)       {series id → yearly Series} for indicators × areas
    cutoffs_for(last_year, h, windows)
    cross_validation(obs_df, indicators, models, h, windows, areas=None, ...) → cv frame
    run_backtest(...) → BacktestResult (cv, metrics, fits, params, figures)
    write_outputs(result, out_dir), format_mape_tables(metrics_df)
    run_experiment(cfg) → BacktestResult for a config with a ``[backtest]`` table

Protocol (Hyndman & Athanasopoulos 2021, §5.10 "time series cross-validation"; Tashman 2000):
for a series ending in year T, ``windows`` W and horizon H the cutoffs are
T−H−W+1, …, T−H. At each cutoff c every model is refitted on the years ≤ c — the series
*and* every driver/pool series in X are truncated at c — and forecasts leads h = 1…H,
which are compared with the actuals c+1…c+H. Output (cv.csv): area, indicator, year, cutoff,
h, actual, model, forecast, lo80, hi80, lo95, hi95 (units of the series). fits.csv: what
each fit chose (area, indicator, cutoff, model, param, value — the models' fitted attributes,
e.g. ``auto``'s weights by lead or the order ARIMA picked), one row per fit and attribute.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import schema as S
from ..config import REPO_ROOT, RunConfig
from ..io.store import DataError, write_csv_atomic
from .metrics import evaluate, mape_by_lead
from ..models import available_models, make_model, series_id, split_series_id
from ..models.ensemble import cached_forecast
from ..config import DEFAULT_REGION

log = logging.getLogger(__name__)

LEVELS = (80, 95)


# ------------------------------------------------------------------------------------------
# input


def read_observations_file(path: str | Path, region: str = DEFAULT_REGION) -> pd.DataFrame:
    """Read any file in the observations format (CSV or Excel; extra columns ignored).

    The raw bundled format (area as a slug such as ``sichuan``, ``source_url``/``source_note``
    columns, several sources per figure) is read by :func:`njforecast.io.store.load_observations`,
    which ranks duplicate sources (tier, precision, file order). Any other file — a planner's
    series with division codes — goes through :func:`njforecast.io.validation.load_user_observations`
    (every problem reported with its row, column and fix); where one (area, year, indicator)
    has several rows, the ``preferred`` one is used.

    Returns:
        Columns area, year, indicator, value, unit, quality — one row per key.

    Raises:
        DataError: missing or invalid file (ValidationError lists every problem).
    """
    from ..io.store import _area_slugs, load_observations, preferred
    from ..io.validation import load_user_observations

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: observations file not found")
    cols = [S.AREA, S.YEAR, S.INDICATOR, S.VALUE, S.UNIT, S.QUALITY]
    if path.suffix.lower() == ".csv":
        head = pd.read_csv(path, dtype=str, nrows=100000, encoding="utf-8-sig",
                           encoding_errors="replace")
        slugs = _area_slugs()
        if ({"source_url", "source_note", "unit", S.AREA} <= set(head.columns)
                and head[S.AREA].isin(slugs).all()):
            obs = preferred(load_observations([path]))
            return obs[cols].reset_index(drop=True)
    obs = preferred(load_user_observations(path, region))
    return obs[cols].reset_index(drop=True)


def is_rate(indicator: str, unit: str | None = None) -> bool:
    """Rates (percent) are bounded: ``*_pct``/``*_rate`` indicators or unit "percent"."""
    return indicator.endswith("_pct") or (unit or "") in ("percent", "pct")


def series_from(obs_df: pd.DataFrame, indicators: Sequence[str],
                areas: Sequence[str] | None = None) -> dict[str, pd.Series]:
    """Yearly series (last run of consecutive years) for every indicator × area present.

    Raises:
        ValueError: an indicator or area not in the file (the message lists what is there).
    """
    have_ind = sorted(obs_df[S.INDICATOR].unique())
    unknown = [i for i in indicators if i not in have_ind]
    if unknown:
        raise ValueError(f"indicator(s) {unknown} not in the observations; available: "
                         f"{', '.join(have_ind)}")
    sub = obs_df[obs_df[S.INDICATOR].isin(indicators)]
    have_area = sorted(sub[S.AREA].unique())
    if areas:
        unknown = [a for a in areas if a not in have_area]
        if unknown:
            raise ValueError(f"area(s) {unknown} have no data for {', '.join(indicators)}; "
                             f"available: {', '.join(have_area)}")
        sub = sub[sub[S.AREA].isin(areas)]
    out = {}
    for (area, ind), g in sub.groupby([S.AREA, S.INDICATOR], sort=True):
        g = g.drop_duplicates(S.YEAR).sort_values(S.YEAR)
        yrs = g[S.YEAR].to_numpy()
        br = np.flatnonzero(np.diff(yrs) != 1)
        if len(br):
            log.warning("%s %s: gap after %d; using the years %d–%d", area, ind, yrs[br[-1]],
                        yrs[br[-1] + 1], yrs[-1])
            g = g.iloc[br[-1] + 1:]
        sid = series_id(area, ind)
        out[sid] = pd.Series(g[S.VALUE].to_numpy(float), index=g[S.YEAR].to_numpy(int),
                             name=sid)
    return out


def cutoffs_for(last_year: int, h: int, windows: int) -> list[int]:
    """Cutoffs T−H−W+1 … T−H for a series ending in T (ascending)."""
    if h < 1 or windows < 1:
        raise ValueError(f"horizon and windows must be >= 1, got h={h}, windows={windows}")
    return list(range(last_year - h - windows + 1, last_year - h + 1))


def resolve_models(spec: str | Sequence[str]) -> list[str]:
    """``"all"``, a comma list or a sequence of names → validated list of model names."""
    if isinstance(spec, str):
        spec = [s.strip() for s in spec.split(",") if s.strip()]
    names: list[str] = []
    for s in spec:
        names.extend(available_models() if s == "all" else [s])
    bad = [n for n in names if n not in available_models()]
    if bad:
        raise ValueError(f"unknown model(s) {bad}; choose from {', '.join(available_models())} "
                         "or 'all'")
    return list(dict.fromkeys(names))


def model_kwargs(name: str, indicator: str, unit: str | None, seed: int,
                 options: dict[str, dict] | None = None) -> dict[str, Any]:
    """Constructor arguments for a model on one series: bounds by unit, seed, config options.

    Counts are bounded below by 0; rates (percent) by 0 and ``schema.MAX_PERCENT``, and
    Prophet uses logistic growth with cap 100 for them.
    """
    kw: dict[str, Any] = {"alias": name, "lower": 0.0}
    if is_rate(indicator, unit):
        kw["upper"] = S.MAX_PERCENT
        if name == "prophet":
            kw["cap"] = 100.0
    if name == "prophet":
        kw["seed"] = seed
    kw.update((options or {}).get(name, {}))
    return kw


# ------------------------------------------------------------------------------------------
# cross-validation


def cross_validation(obs_df: pd.DataFrame, indicators: Sequence[str],
                     models: Sequence[str], h: int, windows: int,
                     areas: Sequence[str] | None = None, seed: int = 20201101,
                     model_options: dict[str, dict] | None = None,
                     min_train: int = 3,
                     fits: list[dict] | None = None) -> tuple[pd.DataFrame, list[dict]]:
    """Rolling-origin back-test with refit at every cutoff.

    Args:
        obs_df: observations (area, year, indicator, value[, unit]); one row per key. Every
            series in it (all indicators) is available to the models as X — drivers and pool —
            truncated at each cutoff.
        indicators: indicators to back-test; areas: restrict to these areas (default all).
        models: registry names; h: horizon H (years); windows: W cutoffs per series.
        seed: seed for stochastic models; model_options: {model: {param: value}}.
        min_train: cutoffs leaving fewer training years are skipped (logged).
        fits: if a list, one dict per fit and fitted attribute is appended to it (columns of
            :data:`schema.FIT_COLUMNS`; value as text).

    Returns:
        (cv frame with :data:`schema.CV_COLUMNS`, list of fallbacks — model errors replaced
        by the naive forecast, each a dict naming series, cutoff, model and error).

    Raises:
        ValueError: unknown indicator/area/model, or no series long enough for H and W.
    """
    # tiny model fits gain nothing from threaded BLAS and lose a lot to oversubscription
    # (measured: theta/ETS/ARIMA fits 2.5–5× faster with one BLAS thread on a busy 2-core box)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _cross_validation(obs_df, indicators, models, h, windows, areas, seed,
                                 model_options, min_train, fits)


def _cross_validation(obs_df, indicators, models, h, windows, areas, seed, model_options,
                      min_train, fits):
    models = resolve_models(models)
    series = series_from(obs_df, indicators, areas)
    units = obs_df.drop_duplicates([S.AREA, S.INDICATOR]).set_index([S.AREA, S.INDICATOR])
    X_all = obs_df[[S.AREA, S.YEAR, S.INDICATOR, S.VALUE]].sort_values(
        [S.AREA, S.INDICATOR, S.YEAR], kind="stable").reset_index(drop=True)
    rows, fallbacks = [], []
    for sid, y in series.items():
        area, ind = split_series_id(sid)
        unit = str(units[S.UNIT].get((area, ind), "")) if S.UNIT in units else ""
        cuts = [c for c in cutoffs_for(int(y.index[-1]), h, windows)
                if (y.index <= c).sum() >= min_train]
        if not cuts:
            log.warning("%s: %d years are too few for h=%d, windows=%d; skipped", sid, len(y),
                        h, windows)
            continue
        for c in cuts:
            yc = y[y.index <= c]
            Xc = X_all[X_all[S.YEAR] <= c]
            actual = y.reindex(range(c + 1, c + h + 1))
            for name in models:
                kw = model_kwargs(name, ind, unit, seed, model_options)
                try:
                    fc, fitted = cached_forecast(make_model(name, **kw), yc, Xc, h, LEVELS,
                                                 with_params=True)
                    if fits is not None:
                        fits.extend({S.AREA: area, S.INDICATOR: ind, S.CUTOFF: c,
                                     S.MODEL: name, S.PARAM: k, S.VALUE: str(v)}
                                    for k, v in sorted(fitted.items()))
                except Exception as exc:  # recorded and reported, never silent
                    log.warning("%s at cutoff %d: %s failed (%s); naive used", sid, c, name, exc)
                    fallbacks.append({S.AREA: area, S.INDICATOR: ind, S.CUTOFF: c,
                                      S.MODEL: name, "error": f"{type(exc).__name__}: {exc}"})
                    fc = make_model("naive", alias=name).fit(yc).predict(h, level=LEVELS)
                rows.append(pd.DataFrame({
                    S.AREA: area, S.INDICATOR: ind, S.YEAR: fc[S.YEAR].to_numpy(),
                    S.CUTOFF: c, S.H: np.arange(1, h + 1), S.ACTUAL: actual.to_numpy(),
                    S.MODEL: name, S.FORECAST: fc[name].to_numpy(),
                    S.LO80: fc[f"{name}-lo-80"].to_numpy(), S.HI80: fc[f"{name}-hi-80"].to_numpy(),
                    S.LO95: fc[f"{name}-lo-95"].to_numpy(), S.HI95: fc[f"{name}-hi-95"].to_numpy(),
                }))
    if not rows:
        raise ValueError(f"no series is long enough for horizon {h} and {windows} windows "
                         f"(each needs at least {h + windows + min_train - 1} consecutive years)")
    cv = pd.concat(rows, ignore_index=True)[list(S.CV_COLUMNS)]
    return cv, fallbacks


# ------------------------------------------------------------------------------------------
# result, outputs, experiments


@dataclass
class BacktestResult:
    """Everything a back-test produced (input to writing and tracking)."""

    cv: pd.DataFrame
    metrics: pd.DataFrame
    observations: pd.DataFrame
    source: str
    model_params: dict[str, dict]
    params: dict[str, Any] = field(default_factory=dict)
    fits: pd.DataFrame | None = None
    fallbacks: list[dict] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)


def run_backtest(obs_df: pd.DataFrame, indicators: Sequence[str], models: Sequence[str] | str,
                 h: int, windows: int, areas: Sequence[str] | None = None,
                 seed: int = 20201101, model_options: dict[str, dict] | None = None,
                 source: str = "", figures: bool = False) -> BacktestResult:
    """Back-test and evaluate: :func:`cross_validation` then :func:`metrics.evaluate`."""
    names = resolve_models(models)
    fit_rows: list[dict] = []
    cv, fallbacks = cross_validation(obs_df, indicators, names, h, windows, areas, seed,
                                     model_options, fits=fit_rows)
    fits = pd.DataFrame(fit_rows, columns=list(S.FIT_COLUMNS))
    metrics = evaluate(cv, obs_df)
    params = {"indicators": list(indicators), "areas": list(areas or ["all"]), "horizon": h,
              "windows": windows, "models": names, "seed": seed,
              "n_series": int(cv.groupby([S.AREA, S.INDICATOR]).ngroups),
              "n_fallbacks": len(fallbacks)}
    model_params = {}
    for n in names:
        m = make_model(n, **model_kwargs(n, "", "", seed, model_options))
        model_params[n] = {k: v for k, v in m.get_params().items() if k != "alias"}
    figs = {"mape_by_lead.png": mape_figure(metrics)} if figures else {}
    return BacktestResult(cv, metrics, obs_df, source, model_params, params, fits, fallbacks,
                          figs)


def format_mape_tables(metrics_df: pd.DataFrame) -> str:
    """The MAPE-by-lead tables (NCES layout), one per indicator, as text."""
    parts = []
    for ind in sorted(metrics_df[S.INDICATOR].unique()):
        t = mape_by_lead(metrics_df, ind)
        parts.append(f"MAPE (%) by lead — {ind}\n" + t.round(2).to_string())
    return "\n\n".join(parts)


def mape_figure(metrics_df: pd.DataFrame):
    """Line chart of MAPE (%) by lead, one panel per indicator, one line per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    inds = sorted(metrics_df[S.INDICATOR].unique())
    fig, axes = plt.subplots(1, len(inds), figsize=(4.5 * len(inds), 3.6), squeeze=False)
    for ax, ind in zip(axes[0], inds, strict=True):
        t = mape_by_lead(metrics_df, ind)
        for col in t.columns:
            ax.plot(t.index, t[col], marker="o", lw=2.2 if col == "auto" else 1.0, label=col)
        ax.set_title(ind, fontsize=9)
        ax.set_xlabel("lead (years)")
        ax.set_ylabel("MAPE (%)")
    axes[0][-1].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def write_outputs(result: BacktestResult, out_dir: str | Path) -> dict[str, Path]:
    """Write cv.csv, metrics.csv, fits.csv and fallbacks.csv (atomically) into ``out_dir``."""
    out = Path(out_dir)
    paths = {"cv": write_csv_atomic(result.cv, out / "cv.csv", float_format="%.6g"),
             "metrics": write_csv_atomic(result.metrics, out / "metrics.csv",
                                         float_format="%.6g")}
    if result.fits is not None and len(result.fits):
        paths["fits"] = write_csv_atomic(result.fits, out / "fits.csv")
    if result.fallbacks:
        paths["fallbacks"] = write_csv_atomic(pd.DataFrame(result.fallbacks),
                                              out / "fallbacks.csv")
    return paths


def _resolve_path(p: str, cfg: RunConfig) -> Path:
    path = Path(p)
    if path.is_absolute():
        return path
    for base in (Path.cwd(), Path(cfg.path).parent if cfg.path else None, REPO_ROOT):
        if base is not None and (base / path).is_file():
            return base / path
    raise DataError(f"{cfg.path}: [backtest] observations = {p!r} not found (relative to the "
                    "working directory, the config folder or the repository)")


def run_experiment(cfg: RunConfig) -> BacktestResult:
    """Run the back-test a config's ``[backtest]`` table describes and write its outputs.

    Keys: observations (path), indicators (list), areas (list; default all), exclude_areas,
    horizon, windows, models ("all" or list), [backtest.model_options.<model>] tables.
    Outputs go to ``cfg.output_dir`` (cv.csv, metrics.csv).
    """
    bt = cfg.section("backtest")
    where = f"{cfg.path}: [backtest]"
    for key in ("observations", "indicators", "horizon", "windows"):
        if key not in bt:
            raise DataError(f"{where} needs key '{key}'")
    src = _resolve_path(str(bt["observations"]), cfg)
    obs = read_observations_file(src)
    areas = bt.get("areas")
    if bt.get("exclude_areas"):
        pool = areas or sorted(obs[S.AREA].unique())
        areas = [a for a in pool if a not in set(bt["exclude_areas"])]
    result = run_backtest(obs, list(bt["indicators"]), bt.get("models", "all"),
                          int(bt["horizon"]), int(bt["windows"]), areas, cfg.seed,
                          bt.get("model_options"), source=str(src), figures=True)
    result.params = {"config": {k: v for k, v in bt.items() if k != "model_options"},
                     **result.params}
    write_outputs(result, cfg.output_dir)
    return result
