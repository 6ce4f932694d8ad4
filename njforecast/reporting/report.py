"""The self-contained HTML report and the terminal summary of one run.

Public functions:
    write_report(results, gaps_df, out_dir, lang, ...)  every output of one run: tidy CSVs,
                                  target_gaps.csv, figures/ (PNG+SVG), report.xlsx, report.html,
                                  run_info.json → {name: path}
    write_html(path, context, template)   render a page template (templates/) to a file
    summary_table(gaps_df, year, lang)        a short plain-text table of the city's targets
    ex_post_table(gaps_df, lang)              "what the plan period ended at" (observed values)

The page is built from Jinja2 templates in ``templates/`` (``report.html.j2``, the table macro
``tables.html.j2``, ``ex_post.html.j2`` and the stylesheet ``report.css``, inlined), with
autoescaping on: Python prepares display strings, the templates hold every tag, so a report
writer restyles or rewords the page without touching Python.
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .. import schema as S
from ..planning.targets import BASIS_CITY_COPY, OFF_TRACK_P, ON_TRACK_P, SCOPE_CITY_APPLIED
from .labels import column_label, label, resolve_lang, value_label
from .messages import key_messages, plan_periods
from .render import figure_jobs, start_rendering
from .writers import _atomic_bytes, write_excel, write_run_info

_TEMPLATES = Path(__file__).resolve().parent / "templates"
_SIGN = {"at_least": "≥", "at_most": "≤", "about": "≈"}


@lru_cache(maxsize=1)
def _env():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
                              autoescape=True, undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True)


def _render(template: str, **context) -> str:
    return _env().get_template(template).render(**context)


def _fmt(x) -> str:
    """A table cell for display: NaN → "—", small numbers 3 significant digits, others 1 or
    0 decimals with thousands separators."""
    if isinstance(x, float):
        if np.isnan(x):
            return "—"
        return f"{x:,.3g}" if abs(x) < 1 else (f"{x:,.1f}" if abs(x) < 1000 else f"{x:,.0f}")
    return "" if x is None else str(x)


#: columns whose values are shown in the report's language (``labels.VALUES``)
_VALUE_COLUMNS = (S.STATUS, S.QUALITY, "county_kind", S.BASIS, S.COMPARISON, S.SCOPE, S.UNIT,
                  "item")


def _table(df: pd.DataFrame, max_rows: int = 400, lang: str = "en") -> dict:
    """A frame as the table macro's input: columns (headings in ``lang``), display rows
    (status, quality, … values in ``lang`` when 'zh'), n, more (rows left out) and more_text."""
    d = df.head(max_rows)
    if lang == "zh":
        d = d.assign(**{c: d[c].map(lambda v, c=c: value_label(c, v, lang))
                        for c in _VALUE_COLUMNS if c in d.columns})
    rows = [[_fmt(v) for v in r] for r in d.itertuples(index=False, name=None)]
    more = max(len(df) - max_rows, 0)
    return {"columns": [column_label(c, lang) for c in df.columns], "rows": rows,
            "n": len(df), "more": more, "more_text": label("more_rows", lang).format(n=more)}


def write_html(path: str | Path, context: dict, template: str = "report.html.j2") -> Path:
    """Render ``template`` (under ``templates/``) with ``context`` to ``path``, atomically."""
    page = _render(template, css=(_TEMPLATES / "report.css").read_text(encoding="utf-8"),
                   **context)
    return _atomic_bytes(Path(path), page.encode("utf-8"))


def _status_html(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    d = df.copy()
    if S.STATUS in d.columns:
        d[S.STATUS] = d[S.STATUS].map(lambda s: label(s, lang) if isinstance(s, str) else s)
    return d


def write_report(results, gaps_df: pd.DataFrame, out_dir: str | Path, lang: str = "en",
                 scenario_table: pd.DataFrame | None = None,
                 fan_indicators=None, scenario_targets: pd.DataFrame | None = None,
                 figure_workers: int = 1) -> dict[str, Path]:
    """All outputs of one run: tidy CSVs, target_gaps.csv, figures/ (PNG+SVG), report.xlsx/.html.

    A share of the figures is drawn in ``figure_workers`` forked processes
    (``render.start_rendering``) while this process writes the CSV files and the workbook and
    then draws the rest; the page leads with the key messages (``messages.key_messages``).

    Args:
        results: ``engine.Results`` (frames: tables(), target_summary(),
            projection_summary(), teachers, capacity, assumptions, sources, quality;
            attributes: config, data_hash, region, scenario).
        gaps_df: ``planning.targets.compare_to_targets`` output.
        out_dir: output folder (created).
        lang: 'en' or 'zh'; figures fall back to English without a CJK font (the report
            says so; call ``resolve_lang`` to get the message for the terminal).
        scenario_table: ``scenarios.comparison_table`` output, if scenarios were run.
        scenario_targets: city target rows per scenario (scenario, indicator, year, target,
            projected_mean, projected_lo80, projected_hi80, p_meet, status).
        fan_indicators: target indicators to draw fan charts for (default: projectable ones).
        figure_workers: extra processes drawing figures (0: all in this process).

    Returns:
        name → path of every file written.
    """
    from ..io.store import write_csv_atomic

    out = Path(out_dir)
    figdir = out / "figures"
    fig_lang, lang_msg = resolve_lang(lang)
    text_names = results.region.names(lang)
    paths: dict[str, Path] = {}

    tables = {"target_gaps": gaps_df, **results.tables()}
    summary = results.projection_summary()
    y_end = int(summary[S.YEAR].max())
    y0 = results.jump_off_year  # messages and county changes start at the jump-off
    period, nxt = plan_periods(gaps_df, y0, y_end)
    jobs, county_note = figure_jobs(results, gaps_df, lang, fig_lang, fan_indicators, tables,
                                    (y0, nxt[1]))
    rendering = start_rendering(jobs, figure_workers)

    if scenario_table is not None:
        tables["scenario_comparison"] = scenario_table
    if scenario_targets is not None:
        tables["scenario_targets"] = scenario_targets
    for name, df in tables.items():
        paths[f"{name}.csv"] = write_csv_atomic(df, out / f"{name}.csv")
    paths["report.xlsx"] = write_excel(tables, out / "report.xlsx", results.assumptions,
                                       results.sources, lang)
    messages = key_messages(tables, summary, gaps_df, results.region.code, text_names, lang, y0)

    figures = []
    drawn = rendering.result()
    for job in jobs:
        for ext, data in drawn[job.stem].items():
            paths[f"figures/{job.stem}.{ext}"] = _atomic_bytes(figdir / f"{job.stem}.{ext}",
                                                               data)
        figures.append({"caption": job.caption, "wide": job.wide,
                        "png_b64": base64.b64encode(drawn[job.stem]["png"]).decode("ascii")})

    # the report names the font only when the figures fell back to English
    context = _context(results, tables, gaps_df, lang, lang_msg if fig_lang != lang else "",
                       messages, figures,
                       county_note, scenario_table, scenario_targets, period[1])
    paths["report.html"] = write_html(out / "report.html", context)
    paths["run_info.json"] = write_run_info(results, out / "run_info.json")
    return paths


def _context(results, tables, gaps_df, lang, lang_msg, messages, figures, county_note,
             scenario_table, scenario_targets, plan_end: int) -> dict:
    """The report template's context (display strings; the template escapes them)."""
    cfg = results.config
    text_names = results.region.names(lang)
    counts = gaps_df[gaps_df[S.SCOPE] == "plan (city)"].groupby([S.YEAR, S.STATUS]).size()
    years = set(gaps_df[S.YEAR])
    city_year = plan_end if plan_end in years else min(years, key=lambda y: abs(y - plan_end))
    gaps_show = gaps_df.copy()
    names = _indicator_names(gaps_df, lang)
    gaps_show[S.AREA] = gaps_show[S.AREA].map(lambda a: f"{a} {text_names.get(a, '')}")
    # the one row standing for counties that carry the city's rate names them
    applied = gaps_show[S.SCOPE] == SCOPE_CITY_APPLIED
    gaps_show.loc[applied, S.AREA] = gaps_df.loc[applied, S.NOTE].map(
        lambda n: _counties(str(n).split(")", 1)[0] + ")", lang))  # "6 counties (511002, …)"
    drop = [S.NOTE, S.PROJECTED_LO95, S.PROJECTED_HI95, S.SCOPE, S.INDICATOR_ZH]
    if lang == "zh":  # readers see the plan's Chinese name in place of the indicator id
        gaps_show[S.INDICATOR] = gaps_show[S.INDICATOR].map(names)
    gaps_show = gaps_show.drop(columns=drop)
    scen = None
    if scenario_targets is not None and len(scenario_targets):
        st = scenario_targets[scenario_targets[S.YEAR] == city_year]
        piv = st.assign(cell=[f"{m:,.1f} (p={p:.2f})" for m, p in
                              zip(st[S.PROJECTED_MEAN], st[S.P_MEET], strict=True)])
        piv = piv.pivot_table(index=S.INDICATOR, columns=S.SCENARIO, values="cell",
                              aggfunc="first", sort=False).reset_index()
        piv[S.INDICATOR] = piv[S.INDICATOR].map(names)
        comp = None
        if scenario_table is not None and len(scenario_table):
            comp = scenario_table.copy()
            if S.INDICATOR in comp.columns:
                comp[S.INDICATOR] = comp[S.INDICATOR].map(names)
            comp = _table(comp, max_rows=300, lang=lang)
        scen = {"year": city_year, "pivot": _table(piv, lang=lang), "table": comp,
                "note": label("scenario_note", lang).format(year=city_year)}
    keys = ("key_messages", "summary", "figures", "scenarios", "targets", "assumptions",
            "sources", "estimated_note", "not_projectable", "interval_note", "error_band_note",
            "scenario_details", "quality_note", "run_config", "run_data", "th_target", "th_plan",
            "th_mean", "th_interval", "th_gap", "th_p_meet", "th_status", "th_quality")
    status_note = label("status_note", lang).format(
        on=f"{ON_TRACK_P:g}", off=f"{OFF_TRACK_P:g}", draws=cfg.draws,
        basis=value_label(S.BASIS, BASIS_CITY_COPY, lang),
        scope=value_label(S.SCOPE, SCOPE_CITY_APPLIED, lang))
    return {
        "lang": lang, "html_lang": "zh-CN" if lang == "zh" else "en",
        "title": label("title", lang), "text": {k: label(k, lang) for k in keys},
        "run": {"scenario_label": label("run_scenario", lang),
                "scenario": results.scenario, "base_year": cfg.base_year,
                "end_year": cfg.end_year, "draws": label("run_draws", lang).format(n=cfg.draws),
                "seed": label("run_seed", lang).format(seed=cfg.seed),
                "config": str(cfg.path or cfg.name), "data_hash": results.data_hash[:16]},
        "messages": messages,
        "status_counts": [{"year": y, "status": label(s, lang), "n": n}
                          for (y, s), n in counts.items()],
        "status_note": status_note, "lang_message": lang_msg,
        "city": _city_context(gaps_df, city_year, lang),
        "ex_post": _ex_post_context(gaps_df, lang),
        "error_band": error_band_table(tables["population_school_age"], text_names, lang),
        "figures": figures, "county_note": county_note, "scenarios": scen,
        "targets": _table(_status_html(gaps_show, lang), lang=lang),
        "targets_details": label("targets_details", lang).format(n=len(gaps_show)),
        "assumptions": _table(results.assumptions, lang=lang)
        if results.assumptions is not None else None,
        "sources": _table(results.sources, lang=lang) if results.sources is not None else None,
        "quality": _table(results.quality, lang=lang)
        if results.quality is not None and len(results.quality) else None,
    }


