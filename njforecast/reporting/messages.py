"""Key messages: the few plain sentences a planner reads first, computed from one run's tables.

Public functions:
    plan_periods(gaps_df, jump_off, horizon)   (plan period, next period of the same length)
    key_messages(tables, summary, gaps_df, city, names, lang, jump_off)   3–5 sentences

Every number comes from the run's output tables (never from code): enrolment, capacity and
teachers (``Results.tables()``), the all-level teacher demand of ``Results.projection_summary()``
and the target gaps. The years come from the targets: the plan period ends in the targets' first
target year and starts after the jump-off, or where a period target says
(``teachers_added_2021_2025`` → 2021–2025); the comparison year is the end of the next period of
the same length (capped at the horizon). Projected numbers carry their 80% interval (10th–90th
percentile over draws, as in the tables); a percentage change carries one only when the jump-off
value has no draw-to-draw spread (then the change is a monotone function of the end value and
its percentiles are the end value's).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import schema as S
from ..planning.targets import NEED_NOTE_HEAD
from .labels import label

_PERIOD_ID = re.compile(r".*_(\d{4})_(\d{4})")

#: statuses that a planner must act on, worst first within a p_meet tie
_WORRY = ("off_track", "target_below_need", "at_risk")

_TEXT = {
    "en": {
        "enrol": "{Level} enrolment {verb} {pct} from {y0} to {y1}: {v0} → {v1} "
                 "(80% interval {lo}–{hi}{chg}).",
        "enrol_more": "{level} {verb} {pct} ({v0} → {v1}, 80% interval {lo}–{hi})",
        "falls": "falls", "rises": "rises",
        "chg": "; change {a} to {b}",
        "seats": "Seats planned {p0}–{p1}: {added}. Seat utilisation in {y}: {util}.",
        "seat_item": "{n} {level}",
        "util_item": "{level} {u} (80% interval {lo}–{hi})",
        "teach": "Teachers needed in {y} (all levels): "
                 "{d} (80% interval {lo}–{hi}), against {s} in post in {y0} (estimated): "
                 "{diff}.",
        "fewer": "{n} fewer", "more": "{n} more",
        "tgt_ok": "All {n} projectable plan targets for {y} are on track.",
        "tgt": "Plan targets for {y}: {ok} of {n} projectable on track; needing action: {items}.",
        "tgt_item": "{name} {m} (80% interval {lo}–{hi}) against {sign}{t}, {gap} "
                    "({status}, chance of meeting it {p})",
        "short": "short by {g}", "over": "{g} above",
        "need_item": "{name}: {m} needed (80% interval {lo}–{hi}) against the plan's {t}, "
                     "{gap} ({status}, chance the plan's number covers the need {p})",
        "need_short": "need exceeds the plan by {g}", "need_over": "plan exceeds need by {g}",
        "county": "By county, {level} enrolment changes {lo_c} ({lo_a}{lo_i}) to {hi_c} "
                  "({hi_a}{hi_i}) from {y0} to {y1}{util}.",
        "county_i": ", 80% interval {a} to {b}",
        "county_util": "; {level} seat utilisation in {y} ranges from {lo_u} ({lo_a}, 80% "
                       "interval {lo_lo}–{lo_hi}) to {hi_u} ({hi_a}, 80% interval "
                       "{hi_lo}–{hi_hi})",
        "sep": "; ", "list": ", ",
    },
    "zh": {
        "enrol": "{Level}在校生{y0}—{y1}年{verb}{pct}：{v0}人 → {v1}人"
                 "（80%区间 {lo}–{hi}人{chg}）。",
        "enrol_more": "{level}{verb}{pct}（{v0}人 → {v1}人，80%区间 {lo}–{hi}人）",
        "falls": "减少", "rises": "增加",
        "chg": "；变化 {a}至{b}",
        "seats": "{p0}—{p1}年规划新增学位：{added}。{y}年学位使用率：{util}。",
        "seat_item": "{level}{n}个",
        "util_item": "{level}{u}（80%区间 {lo}–{hi}）",
        "teach": "{y}年所需教师（全部学段）{d}人（80%区间 {lo}–{hi}人），"
                 "{y0}年在岗教师{s}人（估计）：{diff}。",
        "fewer": "少{n}人", "more": "多{n}人",
        "tgt_ok": "{y}年{n}项可预测的规划目标均有望达成。",
        "tgt": "{y}年规划目标：{n}项可预测目标中{ok}项有望达成；需关注：{items}。",
        "tgt_item": "{name}预测{m}（80%区间 {lo}–{hi}），目标{sign}{t}，{gap}"
                    "（{status}，达标概率{p}）",
        "short": "差{g}", "over": "高出{g}",
        "need_item": "{name}：预测需补充{m}（80%区间 {lo}–{hi}），规划{t}，{gap}"
                     "（{status}，规划数足以满足需求的概率{p}）",
        "need_short": "需求比规划多{g}", "need_over": "规划比需求多{g}",
        "county": "{y0}—{y1}年各区县{level}在校生变化不一：{lo_c}（{lo_a}{lo_i}）至{hi_c}"
                  "（{hi_a}{hi_i}）{util}。",
        "county_i": "，80%区间 {a}至{b}",
        "county_util": "；{y}年{level}学位使用率从{lo_u}（{lo_a}，80%区间 {lo_lo}–{lo_hi}）"
                       "到{hi_u}（{hi_a}，80%区间 {hi_lo}–{hi_hi}）",
        "sep": "；", "list": "、",
    },
}

_SIGN = {"at_least": "≥", "at_most": "≤", "about": "≈"}


def _n(x: float) -> str:
    """A count: thousands separators, no decimals."""
    return f"{x:,.0f}"


def _pct(x: float) -> str:
    """A percentage (x in percent), whole numbers."""
    return f"{x:.0f}%" if abs(x) >= 0.5 else "0%"


def _signed_pct(x: float) -> str:
    return ("+" if x >= 0.5 else "−" if x <= -0.5 else "") + _pct(abs(x))


def _val(x: float, unit: str | None) -> str:
    """A target-table value: counts as counts, rates with one decimal."""
    return _n(x) if unit in ("persons", "teachers") or abs(x) >= 1000 else f"{x:,.1f}"


def plan_periods(gaps_df: pd.DataFrame, jump_off: int, horizon: int
                 ) -> tuple[tuple[int, int], tuple[int, int]]:
    """The plan period and the next period of the same length.

    The plan period ends in the earliest target year of ``gaps_df`` after ``jump_off`` (else at
    ``horizon``) and starts in the year after ``jump_off``, unless a period target
    (``…_<first>_<last>`` ending in that year) names its first year. The next period follows
    it, its end capped at ``horizon``.
    """
    # the first target year after the jump-off (targets at or before it are history)
    years = sorted({int(y) for y in gaps_df[S.TARGET_YEAR].dropna() if int(y) > jump_off})
    last = years[0] if years else horizon
    first = jump_off + 1
    for ind in gaps_df[S.INDICATOR].unique():
        m = _PERIOD_ID.fullmatch(str(ind))
        if m and int(m[2]) == last:
            first = int(m[1])
    nxt = (last + 1, min(last + (last - first + 1), horizon))
    return (first, last), nxt


def _city_row(df: pd.DataFrame, city: str, year: int, **match) -> pd.Series | None:
    d = df[(df[S.AREA] == city) & (df[S.YEAR] == year)]
    for col, val in match.items():
        d = d[d[col] == val]
    return d.iloc[0] if len(d) else None


def _change(r0: pd.Series, r1: pd.Series) -> tuple[float, float | None, float | None]:
    """Percentage change of the mean, and of the end interval when the start has no spread."""
    base = float(r0[S.MEAN])
    pct = (float(r1[S.MEAN]) / base - 1) * 100
    if np.isclose(r0[S.LO80], r0[S.HI80], rtol=1e-9):
        return pct, (float(r1[S.LO80]) / base - 1) * 100, (float(r1[S.HI80]) / base - 1) * 100
    return pct, None, None


def _enrolment(t: dict, enrol: pd.DataFrame, city: str, y0: int, y1: int, lang: str
               ) -> str | None:
    parts = []
    for lv in ("primary", "junior"):
        r0, r1 = _city_row(enrol, city, y0, level=lv), _city_row(enrol, city, y1, level=lv)
        if r0 is None or r1 is None or not r0[S.MEAN] > 0:
            continue
        pct, a, b = _change(r0, r1)
        parts.append(dict(level=label(lv, lang), verb=t["falls" if pct < 0 else "rises"],
                          pct=_pct(abs(pct)), v0=_n(r0[S.MEAN]), v1=_n(r1[S.MEAN]),
                          lo=_n(r1[S.LO80]), hi=_n(r1[S.HI80]),
                          chg="" if a is None else t["chg"].format(a=_signed_pct(a),
                                                                   b=_signed_pct(b))))
    if not parts:
        return None
    first = parts[0]
    text = t["enrol"].format(Level=first["level"], y0=y0, y1=y1, **{
        k: v for k, v in first.items() if k != "level"})
    for p in parts[1:]:
        text = text[:-1] + t["sep"] + t["enrol_more"].format(**{
            **p, "level": p["level"] if lang == "zh" else p["level"].lower()}) + text[-1]
    return text


def _seats(t: dict, cap: pd.DataFrame, city: str, period: tuple[int, int], y: int, lang: str
           ) -> str | None:
    added, util = [], []
    for lv in [lv for lv in ("compulsory", *S.LEVELS) if lv in set(cap[S.LEVEL])]:
        r_start = _city_row(cap, city, period[0] - 1, level=lv)
        r_end = _city_row(cap, city, period[1], level=lv)
        r_y = _city_row(cap, city, y, level=lv)
        name = label(lv, lang) if lang == "zh" else label(lv, lang).lower()
        if r_start is not None and r_end is not None:
            n = float(r_end[S.SEATS]) - float(r_start[S.SEATS])
            if abs(n) >= 0.5:
                added.append(t["seat_item"].format(n=_n(n), level=name))
        if r_y is not None and r_y[S.UTILISATION] == r_y[S.UTILISATION]:
            lo = r_y.get(f"{S.UTILISATION}_lo80", np.nan)
            hi = r_y.get(f"{S.UTILISATION}_hi80", np.nan)
            util.append(t["util_item"].format(level=name, u=_pct(r_y[S.UTILISATION]),
                                              lo=_pct(lo), hi=_pct(hi)))
    if not added or not util:
        return None
    return t["seats"].format(p0=period[0], p1=period[1], added=t["list"].join(added), y=y,
                             util=t["list"].join(util))


def _teachers(t: dict, summary: pd.DataFrame, teachers: pd.DataFrame, city: str, y0: int,
              y: int) -> str | None:
    d = _city_row(summary, city, y, indicator="teacher_demand")
    s0 = teachers[(teachers[S.AREA] == city) & (teachers[S.YEAR] == y0)][S.SUPPLY]
    if d is None or s0.empty:
        return None
    stock = float(s0.sum())
    diff = float(d[S.MEAN]) - stock
    return t["teach"].format(y=y, d=_n(d[S.MEAN]), lo=_n(d[S.LO80]), hi=_n(d[S.HI80]),
                             s=_n(stock), y0=y0,
                             diff=t["fewer" if diff < 0 else "more"].format(n=_n(abs(diff))))


def _targets(t: dict, gaps: pd.DataFrame, city: str, year: int, lang: str) -> str | None:
    d = gaps[(gaps[S.AREA] == city) & (gaps[S.YEAR] == year) & (gaps[S.TARGET_YEAR] == year)
             & (gaps[S.N_DRAWS].fillna(0) > 0)]
    if d.empty:
        return None
    worry = d[d[S.STATUS].isin(_WORRY)].sort_values(S.P_MEET, kind="stable")
    if worry.empty:
        return t["tgt_ok"].format(n=len(d), y=year)
    items = []
    for r in worry.itertuples():
        name = (getattr(r, "indicator_zh", None) if lang == "zh" else None) or label(
            r.indicator, lang)
        short = (r.comparison == "at_least" and r.gap < 0) or (r.comparison == "at_most"
                                                               and r.gap > 0)
        if str(getattr(r, "note", "") or "").startswith(NEED_NOTE_HEAD):
            # a hiring need against the plan's number: below the plan is a surplus
            items.append(t["need_item"].format(
                name=name, m=_val(r.projected_mean, r.unit), lo=_val(r.projected_lo80, r.unit),
                hi=_val(r.projected_hi80, r.unit), t=f"{r.target:,.6g}",
                gap=t["need_over" if r.gap < 0 else "need_short"].format(
                    g=_val(abs(r.gap), r.unit)), status=label(r.status, lang),
                p=_pct(100 * r.p_meet)))
            continue
        items.append(t["tgt_item"].format(
            name=name, m=_val(r.projected_mean, r.unit), lo=_val(r.projected_lo80, r.unit),
            hi=_val(r.projected_hi80, r.unit), sign=_SIGN.get(r.comparison, ""),
            t=f"{r.target:,.6g}", gap=t["short" if short else "over"].format(
                g=_val(abs(r.gap), r.unit)), status=label(r.status, lang),
            p=_pct(100 * r.p_meet)))
    ok = int(d[S.STATUS].isin(("on_track", "target_above_need")).sum())
    return t["tgt"].format(y=year, ok=ok, n=len(d), items=t["sep"].join(items))


def _counties(t: dict, enrol: pd.DataFrame, cap: pd.DataFrame, city: str,
              names: Mapping[str, str], y0: int, y1: int, lang: str) -> str | None:
    lv = "primary"
    counties = [a for a in dict.fromkeys(enrol[S.AREA]) if a != city]
    ch = {}
    for a in counties:
        r0, r1 = _city_row(enrol, a, y0, level=lv), _city_row(enrol, a, y1, level=lv)
        if r0 is not None and r1 is not None and r0[S.MEAN] > 0:
            ch[a] = _change(r0, r1)
    if len(ch) < 2:
        return None
    lo_a = min(ch, key=lambda a: ch[a][0])
    hi_a = max(ch, key=lambda a: ch[a][0])

    def interval(a: str) -> str:
        _, lo, hi = ch[a]
        return "" if lo is None else t["county_i"].format(a=_signed_pct(lo), b=_signed_pct(hi))

    util = ""
    c = cap[(cap[S.AREA] != city) & (cap[S.YEAR] == y1) & (cap[S.LEVEL] == "compulsory")]
    c = c.dropna(subset=[S.UTILISATION])
    if len(c) >= 2:
        lo, hi = c.loc[c[S.UTILISATION].idxmin()], c.loc[c[S.UTILISATION].idxmax()]
        ulv = label("compulsory", lang)
        util = t["county_util"].format(
            level=ulv if lang == "zh" else ulv.split(" (")[0].lower(), y=y1,
            lo_u=_pct(lo[S.UTILISATION]), lo_a=names.get(lo[S.AREA], lo[S.AREA]),
            lo_lo=_pct(lo[f"{S.UTILISATION}_lo80"]), lo_hi=_pct(lo[f"{S.UTILISATION}_hi80"]),
            hi_u=_pct(hi[S.UTILISATION]), hi_a=names.get(hi[S.AREA], hi[S.AREA]),
            hi_lo=_pct(hi[f"{S.UTILISATION}_lo80"]), hi_hi=_pct(hi[f"{S.UTILISATION}_hi80"]))
    name = label(lv, lang)
    return t["county"].format(level=name if lang == "zh" else name.lower(), y0=y0, y1=y1,
                              lo_c=_signed_pct(ch[lo_a][0]), lo_a=names.get(lo_a, lo_a),
                              lo_i=interval(lo_a), hi_c=_signed_pct(ch[hi_a][0]),
                              hi_a=names.get(hi_a, hi_a), hi_i=interval(hi_a), util=util)


def key_messages(tables: Mapping[str, pd.DataFrame], summary: pd.DataFrame,
                 gaps_df: pd.DataFrame, city: str, names: Mapping[str, str],
                 lang: str = "en", jump_off: int | None = None) -> list[str]:
    """The report's key messages (3–5 sentences) in ``lang``, computed from the tables.

    Args:
        tables: ``Results.tables()`` (enrolment, capacity, teachers are used).
        summary: ``Results.projection_summary()`` (its ``teacher_demand`` rows: all levels).
        gaps_df: ``compare_to_targets`` output (target_year, status, p_meet, intervals).
        city: the region's code; names: area code → display name in ``lang``.
        lang: 'en' or 'zh'.
        jump_off: the jump-off year (default: the enrolment table's first year).

    Returns:
        Sentences, in this order when their inputs exist: enrolment change (primary, junior)
        from the jump-off to the comparison year; seats planned in the plan period and
        utilisation in the comparison year; teachers needed in the comparison year against the
        jump-off stock; plan targets needing action and by how much; the spread across counties.
    """
    t = _TEXT.get(lang, _TEXT["en"])
    enrol, cap, teach = tables.get("enrolment"), tables.get("capacity"), tables.get("teachers")
    years = enrol[S.YEAR] if enrol is not None and len(enrol) else summary[S.YEAR]
    y0 = int(jump_off if jump_off is not None else years.min())
    period, nxt = plan_periods(gaps_df, y0, int(years.max()))
    y = nxt[1]
    out = []
    if enrol is not None and len(enrol):
        out.append(_enrolment(t, enrol, city, y0, y, lang))
    if cap is not None and len(cap):
        out.append(_seats(t, cap, city, period, y, lang))
    if teach is not None and len(teach):
        out.append(_teachers(t, summary, teach, city, y0, y))
    out.append(_targets(t, gaps_df, city, period[1], lang))
    if enrol is not None and cap is not None and len(enrol):
        out.append(_counties(t, enrol, cap, city, names, y0, y, lang))
    return [m for m in out if m]
