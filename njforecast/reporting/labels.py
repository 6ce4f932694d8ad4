"""Report labels in English and Chinese, and the font that draws Chinese.

Public names:
    LABELS, NAMES                 key → {"en": …, "zh": …} (report text; engine indicators and levels)
    label(key, lang)              the label for ``key`` in 'en' or 'zh' (the key when unknown)
    cjk_font()                    a font family that draws Chinese, or None
    bundled_cjk_font_path()       the shipped Noto Sans SC file (None when not installed)
    resolve_lang(lang)            (language for figures, message): 'zh' without a CJK font → 'en'

``cjk_font`` uses the Noto Sans SC font installed with the package (``pylopdf-fonts-zh-cn``,
SIL OFL 1.1), else matplotlib's fonts and, if the cache predates a font install, the fonts
``fc-list :lang=zh`` reports. Without one, figures fall back to English labels (never empty
boxes) and the report says so; the HTML text stays Chinese because the browser chooses its own
fonts.
"""

from __future__ import annotations

import re
import shutil
import subprocess


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
    "county_enrolment_change": {"en": "Enrolment change {start}–{end} (%)",
                                "zh": "{start}—{end}年在校生变化（%）"},
    "county_utilisation": {"en": "Compulsory seat utilisation {end} (%)",
                           "zh": "{end}年义务教育学位使用率（%）"},
    "county_title": {"en": "What differs by county", "zh": "各区县差异"},
    "key_messages": {"en": "Key messages", "zh": "要点"},
    "city_copy_note": {"en": "No county panels for {inds}: the data have no county series, so "
                             "every county's value is the city's projected rate (identical "
                             "panels).",
                       "zh": "{inds}无区县数据，各区县取全市预测比率（各区县相同），故不分区县作图。"},
    "city_rate_applied": {"en": " (city rate applied to every county; no county data)",
                          "zh": "（各区县沿用全市比率，无区县数据）"},
    "period_sum_axis": {"en": "Sum over the {n} years ending in each year",
                        "zh": "截至当年的{n}年累计"},
    "estimated_figure_note": {"en": "Partly estimated: county education counts are not "
                                    "public; see the assumptions table.",
                              "zh": "部分为估计值：区县教育统计未公开，详见假设表。"},
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
    "city_assumption": {"en": "city's value applied to counties", "zh": "各区县沿用全市假设"},
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
    "teachers_added": {"en": "Teachers added in the {n} years to each year (persons)",
                       "zh": "截至当年的{n}年补充教师（人）"},
}


def label(key: str, lang: str = "en") -> str:
    """The label for ``key`` in ``lang`` ('en' or 'zh'); the key itself when unknown.
    ``teachers_added_<first>_<last>`` (a plan period's hiring) is labelled with its length."""
    m = re.fullmatch(r"teachers_added_(\d{4})_(\d{4})", key)
    if m:
        entry = NAMES["teachers_added"]
        return entry.get(lang, entry["en"]).format(n=int(m[2]) - int(m[1]) + 1)
    entry = LABELS.get(key) or NAMES.get(key)
    return entry.get(lang, entry["en"]) if entry else key


_CJK_HINTS = ("CJK", "WenQuanYi", "SimHei", "SimSun", "Source Han", "YaHei", "PingFang",
              "Heiti", "Noto Sans SC", "AR PL", "Droid Sans Fallback")


def bundled_cjk_font_path():
    """Path of the Chinese font shipped as a dependency, or None when it is not installed.

    The font is Noto Sans SC Regular (SIL Open Font License 1.1; Google/Adobe's Noto CJK,
    ``Sans/SubsetOTF/SC``), installed from PyPI as ``pylopdf-fonts-zh-cn`` — a data-only
    package of the unchanged font file, so Chinese figure labels draw on a machine without
    system CJK fonts.
    """
    try:
        import pylopdf_fonts_zh_cn
    except ImportError:
        return None
    path = pylopdf_fonts_zh_cn.sans_path()
    return path if path.is_file() else None


def _register(path) -> str | None:
    """Add a font file to matplotlib's font manager (once) and return its family name."""
    from matplotlib import font_manager as fm

    path = str(path)
    for f in fm.fontManager.ttflist:
        if f.fname == path:
            return f.name
    try:
        fm.fontManager.addfont(path)
    except (OSError, RuntimeError, ValueError):
        return None
    return next((f.name for f in fm.fontManager.ttflist if f.fname == path), None)


def cjk_font() -> str | None:
    """A font family that draws Chinese, or None (message in ``resolve_lang``).

    The bundled Noto Sans SC (:func:`bundled_cjk_font_path`) first, so figures look the same on
    every machine; else a sans-serif CJK family among matplotlib's fonts, asking
    ``fc-list :lang=zh`` for font files when matplotlib's cache has none.
    """
    from matplotlib import font_manager as fm

    bundled = bundled_cjk_font_path()
    if bundled is not None:
        name = _register(bundled)
        if name:
            return name

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
            _register(path)
    return _pick()


def resolve_lang(lang: str) -> tuple[str, str]:
    """(language for figures, message). 'zh' without a CJK font falls back to 'en'."""
    if lang not in ("en", "zh"):
        raise ValueError(f"--lang must be 'en' or 'zh', got {lang!r}")
    if lang == "en":
        return "en", ""
    font = cjk_font()
    if font is None:
        return "en", ("no CJK font found (checked the bundled font package, matplotlib's fonts "
                      "and `fc-list :lang=zh`): figure labels fall back to English; install "
                      "one, e.g. `pip install pylopdf-fonts-zh-cn` (a dependency of njforecast) "
                      "or `apt-get install fonts-noto-cjk`, for Chinese figure labels")
    return "zh", f"Chinese figure labels drawn with the font '{font}'"
