"""Figures: fan charts (mean with 80 % and 95 % bands over draws, plan targets dashed), county
small multiples, seat utilisation and teacher demand against supply.

Public functions:
    fan_chart(summary_df, indicator, area, ...)        one indicator in one area → Figure
    county_multiples(summary_df, indicator, areas, ...) one panel per county → Figure
    county_change_chart(enrolment, capacity, areas, start, end, ...)  enrolment change and
                                                       seat utilisation by county → Figure
    capacity_chart(capacity_df, ...)                   seat utilisation (%) by level and area
    teachers_chart(teachers_df, area, ...)             teacher demand and supply by level
    save_figure_bytes(fig)                             {"png": …, "svg": …} bytes; closes the figure

The bands are the 10th–90th and 2.5th–97.5th percentiles over draws (Hyndman & Athanasopoulos,
*Forecasting: Principles and Practice*, 3rd ed., §5.5 on prediction intervals; fan charts as in
the Bank of England's inflation report). SVG output is byte-stable (fixed hash salt, no date).
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import schema as S
from ..planning.targets import PERIOD_TARGET
from .labels import cjk_font, label


def _plt(lang: str):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    font = cjk_font() if lang == "zh" else None
    rc = {"font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
          "svg.hashsalt": "njforecast", "axes.unicode_minus": False}
    if font:
        rc["font.sans-serif"] = [font, "DejaVu Sans"]
        rc["font.family"] = "sans-serif"
    return plt, rc


def _name(key: str, lang: str, names: Mapping[str, str] | None = None) -> str:
    if names and key in names:
        return names[key]
    return label(key, lang)


def _bands(ax, d: pd.DataFrame, color: str, lang: str, legend: bool = True) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    x = d[S.YEAR].to_numpy()
    if {S.LO95, S.HI95} <= set(d.columns) and d[S.LO95].notna().any():
        ax.fill_between(x, d[S.LO95], d[S.HI95], color=color, alpha=0.15, lw=0,
                        label=label("band95", lang) if legend else None)
    if {S.LO80, S.HI80} <= set(d.columns) and d[S.LO80].notna().any():
        ax.fill_between(x, d[S.LO80], d[S.HI80], color=color, alpha=0.3, lw=0,
                        label=label("band80", lang) if legend else None)
    ax.plot(x, d[S.MEAN], color=color, lw=1.6, label=label("mean", lang) if legend else None)


def fan_chart(summary_df: pd.DataFrame, indicator: str, area: str, lang: str = "en",
              target: float | None = None, target_year: int | None = None,
              observed_df: pd.DataFrame | None = None,
              area_names: Mapping[str, str] | None = None,
              indicator_names: Mapping[str, str] | None = None):
    """A fan chart of one indicator in one area: mean, 80/95 % bands, target, observed points.

    Args:
        summary_df: area, year, indicator, mean, lo80, hi80, lo95, hi95 (indicator's unit).
        indicator, area: what to draw.
        lang: 'en' or 'zh' (already resolved by ``resolve_lang``).
        target, target_year: plan target (dashed line) and its year (dotted vertical line);
            for a period total (``…_YYYY_YYYY``, drawn as the rolling sum over the years
            ending in each year) the target is a mark at its year only.
        observed_df: optional area, year, indicator, value points.
        area_names, indicator_names: display names (code → name).
    """
    plt, rc = _plt(lang)
    d = summary_df[(summary_df[S.INDICATOR] == indicator) & (summary_df[S.AREA] == area)]
    d = d.sort_values(S.YEAR)
    with plt.rc_context(rc):
        fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=110)
        _bands(ax, d, "#1f77b4", lang)
        if observed_df is not None and len(observed_df):
            o = observed_df[(observed_df[S.INDICATOR] == indicator)
                            & (observed_df[S.AREA] == area)]
            if len(o):
                ax.scatter(o[S.YEAR], o[S.VALUE], color="black", s=14, zorder=3,
                           label=label("observed", lang))
        period = PERIOD_TARGET.search(indicator)  # a period total: rolling sums by year
        if target is not None and not np.isnan(target):
            if period and target_year is not None:  # the target holds for its period only
                ax.scatter([target_year], [target], color="#d62728", marker="_", s=300,
                           linewidths=2, zorder=4, label=f"{label('target', lang)} {target:g}")
            else:
                ax.axhline(target, color="#d62728", ls="--", lw=1.2,
                           label=f"{label('target', lang)} {target:g}")
            if target_year is not None:
                ax.axvline(target_year, color="#d62728", ls=":", lw=0.8)
        if period:
            n = int(period.group(2)) - int(period.group(1)) + 1
            ax.set_ylabel(label("period_sum_axis", lang).format(n=n), fontsize=7.5)
        ax.set_title(f"{_name(area, lang, area_names)} — {_name(indicator, lang, indicator_names)}")
        ax.set_xlabel(label("year", lang))
        ax.legend(frameon=False, fontsize=7, loc="best")
        fig.subplots_adjust(left=0.12, right=0.98, bottom=0.14, top=0.9)
    fig.njforecast_rc = rc  # fonts must also be set when the figure is saved
    return fig


def county_multiples(summary_df: pd.DataFrame, indicator: str, areas: list[str],
                     lang: str = "en", target: float | None = None,
                     area_names: Mapping[str, str] | None = None,
                     indicator_names: Mapping[str, str] | None = None, ncols: int = 3):
    """Small multiples: one panel per area with the same indicator, bands and target line."""
    from matplotlib.ticker import MaxNLocator

    plt, rc = _plt(lang)
    n = max(len(areas), 1)
    nrows = int(np.ceil(n / ncols))
    with plt.rc_context(rc):
        fig, axes = plt.subplots(nrows, ncols, figsize=(3.0 * ncols, 2.3 * nrows), dpi=110,
                                 sharex=True, squeeze=False)
        for i, ax in enumerate(axes.flat):
            if i >= len(areas):
                ax.set_visible(False)
                continue
            a = areas[i]
            d = summary_df[(summary_df[S.INDICATOR] == indicator) & (summary_df[S.AREA] == a)]
            _bands(ax, d.sort_values(S.YEAR), "#2ca02c", lang, legend=(i == 0))
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))  # small panels
            if target is not None and not np.isnan(target):
                ax.axhline(target, color="#d62728", ls="--", lw=1,
                           label=label("target", lang) if i == 0 else None)
            ax.set_title(_name(a, lang, area_names), fontsize=8)
        fig.suptitle(_name(indicator, lang, indicator_names), fontsize=10)
        if len(areas):
            axes.flat[0].legend(frameon=False, fontsize=6)
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.08, top=0.88, hspace=0.45,
                            wspace=0.3)
    fig.njforecast_rc = rc  # fonts must also be set when the figure is saved
    return fig


def county_change_chart(enrolment_df: pd.DataFrame, capacity_df: pd.DataFrame,
                        areas: list[str], start: int, end: int, lang: str = "en",
                        area_names: Mapping[str, str] | None = None):
    """What differs by county: enrolment change and seat utilisation, one row per county.

    Left: change of primary and junior enrolment from ``start`` to ``end`` (%, mean with the
    80 % interval as a whisker when the start value has no draw spread, so the change's
    percentiles are the end value's). Right: compulsory seat utilisation in ``end`` (%, mean
    with its 80 % interval; 100 % = full).

    Args:
        enrolment_df: the enrolment table (area, year, level, mean, lo80, hi80; persons).
        capacity_df: the capacity table (area, year, level, utilisation, utilisation_lo80,
            utilisation_hi80; percent).
        areas: county codes, top to bottom.
    """
    plt, rc = _plt(lang)
    names = [_name(a, lang, area_names) for a in areas]
    y = np.arange(len(areas))[::-1].astype(float)
    with plt.rc_context(rc):
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.6, 0.42 * len(areas) + 1.5), dpi=110,
                                       sharey=True)
        for k, (lv, color) in enumerate((("primary", "#1f77b4"), ("junior", "#9467bd"))):
            e = enrolment_df[enrolment_df[S.LEVEL] == lv].set_index([S.AREA, S.YEAR])
            m, lo, hi = [], [], []
            for a in areas:
                try:
                    r0, r1 = e.loc[(a, start)], e.loc[(a, end)]
                except KeyError:
                    m.append(np.nan), lo.append(np.nan), hi.append(np.nan)
                    continue
                base = float(r0[S.MEAN])
                m.append((float(r1[S.MEAN]) / base - 1) * 100)
                fixed = np.isclose(r0[S.LO80], r0[S.HI80], rtol=1e-9)
                lo.append((float(r1[S.LO80]) / base - 1) * 100 if fixed else np.nan)
                hi.append((float(r1[S.HI80]) / base - 1) * 100 if fixed else np.nan)
            m, lo, hi = map(np.asarray, (m, lo, hi))
            yy = y + (0.2 if k == 0 else -0.2)
            ax1.barh(yy, m, height=0.38, color=color, alpha=0.8, label=label(lv, lang))
            ok = ~np.isnan(lo)
            # the bar is the mean, the whisker the 80 % interval (which may not hold the mean)
            ax1.errorbar(m[ok], yy[ok], xerr=[np.clip(m[ok] - lo[ok], 0, None),
                                              np.clip(hi[ok] - m[ok], 0, None)], fmt="none",
                         ecolor="black", lw=0.8, capsize=2)
        ax1.axvline(0, color="grey", lw=0.8)
        ax1.set_title(label("county_enrolment_change", lang).format(start=start, end=end),
                      fontsize=9)
        ax1.legend(frameon=False, fontsize=7, loc="best")
        c = capacity_df[(capacity_df[S.LEVEL] == "compulsory") & (capacity_df[S.YEAR] == end)]
        c = c.set_index(S.AREA).reindex(areas)
        u = c[S.UTILISATION].to_numpy(float)
        lo_u = c.get(f"{S.UTILISATION}_lo80", c[S.UTILISATION]).to_numpy(float)
        hi_u = c.get(f"{S.UTILISATION}_hi80", c[S.UTILISATION]).to_numpy(float)
        ax2.barh(y, u, height=0.5, color="#2ca02c", alpha=0.8)
        ok = ~np.isnan(u)
        ax2.errorbar(u[ok], y[ok], xerr=[np.clip(u[ok] - lo_u[ok], 0, None),
                                         np.clip(hi_u[ok] - u[ok], 0, None)], fmt="none",
                     ecolor="black", lw=0.8, capsize=2)
        ax2.axvline(100, color="grey", ls="--", lw=0.8, label=label("full_capacity", lang))
        ax2.set_title(label("county_utilisation", lang).format(end=end), fontsize=9)
        ax2.legend(frameon=False, fontsize=7, loc="lower right")
        ax1.set_yticks(y, names)
        ax1.set_xlabel("%")
        ax2.set_xlabel("%")
        fig.subplots_adjust(left=0.2, right=0.98, bottom=0.5 / (0.42 * len(areas) + 1.5),
                            top=1 - 0.45 / (0.42 * len(areas) + 1.5), wspace=0.08)
    fig.njforecast_rc = rc  # fonts must also be set when the figure is saved
    return fig


def capacity_chart(capacity_df: pd.DataFrame, lang: str = "en",
                   area_names: Mapping[str, str] | None = None):
    """Seat utilisation (enrolment / seats × 100 %) over time, one panel per level, a line per area.

    Args:
        capacity_df: area, year, level, seats, enrolment, utilisation (utilisation as a share
            1.0 = full or as percent; values ≤ 5 are read as shares and shown × 100).
    """
    plt, rc = _plt(lang)
    df = capacity_df.dropna(subset=[S.UTILISATION])
    util = df[S.UTILISATION].astype(float)
    if len(util) and util.max() <= 5:
        df = df.assign(**{S.UTILISATION: util * 100})
    if S.DRAW in df.columns:
        df = df.groupby([S.AREA, S.YEAR, S.LEVEL], as_index=False)[S.UTILISATION].mean()
    levels = [lv for lv in (*S.LEVELS, "compulsory") if lv in set(df[S.LEVEL])]
    with plt.rc_context(rc):
        fig, axes = plt.subplots(1, max(len(levels), 1), figsize=(3.2 * max(len(levels), 1), 3.0),
                                 dpi=110, squeeze=False, sharey=True)
        from matplotlib.ticker import MaxNLocator

        for ax, lv in zip(axes.flat, levels, strict=False):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
            d = df[df[S.LEVEL] == lv]
            for a, g in d.groupby(S.AREA, sort=True):
                g = g.sort_values(S.YEAR)
                ax.plot(g[S.YEAR], g[S.UTILISATION], lw=1.2, label=_name(a, lang, area_names))
            ax.axhline(100, color="grey", ls="--", lw=0.8)
            ax.set_title(label(lv, lang), fontsize=9)
            ax.set_xlabel(label("year", lang))
        axes.flat[0].set_ylabel(label("utilisation", lang))
        axes.flat[-1].legend(frameon=False, fontsize=6, loc="best")
        fig.suptitle(label("capacity_title", lang), fontsize=10)
        fig.subplots_adjust(left=0.07, right=0.99, bottom=0.17, top=0.84, wspace=0.12)
    fig.njforecast_rc = rc  # fonts must also be set when the figure is saved
    return fig


def teachers_chart(teachers_df: pd.DataFrame, area: str, lang: str = "en",
                   area_names: Mapping[str, str] | None = None):
    """Teacher demand (mean with 80 % band when draws exist) and supply, one panel per level."""
    plt, rc = _plt(lang)
    df = teachers_df[teachers_df[S.AREA] == area]
    levels = [lv for lv in S.LEVELS if lv in set(df[S.LEVEL])]
    with plt.rc_context(rc):
        fig, axes = plt.subplots(1, max(len(levels), 1), figsize=(3.2 * max(len(levels), 1), 3.0),
                                 dpi=110, squeeze=False)
        from matplotlib.ticker import MaxNLocator

        for ax, lv in zip(axes.flat, levels, strict=False):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
            d = df[df[S.LEVEL] == lv]
            for col, color in ((S.DEMAND, "#1f77b4"), (S.SUPPLY, "#ff7f0e")):
                if col not in d.columns:
                    continue
                g = d.groupby(S.YEAR)[col]
                m = g.mean()
                ax.plot(m.index, m.values, color=color, lw=1.5, label=label(col, lang))
                if S.DRAW in d.columns and d[S.DRAW].nunique() > 1:
                    ax.fill_between(m.index, g.quantile(0.1).values, g.quantile(0.9).values,
                                    color=color, alpha=0.25, lw=0)
            ax.set_title(label(lv, lang), fontsize=9)
            ax.set_xlabel(label("year", lang))
        axes.flat[0].set_ylabel(label("teachers", lang))
        axes.flat[0].legend(frameon=False, fontsize=7)
        fig.suptitle(f"{_name(area, lang, area_names)} — {label('teachers_title', lang)}",
                     fontsize=10)
        fig.subplots_adjust(left=0.07, right=0.99, bottom=0.17, top=0.84, wspace=0.3)
    fig.njforecast_rc = rc  # fonts must also be set when the figure is saved
    return fig


def foot_note(fig, note: str):
    """``fig`` with ``note`` in small grey type in its bottom-left corner (nothing when empty);
    the bottom margin grows to make room."""
    if note:
        h = fig.get_figheight()  # inches: a fixed 0.2 in strip whatever the figure's height
        fig.subplots_adjust(bottom=fig.subplotpars.bottom + 0.2 / h)
        fig.text(0.01, 0.04 / h, note, fontsize=6.5, color="0.35", ha="left", va="bottom")
    return fig


def save_figure_bytes(fig) -> dict[str, bytes]:
    """PNG (150 dpi, fast zlib level 1: the image is embedded once and archived, not served)
    and SVG (vector, for print) bytes of a figure; closes it."""
    import matplotlib.pyplot as plt

    out = {}
    rc = {**getattr(fig, "njforecast_rc", {}), "svg.hashsalt": "njforecast"}  # stable SVG ids
    with plt.rc_context(rc):
        for ext, kw in (("png", {"dpi": 150, "pil_kwargs": {"compress_level": 1}}),
                        ("svg", {"metadata": {"Date": None}})):
            buf = io.BytesIO()
            fig.savefig(buf, format=ext, **kw)
            out[ext] = buf.getvalue()
    plt.close(fig)
    return out
