"""The page's words in English and Chinese: the report's labels plus the page's own.

Public names:
    PAGE_TEXT            key → {"en": …, "zh": …} for the page's controls and messages
    LEVER_NAMES          scenario field → {"en": …, "zh": …} (the levers' names)
    PRESET_NAMES         preset name → {"en": …, "zh": …}
    ui_text(keys)        {"en": {key: text}, "zh": {key: text}} for the page (report labels from
                         :mod:`njforecast.reporting.labels`, then the page's own)

Report words (chart titles, statuses, level and indicator names) come from
:func:`njforecast.reporting.labels.label` so the page and the report say the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..reporting.labels import LABELS, NAMES, label

PAGE_TEXT: dict[str, dict[str, str]] = {
    "page_title": {"en": "Neijiang education scenarios", "zh": "内江市教育发展情景分析"},
    "subtitle": {"en": "Move a lever: the projection, its uncertainty and the chance of meeting "
                       "each plan target are recomputed on the spot.",
                 "zh": "调整参数，即时重新计算预测值、不确定区间及各规划目标的达标概率。"},
    "preset": {"en": "Scenario preset", "zh": "预设情景"},
    "area": {"en": "Area", "zh": "地区"},
    "levers": {"en": "Levers", "zh": "参数"},
    "language": {"en": "中文", "zh": "English"},
    "reset": {"en": "Reset to preset", "zh": "恢复预设"},
    "as_config": {"en": "as in config", "zh": "按配置"},
    "enrolment_title": {"en": "Enrolment by level (persons)", "zh": "分学段在校生（人）"},
    "fan_title": {"en": "Plan-target indicators", "zh": "规划目标指标"},
    "seat_level": {"en": "Seat level", "zh": "学段"},
    "table_title": {"en": "Plan targets", "zh": "规划目标"},
    "col_indicator": {"en": "Target", "zh": "目标"},
    "col_year": {"en": "Year", "zh": "年份"},
    "col_target": {"en": "Plan", "zh": "规划值"},
    "col_projected": {"en": "Projected mean", "zh": "预测均值"},
    "col_interval": {"en": "80 % interval", "zh": "80% 区间"},
    "col_gap": {"en": "Gap", "zh": "差距"},
    "col_p_meet": {"en": "P(meet)", "zh": "达标概率"},
    "col_status": {"en": "Status", "zh": "状态"},
    "col_name": {"en": "Assumption", "zh": "假设"},
    "col_value": {"en": "Value", "zh": "取值"},
    "col_quality": {"en": "Quality", "zh": "质量"},
    "col_note": {"en": "Note", "zh": "说明"},
    "downloads": {"en": "Download", "zh": "下载"},
    "download_excel": {"en": "All tables (Excel)", "zh": "全部表格（Excel）"},
    "save": {"en": "Save scenario (MLflow run)", "zh": "保存情景（MLflow 运行记录）"},
    "saving": {"en": "Saving…", "zh": "保存中…"},
    "saved": {"en": "Saved as MLflow run", "zh": "已保存为 MLflow 运行"},
    "mlflow_hint": {"en": "open it with: mlflow ui --backend-store-uri",
                    "zh": "查看方式：mlflow ui --backend-store-uri"},
    "computing": {"en": "Computing…", "zh": "计算中…"},
    "answered": {"en": "answered in", "zh": "用时"},
    "cached": {"en": "from cache", "zh": "来自缓存"},
    "draws_note": {"en": "draws", "zh": "次抽样"},
    "error": {"en": "Could not answer", "zh": "无法计算"},
    "fix_levers": {"en": "Fix the marked lever; the charts show the last valid scenario.",
                   "zh": "请修正标记的参数；图表显示上一个有效情景。"},
    "county_note": {"en": "No county education series: county rates follow the city's rate "
                          "(see the basis column of the downloads).",
                    "zh": "无区县教育数据：区县比率沿用全市比率（见下载表格的 basis 列）。"},
    "estimated_inputs": {"en": "Rests partly on estimated inputs: where no county series is "
                               "given, the engine uses the named assumptions below (quality "
                               "'estimated'); your own series replace them.",
                         "zh": "部分输入为估计值：缺少区县数据之处，模型使用下方列出的假设"
                               "（质量标记为“估计”）；上传本地数据可替换这些估计。"},
    "hires": {"en": "Hires", "zh": "补充教师"},
    "none": {"en": "—", "zh": "—"},
    "estimated": {"en": "estimated", "zh": "估计"},
    "observed_q": {"en": "observed", "zh": "实际"},
    "derived": {"en": "derived", "zh": "推算"},
    "city_target": {"en": "Plan target (city)", "zh": "规划目标（全市）"},
}

LEVER_NAMES: dict[str, dict[str, str]] = {
    "fertility_multiplier": {"en": "Fertility (× baseline)", "zh": "生育水平（相对基准倍数）"},
    "migration_multiplier": {"en": "Net migration (× baseline)", "zh": "净迁移（相对基准倍数）"},
    "reach_targets_by": {"en": "Rates reach plan targets by (year)",
                         "zh": "入学率达到规划目标的年份"},
    "staffing_standard": {"en": "Staffing standard", "zh": "教师编制标准"},
    "class_size_cap_primary": {"en": "Primary class-size cap (pupils)",
                               "zh": "小学班额上限（人）"},
    "class_size_cap_junior": {"en": "Junior class-size cap (pupils)", "zh": "初中班额上限（人）"},
    "attrition": {"en": "Teacher attrition (share a year)", "zh": "教师年流失率（比例）"},
    "hires_per_year": {"en": "Teachers hired a year (blank: to need)",
                       "zh": "每年补充教师数（空白：按需补充）"},
    "end_year": {"en": "Last projected year", "zh": "预测截止年份"},
    "draws": {"en": "Monte Carlo draws", "zh": "蒙特卡洛抽样次数"},
    "seed": {"en": "Random seed", "zh": "随机种子"},
    # choices of staffing_standard
    "config": {"en": "as in the config", "zh": "按配置"},
    "unified_2014": {"en": "2014 unified standard", "zh": "2014年统一编制标准"},
    "area_ratio": {"en": "each area's own ratio", "zh": "各地区现有师生比"},
}

PRESET_NAMES: dict[str, dict[str, str]] = {
    "baseline": {"en": "Baseline", "zh": "基准情景"},
    "low_fertility": {"en": "Low fertility (−20 %)", "zh": "低生育（−20%）"},
    "high_fertility": {"en": "High fertility (+20 %)", "zh": "高生育（+20%）"},
    "high_out_migration": {"en": "High out-migration (×1.5)", "zh": "高净迁出（×1.5）"},
    "status_quo_rates": {"en": "Rates held (status quo)", "zh": "入学率保持现状"},
    "national_staffing": {"en": "National staffing standard", "zh": "国家编制标准"},
}


def _preset_text(name: str, lang: str) -> str:
    """A preset's display name (plan-derived presets carry their year or caps in the name)."""
    if name in PRESET_NAMES:
        return PRESET_NAMES[name][lang]
    parts = name.split("_")
    if name.startswith("plan_targets_"):
        return {"en": f"Plan targets reached by {parts[-1]}",
                "zh": f"{parts[-1]}年达到规划目标"}[lang]
    if name.startswith("class_caps_") and len(parts) == 4:
        return {"en": f"Class caps {parts[2]}/{parts[3]}",
                "zh": f"班额上限 {parts[2]}/{parts[3]}"}[lang]
    return name


def ui_text(keys: Iterable[str] = (), presets: Iterable[str] = ()) -> dict[str, dict[str, str]]:
    """Every word the page shows, per language.

    Args:
        keys: extra report keys to label (target ids, levels), via ``reporting.labels.label``.
        presets: preset names to name (``preset.<name>`` keys).

    Returns:
        {"en": {key: text}, "zh": {key: text}}: the report's LABELS and NAMES, the ``keys``,
        the page's own words (``PAGE_TEXT``), ``lever.<field>`` and ``preset.<name>``.
    """
    out: dict[str, dict[str, str]] = {}
    for lang in ("en", "zh"):
        words = {k: label(k, lang) for k in (*LABELS, *NAMES, *keys)}
        words.update({k: v[lang] for k, v in PAGE_TEXT.items()})
        words.update({f"lever.{k}": v[lang] for k, v in LEVER_NAMES.items()})
        words.update({f"preset.{n}": _preset_text(n, lang) for n in presets})
        out[lang] = words
    return out
