"""Figures, tables, Excel and a self-contained HTML report, in English or Chinese.

Public names:
    cjk_font() -> font family or None; resolve_lang(lang) -> (figure language, message);
    fan_chart(summary_df, indicator, area, ...), county_multiples(summary_df, indicator, ...),
    capacity_chart(capacity_df, ...), teachers_chart(teachers_df, ...) -> matplotlib Figure;
    save_figure(fig, folder, stem) -> [png, svg]; write_excel(tables, path, ...);
    write_html(path, ...); write_report(results, gaps_df, out_dir, ...) -> {name: path};
    run_info(results) -> dict (provenance written as run_info.json with every run's outputs);
    build_outputs(cfg, lang, scenario, compare, ...) -> dict (one run's outputs, end to end);
    summary_table(gaps_df, year) -> terminal text; label(key, lang), LABELS.

Figures show the mean with 80 % and 95 % bands (the 10th–90th and 2.5th–97.5th percentiles
over draws) and plan targets as dashed lines (Hyndman & Athanasopoulos, *Forecasting:
Principles and Practice*, 3rd ed., §5.5 on prediction intervals; fan charts as in the Bank of
England's inflation report). Every file is written atomically (temporary file + rename).

Chinese labels need a CJK font. ``cjk_font`` looks through matplotlib's fonts and, if the
cache predates a font install, the fonts ``fc-list :lang=zh`` reports. Without one, figures
fall back to English labels (never empty boxes) and the report says so; the HTML text stays
Chinese because the browser chooses its own fonts.
"""

from __future__ import annotations

import base64
import html
import io
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .. import schema as S
from ..io.store import replace_dir_atomic
from ..planning.targets import BASIS_CITY_COPY, OFF_TRACK_P, ON_TRACK_P

# --- labels -------------------------------------------------------------------------------
LABELS: dict[str, dict[str, str]] = {
    "title": {"en": "Neijiang education projections and plan targets",
              "zh": "内江市教育发展预测与规划目标对照"},
    "year": {"en": "School year (starting autumn)", "zh": "学年（秋季起）"},
    "mean": {"en": "Projected mean", "zh": "预测均值"},
    "band80": {"en": "80 % interval", "zh": "80% 区间"},
    "band95": {"en": "95 % interval", "zh": "95% 区间"},
    "target": {"en": "Plan target", "zh": "规划目标"},
    "observed": {"en": "Observed", "zh": "实际值"},
    "utilisation": {"en": "Seat utilisation (%)", "zh": "学位使用率（%）"},
    "teachers": {"en": "Teachers (persons)", "zh": "教师（人）"},
    "demand": {"en": "Demand", "zh": "需求"},
    "supply": {"en": "Supply", "zh": "供给"},
    "capacity_title": {"en": "Seat utilisation by area", "zh": "各区县学位使用率"},
    "teachers_title": {"en": "Teacher demand and supply", "zh": "教师需求与供给"},
    "summary": {"en": "Summary", "zh": "摘要"},
    "targets": {"en": "Plan targets: projected values and probability of meeting them",
                "zh": "规划目标：预测值与达标概率"},
    "figures": {"en": "Figures", "zh": "图表"},
    "scenarios": {"en": "Scenarios side by side", "zh": "情景对比"},
    "assumptions": {"en": "Assumptions", "zh": "假设"},
    "sources": {"en": "Data sources and quality flags", "zh": "数据来源与质量标记"},
    "full_capacity": {"en": "100 % (full)", "zh": "100%（满额）"},
    "city_rate_applied": {"en": " (city rate applied to every county; no county data)",
                          "zh": "（各区县沿用全市比率，无区县数据）"},
    "estimated_note": {"en": "Values marked estimated rest on estimated inputs (see quality "
                             "flags); every projection is a model estimate.",
                       "zh": "标记为“估计”的数值基于估计的输入（见质量标记）；"
                             "所有预测值均为模型估计。"},
    "on_track": {"en": "on track", "zh": "有望达成"},
    "at_risk": {"en": "at risk", "zh": "存在风险"},
    "off_track": {"en": "off track", "zh": "难以达成"},
    "target_above_need": {"en": "target above projected need", "zh": "目标高于预测需求"},
    "target_below_need": {"en": "target below projected need", "zh": "目标低于预测需求"},
    "not_projectable": {"en": "not projectable from available data", "zh": "现有数据无法预测"},
    "not_quantified": {"en": "qualitative target", "zh": "定性目标"},
}
#: Display names of engine indicators and levels (plan target ids use the plan's Chinese).
NAMES: dict[str, dict[str, str]] = {
    "preschool": {"en": "Preschool", "zh": "学前教育"},
    "primary": {"en": "Primary", "zh": "小学"},
    "junior": {"en": "Junior secondary", "zh": "初中"},
    "senior_general": {"en": "General senior secondary", "zh": "普通高中"},
    "secondary_vocational": {"en": "Secondary vocational", "zh": "中等职业教育"},
    "higher": {"en": "Higher education", "zh": "高等教育"},
    "compulsory": {"en": "Compulsory (primary + junior)", "zh": "义务教育"},
    "preschool_ger_3y": {"en": "Preschool GER, 3 years (%)", "zh": "学前三年毛入园率（%）"},
    "senior_stage_ger": {"en": "Senior-stage GER (%)", "zh": "高中阶段毛入学率（%）"},
    "compulsory_consolidation_rate": {"en": "Nine-year consolidation rate (%)",
                                      "zh": "九年义务教育巩固率（%）"},
    "secondary_vocational_enrolment": {"en": "Secondary vocational enrolment (persons)",
                                       "zh": "中职在校生（人）"},
    "higher_vocational_enrolment": {"en": "Higher vocational enrolment (persons)",
                                    "zh": "高职在校生（人）"},
    "teachers_added_2021_2025": {"en": "Teachers added in the 5 years to each year (persons)",
                                 "zh": "截至当年的5年补充教师（人）"},
}