def _counties(text: str, lang: str) -> str:
    """"6 counties (511002, …)" in ``lang`` ("6 个区县（511002, …）")."""
    m = re.fullmatch(r"(\d+) counties \((.*)\)", text)
    return label("n_counties", lang).format(n=m[1], codes=m[2]) if m else text


def _indicator_names(gaps_df: pd.DataFrame, lang: str):
    """indicator id → its name for readers: the id in English; in Chinese the target's
    ``indicator_zh`` where given, else its :func:`label` (the id when it has none)."""
    zh = {}
    if lang == "zh" and S.INDICATOR_ZH in gaps_df.columns:
        zh = {i: n for i, n in zip(gaps_df[S.INDICATOR], gaps_df[S.INDICATOR_ZH], strict=True)
              if isinstance(n, str) and n}
    return lambda i: i if lang != "zh" else zh.get(i) or label(str(i), lang)


def error_band_table(pop: pd.DataFrame, names: dict[str, str], lang: str = "en") -> dict | None:
    """The population table's "typical error of this method at 10 years" by area, as the
    table macro's input (the page's note says what it is).

    One row per area: its kind of county and the median APE (%) of the 2010 → 2020 census
    back-test at ages 7, 13 and 16 (the back-test groups 5-9, 10-14, 15-19); None when the
    table has no ``typical_error_10y_pct`` column.
    """
    col = "typical_error_10y_pct"
    if col not in pop.columns:
        return None
    ages = {age: label("ages", lang).format(a=a, b=b)
            for age, (a, b) in {7: (5, 9), 13: (10, 14), 16: (15, 19)}.items()}
    rows = pop[pop[S.AGE].isin(list(ages))].drop_duplicates([S.AREA, S.AGE])
    tab = rows.pivot(index=[S.AREA, "county_kind"], columns=S.AGE, values=col)
    tab = tab.rename(columns=ages).round(1).reset_index()
    tab[S.AREA] = tab[S.AREA].map(lambda a: f"{a} {names.get(a, '')}")
    return _table(tab, lang=lang)


