"""Report labels in English and Chinese, and the font that draws Chinese.

Public names:
    LABELS, NAMES                 key → {"en": …, "zh": …} (report text; engine indicators and levels)
    VALUES, COLUMNS, UNITS_ZH, SHEETS   table cell values, column headings, units and workbook
                                  sheet names in Chinese
    label(key, lang)              the label for ``key`` in 'en' or 'zh' (the key when unknown)
    value_label(column, value, lang)   a table cell's display value
    column_label(column, lang)    a column heading ('en': the column name)
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
    "estimated_figure_note": {"en": "Rests partly on estimated inputs (quality 'estimated'); "
                                    "see the assumptions table.",
                              "zh": "部分输入为估计值（质量标记为“估计”），详见假设表。"},
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
    # the page's fixed text (report.html.j2; placeholders filled in report.py)
    "run_scenario": {"en": "scenario", "zh": "情景"},
    "run_draws": {"en": "{n} draws", "zh": "{n} 次抽样"},
    "run_seed": {"en": "seed {seed}", "zh": "随机种子 {seed}"},
    "run_config": {"en": "config", "zh": "配置文件"},
    "run_data": {"en": "data", "zh": "数据校验码"},
    "status_note": {"en": "status: on track if p_meet ≥ {on}, off track if p_meet < {off}, "
                          "otherwise at risk; p_meet = share of {draws} draws meeting the target "
                          "(rates held on a path have no draw-to-draw spread, so their p_meet is "
                          "0 or 1). A county without series of its own carries the city's "
                          "projected rate (“{basis}”): the target table says so once per target "
                          "and year (scope “{scope}”) instead of repeating the city's numbers as "
                          "if they were county findings.",
                    "zh": "状态：达标概率 p_meet ≥ {on} 为有望达成，p_meet < {off} 为难以达成，"
                          "其余为存在风险；p_meet = {draws} 次抽样中达到目标的比例（按固定路径"
                          "设定的比率在各次抽样间没有差异，其 p_meet 为 0 或 1）。没有自身数据"
                          "序列的区县沿用全市预测比率（“{basis}”）：目标表对每个目标和年份只"
                          "列一行（范围“{scope}”），而不把全市的数值当作各区县的结论重复列出。"},
    "interval_note": {"en": "The 80 % interval is the range of the middle 80 % of the draws "
                            "(10th to 90th percentile), the 95 % interval that of the middle "
                            "95 %: if the model's assumptions hold, the outcome falls inside "
                            "them about 4 times in 5 and 19 times in 20.",
                      "zh": "80% 区间为中间 80% 抽样结果的范围（第 10 至第 90 百分位数），95% "
                            "区间为中间 95% 抽样结果的范围：若模型假设成立，实际值约有五分之四"
                            "落在 80% 区间内、二十分之十九落在 95% 区间内。"},
    "others_note": {"en": "{year}, city. {n} further targets are {what} or qualitative: {names}.",
                    "zh": "{year}年，全市。另有 {n} 项目标{what}或为定性目标：{names}。"},
    "error_band_note": {"en": "Typical error of this method at 10 years: median absolute "
                              "percentage error of the population engine projecting the Sichuan "
                              "counties 2010 → 2020 from the 2010 census alone, by kind of county "
                              "(njforecast demography backtest; column typical_error_10y_pct of "
                              "population_school_age.csv). Areas projected from their own "
                              "2010-2020 history use a migration rule the bundled data cannot "
                              "back-test; the band is the back-tested method's.",
                        "zh": "本方法 10 年期的典型误差：人口模块仅依据 2010 年人口普查预测四川"
                              "各区县 2010 → 2020 年人口的绝对百分比误差中位数，按区县类型列出"
                              "（njforecast 人口回测；population_school_age.csv 的 "
                              "typical_error_10y_pct 列）。依据本地区 2010—2020 年历史预测的地区"
                              "采用的迁移规则无法用内置数据回测；此误差为经回测方法的误差。"},
    "ages": {"en": "ages {a}-{b}", "zh": "{a}–{b}岁"},
    "n_counties": {"en": "{n} counties ({codes})", "zh": "{n} 个区县（{codes}）"},
    "scenario_note": {"en": "{year}, city: projected mean (probability of meeting the plan "
                            "target) under each scenario.",
                      "zh": "{year}年，全市：各情景下的预测均值（括号内为达到规划目标的概率）。"},
    "scenario_details": {"en": "key indicators by area (all scenarios)",
                         "zh": "各地区主要指标（全部情景）"},
    "targets_details": {"en": "every target × area × year ({n} rows; also target_gaps.csv)",
                        "zh": "全部目标 × 地区 × 年份（{n} 行；另见 target_gaps.csv）"},
    "quality_note": {"en": "Quality flags of the projected frames (rows per area, item and "
                           "quality):",
                     "zh": "预测数据的质量标记（按地区、项目和质量标记统计的行数）："},
    "more_rows": {"en": "… {n} more rows in the CSV/Excel files.",
                  "zh": "… 另有 {n} 行，见 CSV/Excel 文件。"},
    "assumptions_title": {"en": "Assumptions", "zh": "假设"},
    "sources_title": {"en": "Data sources and quality", "zh": "数据来源与质量"},
    "no_assumptions": {"en": "no assumptions recorded", "zh": "未记录假设"},
    # headings of the city's target table on the page
    "th_target": {"en": "target", "zh": "目标"},
    "th_plan": {"en": "plan", "zh": "规划目标"},
    "th_mean": {"en": "projected mean", "zh": "预测均值"},
    "th_interval": {"en": "80 % interval", "zh": "80% 区间"},
    "th_gap": {"en": "gap", "zh": "差距"},
    "th_p_meet": {"en": "p_meet", "zh": "达标概率"},
    "th_status": {"en": "status", "zh": "状态"},
    "th_quality": {"en": "quality", "zh": "质量标记"},
}
#: Values shown in report tables: "<column>:<value>" → label (quality flags, kinds of county,
#: a target row's basis and comparison). The CSV files keep the English values.
VALUES: dict[str, dict[str, str]] = {
    "quality:observed": {"en": "observed", "zh": "观测"},
    "quality:derived": {"en": "derived", "zh": "推算"},
    "quality:estimated": {"en": "estimated", "zh": "估计"},
    "county_kind:urban district": {"en": "urban district", "zh": "市辖区"},
    "county_kind:county": {"en": "county", "zh": "县"},
    "county_kind:county-level city": {"en": "county-level city", "zh": "县级市"},
    "county_kind:high in-migration": {"en": "high in-migration", "zh": "人口净流入较多"},
    "county_kind:high out-migration": {"en": "high out-migration", "zh": "人口净流出较多"},
    "county_kind:all counties": {"en": "all counties", "zh": "全部区县"},
    "basis:projected": {"en": "projected", "zh": "本地区预测"},
    "basis:county projection": {"en": "county projection", "zh": "区县预测"},
    "basis:city rate applied; no county data": {"en": "city rate applied; no county data",
                                                "zh": "沿用全市比率（无区县数据）"},
    "scope:city assumption applied to counties": {"en": "city assumption applied to counties",
                                                  "zh": "各区县沿用全市假设"},
    "comparison:at_least": {"en": "at_least", "zh": "不低于"},
    "comparison:at_most": {"en": "at_most", "zh": "不高于"},
    "comparison:about": {"en": "about", "zh": "约为"},
    "unit:percent": {"en": "percent", "zh": "%"},
    "unit:persons": {"en": "persons", "zh": "人"},
    "unit:count": {"en": "count", "zh": "个"},
    "unit:text": {"en": "text", "zh": "文字"},
    "unit:years": {"en": "years", "zh": "年"},
    "unit:students_per_class": {"en": "students_per_class", "zh": "人/班"},
    "unit:persons_per_year": {"en": "persons_per_year", "zh": "人/年"},
}
#: Column headings of report tables and workbook sheets ("<column>" → label; the English label
#: is the column name itself, so English tables keep their machine names).
COLUMNS: dict[str, str] = {
    "area": "地区", "year": "年份", "level": "学段", "seats": "学位数", "enrolment": "在校生",
    "utilisation": "学位使用率", "p_over": "超额概率", "status": "状态", "quality": "质量标记",
    "mean": "均值", "indicator": "指标", "indicator_zh": "指标中文名", "unit": "单位",
    "age": "年龄", "sex": "性别", "county_kind": "区县类型", "population": "人口",
    "typical_error_10y_pct": "十年期典型误差（%）", "item": "项目", "rows": "行数",
    "target_year": "目标年份", "target": "规划目标", "comparison": "比较方式",
    "projected_mean": "预测均值", "projected": "预测", "gap": "差距", "p_meet": "达标概率",
    "n_draws": "抽样次数", "scope": "范围", "basis": "依据", "note": "说明", "actual": "实际值",
    "met": "达标", "in_80": "在80%区间内", "in_95": "在95%区间内", "ratio": "生师比",
    "demand": "教师需求", "supply": "教师供给", "hires_needed": "需补充教师",
    "hires": "补充教师", "surplus": "富余教师", "method": "方法", "name": "名称",
    "value": "取值", "file": "文件", "origin": "来源", "licence": "许可", "checked": "核对日期",
    "scenario": "情景", "diff_vs_baseline": "与基准情景之差", "draw": "抽样序号",
}
#: Chinese names of workbook sheets (the machine name follows in brackets).
SHEETS: dict[str, str] = {
    "target_gaps": "规划目标对照", "indicators": "指标", "population_school_age": "学龄人口",
    "enrolment": "在校生", "teachers": "教师", "capacity": "学位", "quality_flags": "质量标记",
    "scenario_comparison": "情景对比", "scenario_targets": "各情景规划目标",
    "assumptions_sources": "假设与来源",
}
#: Units of workbook headers ("persons" → "人").
UNITS_ZH: dict[str, str] = {
    "persons": "人", "places": "学位", "%": "%", "teachers": "名教师",
    "pupils per teacher": "生/师", "probability 0–1": "概率0–1",
    "see unit column": "单位见unit列", "target's unit": "同目标单位",
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
    "enrolment_level": {"en": "{level} enrolment (persons)", "zh": "{level}在校生（人）"},
    "hires_needed": {"en": "Teachers to hire (persons)", "zh": "需补充教师（人）"},
    "teacher_demand": {"en": "Teacher demand (persons)", "zh": "教师需求（人）"},
    "teachers_added": {"en": "Teachers added in the {n} years to each year (persons)",
                       "zh": "截至当年的{n}年补充教师（人）"},
}


def value_label(column: str, value, lang: str = "en"):
    """A table cell's display value: ``VALUES["column:value"]`` in ``lang`` (status values take
    :data:`LABELS`); other values unchanged."""
    if not isinstance(value, str):
        return value
    if column in ("status", "item"):  # item: an indicator or level of the quality table
        return label(value, lang)
    entry = VALUES.get(f"{column}:{value}")
    return entry.get(lang, entry["en"]) if entry else value


_BAND = re.compile(r"(.+)_(lo|hi)(80|95)")


def column_label(column: str, lang: str = "en") -> str:
    """A column heading in ``lang``: the column name in English; in Chinese its
    :data:`COLUMNS` name (``x_lo80`` → "x 80% 区间下限"), else the column name."""
    column = str(column)
    if lang != "zh":
        return column
    if column in COLUMNS:
        return COLUMNS[column]
    m = _BAND.fullmatch(column) or re.fullmatch(r"()(lo|hi)(80|95)", column)
    if m and (not m[1] or m[1] in COLUMNS):
        base = COLUMNS[m[1]] if m[1] else ""
        return f"{base}{m[3]}%区间{'下限' if m[2] == 'lo' else '上限'}"
    return column


def label(key: str, lang: str = "en") -> str:
    """The label for ``key`` in ``lang`` ('en' or 'zh'); the key itself when unknown.
    ``teachers_added_<first>_<last>`` (a plan period's hiring) is labelled with its length,
    ``enrolment_<level>`` with the level's name."""
    if key.startswith("enrolment_") and key[len("enrolment_"):] in NAMES:
        entry = NAMES["enrolment_level"]
        return entry.get(lang, entry["en"]).format(level=label(key[len("enrolment_"):], lang))
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
