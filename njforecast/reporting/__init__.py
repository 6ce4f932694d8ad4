"""Figures, tables, Excel and a self-contained HTML report, in English or Chinese.

Modules (their public names are re-exported here):
    labels   LABELS, NAMES, label(key, lang), cjk_font(), resolve_lang(lang)
    figures  fan_chart, county_multiples, county_change_chart, capacity_chart, teachers_chart,
             save_figure_bytes
    messages key_messages(tables, summary, gaps_df, ...) (the report's first sentences),
             plan_periods(gaps_df, jump_off, horizon)
    render   figure_jobs, start_rendering (figures drawn in worker processes)
    writers  save_figure, write_excel, run_info, write_run_info, COLUMN_UNITS, TABLE_UNITS
    report   write_report(results, gaps_df, out_dir, ...), write_html(path, context) (Jinja2
             templates in templates/), summary_table(gaps_df, year)
    outputs  build_outputs(cfg, lang, scenario, compare, ...) (one run's outputs, end to end),
             comparison_years(cfg, targets), summary_years(cfg, targets)

Every file is written atomically (temporary file + rename).
"""

from .figures import (
    capacity_chart,
    county_change_chart,
    county_multiples,
    fan_chart,
    save_figure_bytes,
    teachers_chart,
)
from .labels import LABELS, NAMES, cjk_font, label, resolve_lang
from .messages import key_messages, plan_periods
from .outputs import build_outputs, comparison_years
from .report import summary_table, write_html, write_report
from .writers import COLUMN_UNITS, TABLE_UNITS, run_info, save_figure, write_excel, write_run_info

__all__ = [
    "LABELS", "NAMES", "cjk_font", "label", "resolve_lang",
    "capacity_chart", "county_change_chart", "county_multiples", "fan_chart",
    "save_figure_bytes", "teachers_chart",
    "COLUMN_UNITS", "TABLE_UNITS", "run_info", "save_figure", "write_excel", "write_run_info",
    "summary_table", "write_html", "write_report",
    "build_outputs", "comparison_years", "key_messages", "plan_periods",
]