_EX_POST_TEXT = {
    "en": ("What the plan period ended at",
           "Observed value in each target's year (a planner's series where given, else the bundled "
           "observations) beside the projection made from the jump-off: met = the observed value "
           "meets the target; in 80 % / in 95 % = it lay inside the projection's interval.",
           ("area", "target", "year", "plan", "observed", "met", "projected mean",
            "80 % interval", "in 80 %", "in 95 %")),
    "zh": ("规划期末实际情况",
           "各目标年份的实际值（优先使用用户提供的数据，否则为内置观测数据）与基期预测的对比："
           "达标 = 实际值达到目标；在80%/95%区间内 = 实际值落在预测区间内。",
           ("地区", "目标", "年份", "规划目标", "实际值", "达标", "预测均值", "80%区间",
            "在80%区间内", "在95%区间内")),
}


def _ex_post_context(gaps_df: pd.DataFrame, lang: str) -> dict | None:
    """Display rows of "what the plan period ended at" (None when nothing is observed)."""
    if S.ACTUAL not in gaps_df.columns:
        return None
    d = gaps_df[gaps_df[S.ACTUAL].notna()]
    if d.empty:
        return None
    title, note, heads = _EX_POST_TEXT.get(lang, _EX_POST_TEXT["en"])

    def yes(v) -> str:
        return "—" if v is None or v != v else ("✓" if v else "✗")

    rows = []
    for r in d.itertuples():
        name = (r.indicator_zh if lang == "zh" and r.indicator_zh else label(r.indicator, lang))
        projected = bool(r.n_draws and r.n_draws > 0)
        rows.append({"area": r.area, "name": name, "year": r.year,
                     "plan": f"{_SIGN.get(r.comparison, '')}{r.target:,.6g}",
                     "actual": f"{r.actual:,.1f}", "met": yes(r.met),
                     "mean": f"{r.projected_mean:,.1f}" if projected else "—",
                     "interval": f"{r.projected_lo80:,.1f}–{r.projected_hi80:,.1f}"
                     if projected else "—", "in_80": yes(r.in_80), "in_95": yes(r.in_95)})
    return {"title": title, "note": note, "heads": heads, "rows": rows}


