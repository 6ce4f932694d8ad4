"""The self-contained HTML report and the terminal summary of one run.

Public functions:
    write_report(results, gaps_df, out_dir, lang, ...)  every output of one run: tidy CSVs,
                                  target_gaps.csv, figures/ (PNG+SVG), report.xlsx, report.html,
                                  run_info.json → {name: path}
    write_html(path, title, sections, lang)   a page with inline CSS and base64 images
    summary_table(gaps_df, year, lang)        a short plain-text table of the city's targets
    ex_post_table(gaps_df, lang)              "what the plan period ended at" (observed values)
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from .. import schema as S
from ..planning.targets import BASIS_CITY_COPY, OFF_TRACK_P, ON_TRACK_P
from .figures import capacity_chart, county_multiples, fan_chart, save_figure_bytes, teachers_chart
from .labels import label, resolve_lang
from .writers import _atomic_bytes, write_excel, write_run_info


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
    info += ex_post_table(gaps_df, lang)
    info += error_band_table(tables["population_school_age"], text_names)
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


def error_band_table(pop: pd.DataFrame, names: dict[str, str]) -> str:
    """The population table's "typical error of this method at 10 years" by area (HTML).

    One row per area: its kind of county and the median APE (%) of the 2010 → 2020 census
    back-test at ages 7, 13 and 16 (the back-test groups 5-9, 10-14, 15-19); empty when the
    table has no ``typical_error_10y_pct`` column.
    """
    col = "typical_error_10y_pct"
    if col not in pop.columns:
        return ""
    ages = {7: "ages 5-9", 13: "ages 10-14", 16: "ages 15-19"}
    rows = pop[pop[S.AGE].isin(list(ages))].drop_duplicates([S.AREA, S.AGE])
    tab = rows.pivot(index=[S.AREA, "county_kind"], columns=S.AGE, values=col)
    tab = tab.rename(columns=ages).round(1).reset_index()
    tab[S.AREA] = tab[S.AREA].map(lambda a: f"{a} {names.get(a, '')}")
    return ("<p class='note'>Typical error of this method at 10 years: median absolute "
            "percentage error of the population engine projecting the Sichuan counties 2010 → "
            "2020 from the 2010 census alone, by kind of county (njforecast demography "
            "backtest; column typical_error_10y_pct of population_school_age.csv). Areas "
            "projected from their own 2010-2020 history use a migration rule the bundled data "
            "cannot back-test; the band is the back-tested method's.</p>" + _fmt_table(tab))


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


def ex_post_table(gaps_df: pd.DataFrame, lang: str = "en") -> str:
    """HTML table "what the plan period ended at": target rows with an observed value
    (``actual``) beside the projection and its intervals; "" when nothing is observed."""
    if S.ACTUAL not in gaps_df.columns:
        return ""
    d = gaps_df[gaps_df[S.ACTUAL].notna()]
    if d.empty:
        return ""
    title, note, heads = _EX_POST_TEXT.get(lang, _EX_POST_TEXT["en"])

    def yes(v) -> str:
        return "—" if v is None or v != v else ("✓" if v else "✗")

    rows = []
    for r in d.itertuples():
        name = (r.indicator_zh if lang == "zh" and r.indicator_zh else label(r.indicator, lang))
        sign = {"at_least": "≥", "at_most": "≤", "about": "≈"}.get(r.comparison, "")
        proj = (f"<td>{r.projected_mean:,.1f}</td><td>{r.projected_lo80:,.1f}–"
                f"{r.projected_hi80:,.1f}</td>" if r.n_draws and r.n_draws > 0
                else "<td>—</td><td>—</td>")
        rows.append(f"<tr><td>{html.escape(str(r.area))}</td>"
                    f"<td style='text-align:left'>{html.escape(str(name))}</td>"
                    f"<td>{r.year}</td><td>{sign}{r.target:,.6g}</td><td>{r.actual:,.1f}</td>"
                    f"<td>{yes(r.met)}</td>{proj}<td>{yes(r.in_80)}</td><td>{yes(r.in_95)}</td>"
                    "</tr>")
    head = "".join(f"<th>{html.escape(h)}</th>" for h in heads)
    return (f"<h3>{html.escape(title)}</h3><table class='tbl'><tr>{head}</tr>{''.join(rows)}"
            f"</table><p class='note'>{html.escape(note)}</p>")


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