def label(key: str, lang: str = "en") -> str:
    """The label for ``key`` in ``lang`` ('en' or 'zh'); the key itself when unknown."""
    entry = LABELS.get(key) or NAMES.get(key)
    return entry.get(lang, entry["en"]) if entry else key


_CJK_HINTS = ("CJK", "WenQuanYi", "SimHei", "SimSun", "Source Han", "YaHei", "PingFang",
              "Heiti", "Noto Sans SC", "AR PL", "Droid Sans Fallback")


def cjk_font() -> str | None:
    """A font family that draws Chinese, or None (message in ``resolve_lang``).

    Prefers sans-serif CJK families; asks ``fc-list :lang=zh`` for font files when
    matplotlib's font cache has none (e.g. fonts installed after the cache was built).
    """
    from matplotlib import font_manager as fm

    def _pick() -> str | None:
        names = sorted({f.name for f in fm.fontManager.ttflist
                        if any(h in f.name for h in _CJK_HINTS)})
        for pref in ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
                     "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei"):
            if pref in names:
                return pref
        sans = [n for n in names if "Sans" in n and "Mono" not in n]
        return (sans or names or [None])[0]

    found = _pick()
    if found or not shutil.which("fc-list"):
        return found
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True,
                             timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        path = line.split(":")[0].strip()
        if path:
            try:
                fm.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
    return _pick()


def resolve_lang(lang: str) -> tuple[str, str]:
    """(language for figures, message). 'zh' without a CJK font falls back to 'en'."""
    if lang not in ("en", "zh"):
        raise ValueError(f"--lang must be 'en' or 'zh', got {lang!r}")
    if lang == "en":
        return "en", ""
    font = cjk_font()
    if font is None:
        return "en", ("no CJK font found (checked matplotlib's fonts and `fc-list :lang=zh`): "
                      "figure labels fall back to English; install one, e.g. "
                      "`apt-get install fonts-noto-cjk`, for Chinese figure labels")
    return "zh", f"Chinese figure labels drawn with the font '{font}'"


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
        target, target_year: plan target (dashed line) and its year (dotted vertical line).
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
        if target is not None and not np.isnan(target):
            ax.axhline(target, color="#d62728", ls="--", lw=1.2,
                       label=f"{label('target', lang)} {target:g}")
            if target_year is not None:
                ax.axvline(target_year, color="#d62728", ls=":", lw=0.8)
        ax.set_title(f"{_name(area, lang, area_names)} — {_name(indicator, lang, indicator_names)}")
        ax.set_xlabel(label("year", lang))
        ax.legend(frameon=False, fontsize=7, loc="best")
        fig.tight_layout()
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
        fig.tight_layout()
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
        fig.tight_layout()
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
        fig.tight_layout()
    fig.njforecast_rc = rc  # fonts must also be set when the figure is saved
    return fig