def ex_post_table(gaps_df: pd.DataFrame, lang: str = "en") -> str:
    """HTML table "what the plan period ended at": target rows with an observed value
    (``actual``) beside the projection and its intervals; "" when nothing is observed."""
    ctx = _ex_post_context(gaps_df, lang)
    return "" if ctx is None else _render("ex_post.html.j2", ex_post=ctx)


def _city_context(gaps_df: pd.DataFrame, year: int, lang: str) -> dict:
    """The city's projectable targets in ``year`` (display rows) and the other targets' names."""
    d = gaps_df[(gaps_df[S.SCOPE] == "plan (city)") & (gaps_df[S.YEAR] == year)]
    proj = d[d[S.N_DRAWS].fillna(0) > 0]
    rows = [{"name": r.indicator_zh if lang == "zh" else label(r.indicator, lang),
             "plan": f"{_SIGN.get(r.comparison, '')}{r.target:,.6g}",
             "mean": f"{r.projected_mean:,.1f}",
             "interval": f"{r.projected_lo80:,.1f}–{r.projected_hi80:,.1f}",
             "gap": f"{r.gap:+,.1f}", "p_meet": f"{r.p_meet:.2f}", "status": r.status,
             "status_label": label(r.status, lang),
             "quality": str(value_label(S.QUALITY, r.quality, lang))}
            for r in proj.itertuples()]
    others = d[d[S.N_DRAWS].fillna(0) == 0]
    names = others[S.INDICATOR_ZH] if lang == "zh" else others[S.INDICATOR]
    note = label("others_note", lang).format(
        year=year, n=len(others), what=label("not_projectable", lang),
        names=("、" if lang == "zh" else ", ").join(str(n) for n in names))
    return {"year": year, "rows": rows, "others": [str(n) for n in names], "note": note}


def summary_table(gaps_df: pd.DataFrame, year: int | None = None, lang: str = "en",
                  verbose: bool = False) -> str:
    """A short plain-text table of the city's targets in ``year`` (for the terminal).

    Projectable targets get a row each; the others are counted (all rows when ``verbose``).
    ``year`` None: one table per target year (the plan's, or a targets file's).
    """
    if year is None:
        years = sorted({int(y) for y in gaps_df[S.TARGET_YEAR]}) or [0]
        if len(years) > 1:
            return "\n\n".join(summary_table(gaps_df, y, lang, verbose) for y in years)
        year = years[0]
    d = gaps_df[(gaps_df[S.SCOPE] == "plan (city)") & (gaps_df[S.YEAR] == year)]
    lines = [f"{'target':42s} {'plan':>9s} {'projected mean [80 % interval]':>34s} "
             f"{'p_meet':>6s}  status"]
    d = pd.concat([d[d[S.N_DRAWS].fillna(0) > 0], d[d[S.N_DRAWS].fillna(0) == 0]])
    for r in d.itertuples():
        if not r.n_draws > 0 and not verbose:
            continue
        name = (r.indicator_zh if lang == "zh" else r.indicator) or r.indicator
        sign = _SIGN.get(r.comparison, "")
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