# --- files --------------------------------------------------------------------------------
def _atomic_bytes(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_figure(fig, folder: str | Path, stem: str) -> list[Path]:
    """Write ``stem.png`` (150 dpi) and ``stem.svg`` atomically; close the figure."""
    return [_atomic_bytes(Path(folder) / f"{stem}.{ext}", data)
            for ext, data in save_figure_bytes(fig).items()]


#: unit of each column, shown in Excel/HTML headers ("enrolment [persons]").
COLUMN_UNITS = {S.POPULATION: "persons", S.ENROLMENT: "persons", S.SEATS: "places",
                S.UTILISATION: "%", S.DEMAND: "teachers", S.SUPPLY: "teachers",
                S.HIRES_NEEDED: "teachers", S.SURPLUS: "teachers",
                S.RATIO: "pupils per teacher", S.P_MEET: "probability 0–1"}


#: unit of the summary columns (mean, lo80, …) of tables without a ``unit`` column.
TABLE_UNITS = {"population_school_age": "persons", "enrolment": "persons",
               "scenario_targets": "target's unit"}


def _with_units(df: pd.DataFrame, summary_unit: str | None = None) -> pd.DataFrame:
    """Column headers with units: ``enrolment [persons]``; summary columns take the row's
    ``unit`` column ("see unit column") or ``summary_unit``."""
    note = "see unit column" if S.UNIT in df.columns else summary_unit
    ren = {}
    for c in df.columns:
        if c in COLUMN_UNITS:
            ren[c] = f"{c} [{COLUMN_UNITS[c]}]"
        elif (c in (S.TARGET, S.GAP, S.VALUE, *S.SUMMARY_COLUMNS) or c.startswith("projected_")
              or c == "diff_vs_baseline") and note:
            ren[c] = f"{c} [{note}]"
        elif c.endswith(("_lo80", "_hi80")) and c.rsplit("_", 1)[0] in COLUMN_UNITS:
            ren[c] = f"{c} [{COLUMN_UNITS[c.rsplit('_', 1)[0]]}]"
    return df.rename(columns=ren)


def write_excel(tables: Mapping[str, pd.DataFrame], path: str | Path,
                assumptions_df: pd.DataFrame | None = None,
                sources_df: pd.DataFrame | None = None) -> Path:
    """One sheet per table (units in headers) plus an 'assumptions_sources' sheet; atomic.

    Args:
        tables: sheet name (≤ 31 characters) → frame.
        path: the .xlsx file.
        assumptions_df, sources_df: stacked on the 'assumptions_sources' sheet.
    """
    path = Path(path)
    for name in tables:
        if len(name) > 31 or not name:
            raise ValueError(f"Excel sheet name {name!r} must have 1–31 characters")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".xlsx")
    os.close(fd)
    try:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            for name, df in tables.items():
                _with_units(df, TABLE_UNITS.get(name)).to_excel(xw, sheet_name=name,
                                                                 index=False)
                ws = xw.sheets[name]
                ws.freeze_panes = "A2"
                for col in ws.columns:
                    width = max(len(str(col[0].value)), 8)
                    ws.column_dimensions[col[0].column_letter].width = min(width + 2, 60)
            row = 0
            sheet = "assumptions_sources"
            for title, df in (("Assumptions", assumptions_df), ("Data sources and quality",
                                                                 sources_df)):
                if df is None:
                    continue
                pd.DataFrame({title: []}).to_excel(xw, sheet_name=sheet, startrow=row,
                                                   index=False)
                df.to_excel(xw, sheet_name=sheet, startrow=row + 1, index=False)
                row += len(df) + 4
            if sheet not in xw.sheets:
                pd.DataFrame({"note": ["no assumptions recorded"]}).to_excel(
                    xw, sheet_name=sheet, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _fmt_table(df: pd.DataFrame, max_rows: int = 400) -> str:
    def fmt(x):
        if isinstance(x, float):
            if np.isnan(x):
                return "—"
            return f"{x:,.3g}" if abs(x) < 1 else (f"{x:,.1f}" if abs(x) < 1000 else f"{x:,.0f}")
        return x

    d = df.head(max_rows).copy()
    for c in d.columns:
        d[c] = d[c].map(fmt)
    more = f"<p class='more'>… {len(df) - max_rows} more rows in the CSV/Excel files.</p>" \
        if len(df) > max_rows else ""
    return d.to_html(index=False, escape=True, border=0, classes="tbl") + more


def _img(png: bytes, alt: str, wide: bool = False) -> str:
    b64 = base64.b64encode(png).decode("ascii")
    cls = " class='wide'" if wide else ""
    return f"<figure{cls}><img alt='{html.escape(alt)}' src='data:image/png;base64,{b64}'/>" \
           f"<figcaption>{html.escape(alt)}</figcaption></figure>"


_CSS = """body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",
"PingFang SC",Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-bottom:.2em;
margin-top:1.6em}
table.tbl{border-collapse:collapse;font-size:.78em;margin:.5em 0}table.tbl td,table.tbl th
{border-bottom:1px solid #e3e3e3;padding:2px 6px;text-align:right}table.tbl th{background:#f3f3f3}
figure{display:inline-block;margin:.5em;vertical-align:top}figure img{max-width:520px;
border:1px solid #eee}figure.wide{display:block}figure.wide img{max-width:100%}
figcaption{font-size:.8em;color:#555}.note{color:#555;font-size:.85em}
.status-on_track{color:#1a7f37;font-weight:bold}.status-off_track{color:#c62828;font-weight:bold}
.status-at_risk{color:#b26a00;font-weight:bold}.more{font-size:.8em;color:#777}"""


def write_html(path: str | Path, title: str, sections: Iterable[tuple[str, str]],
               lang: str = "en") -> Path:
    """A self-contained HTML page (inline CSS, base64 images) from (heading, html body) pairs."""
    body = "\n".join(f"<section><h2>{html.escape(h)}</h2>\n{b}\n</section>" for h, b in sections)
    page = (f"<!DOCTYPE html>\n<html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head>"
            f"<meta charset='utf-8'><title>{html.escape(title)}</title><style>{_CSS}</style>"
            f"</head><body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n")
    return _atomic_bytes(Path(path), page.encode("utf-8"))


def _status_html(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    d = df.copy()
    if S.STATUS in d.columns:
        d[S.STATUS] = d[S.STATUS].map(lambda s: label(s, lang) if isinstance(s, str) else s)
    return d


def write_report(results, gaps_df: pd.DataFrame, out_dir: str | Path, lang: str = "en",
                 scenario_table: pd.DataFrame | None = None,
                 fan_indicators: Iterable[str] | None = None,
                 scenario_targets: pd.DataFrame | None = None) -> dict[str, Path]:
    """All outputs of one run: tidy CSVs, target_gaps.csv, figures/ (PNG+SVG), report.xlsx/.html.

    Args:
        results: ``pipeline.Results`` (frames: population_summary, enrolment_summary,
            indicator_summary, teachers, capacity, target_series, assumptions, sources,
            quality; attributes: config, data_hash, region, scenario).
        gaps_df: ``plan_targets.compare_to_targets`` output.
        out_dir: output folder (created).
        lang: 'en' or 'zh'; figures fall back to English without a CJK font (the report
            says so; call ``resolve_lang`` to get the message for the terminal).
        scenario_table: ``scenarios.comparison_table`` output, if scenarios were run.
        scenario_targets: city target rows per scenario (scenario, indicator, year, target,
            projected_mean, projected_lo80, projected_hi80, p_meet, status).
        fan_indicators: target indicators to draw fan charts for (default: projectable ones).

    Returns:
        name → path of every file written.
    """
    from ..io.store import write_csv_atomic

    out = Path(out_dir)
    figdir = out / "figures"
    fig_lang, lang_msg = resolve_lang(lang)
    region = results.region
    names = region.names("zh" if fig_lang == "zh" else "en")
    text_names = region.names(lang)
    ind_names = {}
    if S.INDICATOR_ZH in gaps_df.columns and lang == "zh":
        ind_names = dict(zip(gaps_df[S.INDICATOR], gaps_df[S.INDICATOR_ZH], strict=True))
    paths: dict[str, Path] = {}

    # tidy tables
    tables = {"target_gaps": gaps_df, **results.tables()}
    if scenario_table is not None:
        tables["scenario_comparison"] = scenario_table
    if scenario_targets is not None:
        tables["scenario_targets"] = scenario_targets
    for name, df in tables.items():
        paths[f"{name}.csv"] = write_csv_atomic(df, out / f"{name}.csv")

    # figures
    ts = results.target_summary()
    pngs: list[tuple[str, bytes, bool]] = []
    city = region.code
    counties = [a.code for a in region.counties]
    projectable = gaps_df[gaps_df[S.N_DRAWS].fillna(0) > 0]
    fan = list(fan_indicators) if fan_indicators is not None else \
        list(dict.fromkeys(projectable[S.INDICATOR]))

    def keep(fig, stem, caption, wide=False):
        ps = save_figure_bytes(fig)
        for ext, data in ps.items():
            paths[f"figures/{stem}.{ext}"] = _atomic_bytes(figdir / f"{stem}.{ext}", data)
        pngs.append((caption, ps["png"], wide))

    for ind in fan:
        t = gaps_df[(gaps_df[S.INDICATOR] == ind) & (gaps_df[S.AREA] == city)]
        tval = float(t[S.TARGET].iloc[0]) if len(t) else None
        tyear = int(t[S.TARGET_YEAR].iloc[0]) if len(t) else None
        fig = fan_chart(ts, ind, city, fig_lang, tval, tyear, results.observed_targets(),
                        names, ind_names if fig_lang == "zh" else None)
        keep(fig, f"fan_{ind}", f"{text_names.get(city, city)}: "
             f"{ind_names.get(ind) or label(ind, lang)}")
        if ind in set(gaps_df.loc[gaps_df[S.SCOPE].str.startswith("county", na=False),
                                  S.INDICATOR]):
            fig = county_multiples(ts, ind, counties, fig_lang, tval, names,
                                   ind_names if fig_lang == "zh" else None)
            crow = gaps_df[(gaps_df[S.INDICATOR] == ind)
                           & gaps_df[S.SCOPE].str.startswith("county", na=False)]
            copy = (S.BASIS in crow.columns and len(crow) > 0
                    and bool((crow[S.BASIS] == BASIS_CITY_COPY).all()))
            keep(fig, f"counties_{ind}", f"{ind_names.get(ind) or label(ind, lang)} — "
                 + ("各区县" if lang == "zh" else "by county")
                 + (label("city_rate_applied", lang) if copy else ""))
    if results.capacity is not None and len(results.capacity):
        keep(capacity_chart(results.capacity, fig_lang, names), "capacity_utilisation",
             label("capacity_title", lang), wide=True)
    if results.teachers is not None and len(results.teachers):
        keep(teachers_chart(results.teachers, city, fig_lang, names), "teachers_demand_supply",
             label("teachers_title", lang), wide=True)

    # Excel
    assumptions = results.assumptions
    sources = results.sources
    paths["report.xlsx"] = write_excel(tables, out / "report.xlsx", assumptions, sources)

    # HTML
    cfg = results.config
    counts = gaps_df[gaps_df[S.SCOPE] == "plan (city)"].groupby([S.YEAR, S.STATUS]).size()
    summary_rows = "".join(f"<li>{y}: {label(s, lang)} — {n}</li>" for (y, s), n in counts.items())
    info = (f"<p>config <code>{html.escape(str(cfg.path or cfg.name))}</code>; scenario "
            f"<b>{html.escape(results.scenario)}</b>; base year {cfg.base_year}, horizon "
            f"{cfg.end_year}; draws {cfg.draws}; seed {cfg.seed}; data hash "
            f"<code>{results.data_hash[:16]}</code></p>"
            f"<ul>{summary_rows}</ul>"
            f"<p class='note'>status: on track if p_meet ≥ {ON_TRACK_P:g}, off track if p_meet "
            f"&lt; {OFF_TRACK_P:g}, otherwise at risk; p_meet = share of {cfg.draws} draws "
            f"meeting the target (rates held on a path have no draw-to-draw spread, so their "
            f"p_meet is 0 or 1). County rows with basis “{BASIS_CITY_COPY}” repeat the "
            f"city's projected rate (no county series in the data): they are not independent "
            f"county projections. "
            f"{html.escape(label('estimated_note', lang))}</p>")
    if lang_msg:
        info += f"<p class='note'>{html.escape(lang_msg)}</p>"
    city_year = min(set(gaps_df[S.YEAR]), key=lambda y: abs(y - 2025))
    info += _city_table(gaps_df, city_year, lang)
    gaps_show = gaps_df.copy()
    gaps_show[S.AREA] = gaps_show[S.AREA].map(lambda a: f"{a} {text_names.get(a, '')}")
    drop = [S.NOTE, S.PROJECTED_LO95, S.PROJECTED_HI95, S.SCOPE]
    if lang == "en":
        drop.append(S.INDICATOR_ZH)
    gaps_show = gaps_show.drop(columns=drop)
    sections = [(label("summary", lang), info),
                (label("figures", lang), "".join(_img(p, c, w) for c, p, w in pngs))]
    if scenario_targets is not None and len(scenario_targets):
        st = scenario_targets[scenario_targets[S.YEAR] == city_year]
        piv = st.assign(cell=[f"{m:,.1f} (p={p:.2f})" for m, p in
                              zip(st[S.PROJECTED_MEAN], st[S.P_MEET], strict=True)])
        piv = piv.pivot_table(index=S.INDICATOR, columns=S.SCENARIO, values="cell",
                              aggfunc="first", sort=False).reset_index()
        body = (f"<p class='note'>{city_year}, city: projected mean (probability of meeting "
                f"the plan target) under each scenario.</p>" + _fmt_table(piv))
        if scenario_table is not None and len(scenario_table):
            body += ("<details><summary>key indicators by area, 2025/2030/2035 (all "
                     "scenarios)</summary>" + _fmt_table(scenario_table, max_rows=300)
                     + "</details>")
        sections.append((label("scenarios", lang), body))
    sections.append((label("targets", lang),
                     "<details><summary>every target × area × year "
                     f"({len(gaps_show)} rows; also target_gaps.csv)</summary>"
                     + _fmt_table(_status_html(gaps_show, lang)) + "</details>"))
    if assumptions is not None:
        sections.append((label("assumptions", lang), _fmt_table(assumptions)))
    src_html = _fmt_table(sources) if sources is not None else ""
    if results.quality is not None and len(results.quality):
        src_html += ("<p class='note'>Quality flags of the projected frames (rows per area, "
                     "item and quality):</p>" + _fmt_table(results.quality))
    sections.append((label("sources", lang), src_html))
    paths["report.html"] = write_html(out / "report.html", label("title", lang), sections, lang)
    paths["run_info.json"] = write_run_info(results, out / "run_info.json")
    return paths


def _git_commit(where: Path) -> dict[str, object]:
    """Commit of the source tree at ``where`` and whether it has uncommitted changes (None
    when git or the repository is not available)."""
    def git(*args: str) -> str | None:
        try:
            r = subprocess.run(["git", "-C", str(where), *args], capture_output=True,
                               text=True, timeout=10, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return r.stdout.strip() if r.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"git_commit": commit, "git_dirty": None if status is None else bool(status)}


def run_info(results) -> dict:
    """Provenance of one run's outputs (so stale outputs can be recognised).

    Keys: package_version, git_commit (None outside a git checkout), git_dirty (tracked files
    changed since that commit), data_hash (sha256 of the bundled inputs,
    ``pipeline.data_hash``), config_path, config_text (the TOML file as read, None when the
    config was built in code), config (the parsed config incl. tables), scenario, region,
    seed, draws, base_year, end_year, created_utc (ISO 8601, seconds).
    """
    import dataclasses
    import datetime as dt

    from .. import __version__

    cfg = results.config
    text = None
    if cfg.path and Path(cfg.path).is_file():
        text = Path(cfg.path).read_text(encoding="utf-8")
    return {
        "package_version": __version__,
        **_git_commit(Path(__file__).resolve().parent.parent),
        "data_hash": results.data_hash,
        "config_path": None if cfg.path is None else str(cfg.path),
        "config_text": text,
        "config": dataclasses.asdict(cfg),
        "scenario": results.scenario,
        "region": results.region.code,
        "seed": cfg.seed, "draws": cfg.draws,
        "base_year": cfg.base_year, "end_year": cfg.end_year,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def write_run_info(results, path: str | Path) -> Path:
    """Write :func:`run_info` as JSON atomically (temporary file + rename)."""
    import json

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(run_info(results), indent=2, ensure_ascii=False, sort_keys=True,
                      default=str) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _city_table(gaps_df: pd.DataFrame, year: int, lang: str) -> str:
    """Compact HTML table of the city's projectable targets in ``year`` plus counts."""
    d = gaps_df[(gaps_df[S.SCOPE] == "plan (city)") & (gaps_df[S.YEAR] == year)]
    proj = d[d[S.N_DRAWS].fillna(0) > 0]
    rows = []
    for r in proj.itertuples():
        name = r.indicator_zh if lang == "zh" else label(r.indicator, lang)
        sign = {"at_least": "≥", "at_most": "≤", "about": "≈"}.get(r.comparison, "")
        rows.append(f"<tr><td style='text-align:left'>{html.escape(str(name))}</td>"
                    f"<td>{sign}{r.target:,.6g}</td><td>{r.projected_mean:,.1f}</td>"
                    f"<td>{r.projected_lo80:,.1f}–{r.projected_hi80:,.1f}</td>"
                    f"<td>{r.gap:+,.1f}</td><td>{r.p_meet:.2f}</td>"
                    f"<td class='status-{r.status}'>{label(r.status, lang)}</td>"
                    f"<td>{html.escape(str(r.quality))}</td></tr>")
    others = d[d[S.N_DRAWS].fillna(0) == 0]
    rest = ", ".join(html.escape(str(n)) for n in
                     (others[S.INDICATOR_ZH] if lang == "zh" else others[S.INDICATOR]))
    return ("<table class='tbl'><tr><th>target</th><th>plan</th><th>projected mean</th>"
            "<th>80 % interval</th><th>gap</th><th>p_meet</th><th>status</th>"
            f"<th>quality</th></tr>{''.join(rows)}</table>"
            f"<p class='note'>{year}, city. {len(others)} further targets are "
            f"{label('not_projectable', lang)} or qualitative: {rest}.</p>")


def save_figure_bytes(fig) -> dict[str, bytes]:
    """PNG (150 dpi) and SVG bytes of a figure; closes it."""
    import matplotlib.pyplot as plt

    out = {}
    rc = {**getattr(fig, "njforecast_rc", {}), "svg.hashsalt": "njforecast"}  # stable SVG ids
    with plt.rc_context(rc):
        for ext, kw in (("png", {"dpi": 150}), ("svg", {"metadata": {"Date": None}})):
            buf = io.BytesIO()
            fig.savefig(buf, format=ext, **kw)
            out[ext] = buf.getvalue()
    plt.close(fig)
    return out


# --- one run's outputs, end to end (called by the CLI inside its MLflow run) ---------------


def comparison_years(cfg) -> list[int]:
    """Years the target table compares: each target year and the horizon's end."""
    return sorted({2025, cfg.end_year} & set(range(cfg.base_year, cfg.end_year + 1)))


def build_outputs(cfg, lang: str = "en", scenario=None, compare: Iterable | None = None,
                  progress=None, on_scenario=None) -> dict:
    """Project, compare with targets, run the comparison scenarios and write every output.

    Args:
        cfg: the run config (``output_dir`` is where files go; ``[report] fan_indicators``
            limits the fan charts to those target ids).
        lang: report language ('en' or 'zh').
        scenario: the main ``scenarios.Scenario`` (default the ``baseline`` preset).
        compare: other Scenarios to run and put side by side (e.g. the presets).
        progress: callable(str) told each step as it starts.
        on_scenario: callable(Results, gaps) called after each scenario (main one first),
            e.g. to log it as a nested MLflow run.

    Outputs are written to a temporary folder next to ``output_dir`` and moved into place at
    the end, so a failed run leaves the previous outputs untouched and no half-written files.

    Returns:
        dict: results, gaps, scenario_table, scenario_targets, paths (name → final path),
        out_dir, lang_message.
    """
    from ..io.store import load_plan_targets
    from ..engine.pipeline import run as run_pipeline
    from ..planning.targets import compare_to_targets
    from ..planning.scenarios import comparison_table, presets

    say = progress or (lambda _m: None)
    _, lang_msg = resolve_lang(lang)
    targets = load_plan_targets()
    scenario = scenario or presets()["baseline"]
    years = comparison_years(cfg)

    def one(sc, label_: str):
        say(f"{label_}: projecting")
        res = run_pipeline(cfg, sc, progress=lambda m: say(f"{label_}: {m}"))
        order = [res.region.code, *[a.code for a in res.region.counties]]
        gaps = compare_to_targets(res.target_series, targets,
                                  years=[y for y in years if y <= res.config.end_year],
                                  area_order=order)
        if on_scenario is not None:
            on_scenario(res, gaps)
        return res, gaps

    res, gaps = one(scenario, f"scenario {scenario.name}")
    summaries = {scenario.name: res.projection_summary()}
    scen_gaps = [gaps.assign(scenario=scenario.name)]
    others = [s for s in (compare or []) if s.name != scenario.name]
    for i, sc in enumerate(others, 1):
        r, g = one(sc, f"scenario {sc.name} ({i}/{len(others)})")
        summaries[sc.name] = r.projection_summary()
        scen_gaps.append(g.assign(scenario=sc.name))
    table = comparison_table(summaries, years=(2025, 2030, 2035)) if len(summaries) > 1 else None
    sg = pd.concat(scen_gaps, ignore_index=True)
    sg = sg[(sg[S.SCOPE] == "plan (city)") & (sg[S.N_DRAWS] > 0)]
    scen_targets = sg[["scenario", S.INDICATOR, S.YEAR, S.TARGET, S.PROJECTED_MEAN,
                       S.PROJECTED_LO80, S.PROJECTED_HI80, S.P_MEET, S.STATUS]]

    final = Path(cfg.output_dir)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.tmp-"))
    try:
        say("writing report, figures, Excel")
        paths = write_report(res, gaps, tmp, lang=lang, scenario_table=table,
                             fan_indicators=cfg.section("report").get("fan_indicators"),
                             scenario_targets=scen_targets if len(summaries) > 1 else None)
        replace_dir_atomic(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    paths = {k: final / Path(v).relative_to(tmp) for k, v in paths.items()}
    return {"results": res, "gaps": gaps, "scenario_table": table,
            "scenario_targets": scen_targets, "paths": paths, "out_dir": final,
            "lang_message": lang_msg}


def summary_table(gaps_df: pd.DataFrame, year: int = 2025, lang: str = "en",
                  verbose: bool = False) -> str:
    """A short plain-text table of the city's targets in ``year`` (for the terminal).

    Projectable targets get a row each; the others are counted (all rows when ``verbose``).
    """
    d = gaps_df[(gaps_df[S.SCOPE] == "plan (city)") & (gaps_df[S.YEAR] == year)]
    lines = [f"{'target':42s} {'plan':>9s} {'projected mean [80 % interval]':>34s} "
             f"{'p_meet':>6s}  status"]
    d = pd.concat([d[d[S.N_DRAWS].fillna(0) > 0], d[d[S.N_DRAWS].fillna(0) == 0]])
    for r in d.itertuples():
        if not r.n_draws > 0 and not verbose:
            continue
        name = (r.indicator_zh if lang == "zh" else r.indicator) or r.indicator
        sign = {"at_least": "≥", "at_most": "≤", "about": "≈"}.get(r.comparison, "")
        tgt = f"{sign}{r.target:,.6g}" if r.target == r.target else "—"
        if r.n_draws and r.n_draws > 0:
            proj = f"{r.projected_mean:,.1f} [{r.projected_lo80:,.1f}–{r.projected_hi80:,.1f}]"
            p = f"{r.p_meet:.2f}"
        else:
            proj, p = "—", "—"
        lines.append(f"{str(name)[:42]:42s} {tgt:>9s} {proj:>34s} {p:>6s}  "
                     f"{label(r.status, lang)}")
    n = d[S.STATUS].value_counts()
    lines.append("  ".join(f"{label(k, lang)}: {v}" for k, v in n.items()))
    lines.append("(every target, projectable or not, is in target_gaps.csv)")
    lines.append(f"status: on track if p_meet ≥ {ON_TRACK_P:g}, off track if < {OFF_TRACK_P:g}, "
                 "else at risk "
                 f"(p_meet = share of draws meeting the target; year {year})")
    return "\n".join(lines)
