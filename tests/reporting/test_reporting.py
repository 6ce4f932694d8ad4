"""Tests for njforecast.reporting on SYNTHETIC frames (random draws, not projections of Neijiang).

The frames follow DESIGN §4; the region definition is the real one (codes and names only).
"""

import base64
import re

import numpy as np
import openpyxl
import pandas as pd
import pytest

from njforecast.planning import targets as pt
from njforecast import reporting as rp
from njforecast.reporting import labels
from njforecast import schema as S
from njforecast.areas import load_region
from njforecast.config import RunConfig
from njforecast.io.plan import load_plan_targets
from reference import Results, quality_table, sources_table  # frame Results (tests/reference.py)

YEARS = list(range(2020, 2036))
DRAWS = 20


def synthetic_results(seed: int = 0) -> Results:
    """A small Results object of SYNTHETIC draws (labelled; shapes as the engine's)."""
    rng = np.random.default_rng(seed)
    region = load_region("neijiang")
    areas = [a.code for a in region.counties]
    rows, pop, enr, tch, cap = [], [], [], [], []
    for a in areas:
        for d in range(DRAWS):
            for i, y in enumerate(YEARS):
                rows.append((a, y, "preschool_ger_3y", 88 + 0.4 * i + rng.normal(0, 1), d))
                rows.append((a, y, "senior_stage_ger", 93 + 0.1 * i + rng.normal(0, 1), d))
                for age in range(0, 23):
                    pop.append((a, y, "female", age, 1000.0 - 10 * i + rng.normal(0, 5), d))
                for lv in ("primary", "junior"):
                    e = 20000.0 - 300 * i + rng.normal(0, 200)
                    enr.append((a, y, lv, e, d, "estimated"))
                    dem = e / 17
                    tch.append((a, y, lv, e, 17.0, dem, 1100.0 - 10 * i, max(0, dem - 1000),
                                1100.0 - 10 * i - dem, d))
                    cap.append((a, y, lv, 21000.0, e, e / 21000.0, d))
    ind = pd.DataFrame(rows, columns=[S.AREA, S.YEAR, S.INDICATOR, S.VALUE, S.DRAW])
    ind[S.UNIT], ind[S.QUALITY] = "percent", "estimated"
    city = ind.groupby([S.YEAR, S.INDICATOR, S.DRAW, S.UNIT, S.QUALITY], as_index=False)[
        S.VALUE].mean().assign(**{S.AREA: region.code})
    ind = pd.concat([city, ind], ignore_index=True)
    teachers = pd.DataFrame(tch, columns=[S.AREA, S.YEAR, S.LEVEL, S.ENROLMENT, S.RATIO,
                                          S.DEMAND, S.SUPPLY, S.HIRES_NEEDED, S.SURPLUS, S.DRAW])
    city_t = teachers.groupby([S.YEAR, S.LEVEL, S.DRAW], as_index=False).sum(numeric_only=True)
    teachers = pd.concat([teachers, city_t.assign(**{S.AREA: region.code})], ignore_index=True)
    enrol = pd.DataFrame(enr, columns=[S.AREA, S.YEAR, S.LEVEL, S.ENROLMENT, S.DRAW, S.QUALITY])
    return Results(
        config=RunConfig(draws=DRAWS, seed=seed), region=region, data_hash="0" * 64,
        scenario="baseline",
        population=pd.DataFrame(pop, columns=[S.AREA, S.YEAR, S.SEX, S.AGE, S.POPULATION, S.DRAW]),
        enrolment=enrol, indicators=ind, teachers=teachers,
        capacity=pd.DataFrame(cap, columns=[S.AREA, S.YEAR, S.LEVEL, S.SEATS, S.ENROLMENT,
                                            S.UTILISATION, S.DRAW]),
        target_series=ind[[S.AREA, S.YEAR, S.INDICATOR, S.VALUE, S.DRAW, S.QUALITY]],
        observations=pd.DataFrame({S.AREA: ["511000"], S.YEAR: [2020],
                                   S.INDICATOR: ["preschool_ger_3y"], S.VALUE: [88.86]}),
        assumptions=pd.DataFrame({"name": ["synthetic"], S.VALUE: ["yes"],
                                  S.QUALITY: ["estimated"], "note": ["test data"]}),
        sources=sources_table(), quality=quality_table(ind, enrol))


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The report of the synthetic results, written once for the module."""
    res = synthetic_results()
    gaps = pt.compare_to_targets(res.target_series, load_plan_targets(), years=[2025, 2035])
    out = tmp_path_factory.mktemp("report")
    paths = rp.write_report(res, gaps, out, lang="en")
    return res, gaps, out, paths


def test_report_files_exist(report):
    """target_gaps.csv, report.html, report.xlsx and PNG+SVG figures are all written."""
    _, _, out, paths = report
    for name in ("target_gaps.csv", "report.html", "report.xlsx", "indicators.csv",
                 "teachers.csv", "capacity.csv"):
        assert (out / name).is_file(), name
    pngs = sorted((out / "figures").glob("*.png"))
    svgs = sorted((out / "figures").glob("*.svg"))
    assert len(pngs) >= 4 and [p.stem for p in pngs] == [p.stem for p in svgs]
    assert pngs[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(out.rglob("*.tmp"))  # atomic writes leave no temporaries


def test_html_is_self_contained_with_every_figure(report):
    """Every PNG figure is embedded as base64 and the page loads nothing from elsewhere."""
    _, _, out, _ = report
    page = (out / "report.html").read_text(encoding="utf-8")
    imgs = re.findall(r"src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"", page)
    assert len(imgs) == len(list((out / "figures").glob("*.png")))
    assert base64.b64decode(imgs[0])[:4] == b"\x89PNG"
    assert not re.search(r"(src|href)=['\"]https?:", page)
    assert "p_meet" in page and "not projectable from available data" in page
    assert "Data sources and quality flags" in page and "leiii/census" in page


def test_excel_sheets_and_units(report):
    """The workbook has one sheet per table plus assumptions_sources, with units in headers."""
    _, _, out, _ = report
    wb = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    assert {"target_gaps", "indicators", "teachers", "capacity", "enrolment",
            "assumptions_sources"} <= set(wb.sheetnames)
    header = [c.value for c in next(wb["enrolment"].iter_rows(max_row=1))]
    assert "mean [persons]" in header and "lo80 [persons]" in header
    header = [c.value for c in next(wb["teachers"].iter_rows(max_row=1))]
    assert "demand [teachers]" in header and "ratio [pupils per teacher]" in header
    header = [c.value for c in next(wb["target_gaps"].iter_rows(max_row=1))]
    assert "p_meet [probability 0–1]" in header
    cells = [c.value for row in wb["assumptions_sources"].iter_rows() for c in row]
    assert "Assumptions" in cells and "synthetic" in cells


def test_target_gaps_csv_has_required_columns(report):
    """target_gaps.csv has the issue's columns and p_meet within [0, 1]."""
    _, _, out, _ = report
    df = pd.read_csv(out / "target_gaps.csv", dtype={S.AREA: str})
    need = ["area", "indicator", "target_year", "target", "comparison", "projected_mean",
            "projected_lo80", "projected_hi80", "gap", "p_meet", "status"]
    assert all(c in df.columns for c in need)
    p = df["p_meet"].dropna()
    assert len(p) and p.between(0, 1).all()


def test_fan_chart_draws_bands_target_and_observed():
    """A fan chart has two bands (80, 95), the mean line, a target line at 92.09 and a point."""
    res = synthetic_results()
    fig = rp.fan_chart(res.target_summary(), "preschool_ger_3y", "511000", "en", 92.09, 2025,
                       res.observed_targets())
    ax = fig.axes[0]
    assert len(ax.collections) >= 3  # two fill_between bands + the observed scatter
    ys = [line.get_ydata()[0] for line in ax.get_lines()]
    assert 92.09 in ys
    rp.save_figure_bytes(fig)


def test_svg_is_deterministic():
    """The same figure twice gives byte-identical SVG (fixed hash salt, no date)."""
    res = synthetic_results()
    ts = res.target_summary()
    a = rp.save_figure_bytes(rp.fan_chart(ts, "senior_stage_ger", "511000"))["svg"]
    b = rp.save_figure_bytes(rp.fan_chart(ts, "senior_stage_ger", "511000"))["svg"]
    assert a == b


def test_chinese_labels_and_font_fallback(monkeypatch, tmp_path):
    """zh without a CJK font falls back to English figure labels and the report says so."""
    monkeypatch.setattr(labels, "cjk_font", lambda: None)
    lang, msg = rp.resolve_lang("zh")
    assert lang == "en" and "no CJK font" in msg and "pylopdf-fonts-zh-cn" in msg
    res = synthetic_results()
    gaps = pt.compare_to_targets(res.target_series, load_plan_targets())
    rp.write_report(res, gaps, tmp_path, lang="zh", fan_indicators=["senior_stage_ger"])
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "内江市教育发展预测与规划目标对照" in page and "no CJK font" in page
    assert 'lang="zh-CN"' in page


def test_bad_lang_is_rejected():
    """An unknown --lang value is an error naming the allowed ones."""
    with pytest.raises(ValueError, match="'en' or 'zh'"):
        rp.resolve_lang("fr")


def test_excel_failure_leaves_no_file(tmp_path):
    """A sheet name over Excel's 31-character limit fails without leaving a file behind."""
    with pytest.raises(ValueError, match="31"):
        rp.write_excel({"x" * 32: pd.DataFrame({"a": [1]})}, tmp_path / "r.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_run_info_json_records_provenance(report, tmp_path):
    """run_info.json is written with the outputs and records version, data hash, the config
    file's text, seed, draws and a UTC time; a config path's text is read back verbatim."""
    import dataclasses
    import datetime as dt
    import json

    from njforecast import __version__

    res, _, out, paths = report
    info = json.loads((out / "run_info.json").read_text(encoding="utf-8"))
    assert paths["run_info.json"] == out / "run_info.json"
    assert info["data_hash"] == "0" * 64 and info["package_version"] == __version__
    assert info["seed"] == res.config.seed and info["draws"] == DRAWS
    assert info["config_path"] is None and info["config"]["draws"] == DRAWS
    assert info["git_commit"] is None or len(info["git_commit"]) == 40
    assert dt.datetime.fromisoformat(info["created_utc"]).utcoffset() == dt.timedelta(0)
    toml = tmp_path / "c.toml"
    toml.write_text('name = "x"\ndraws = 3\n', encoding="utf-8")
    res2 = dataclasses.replace(res, config=RunConfig(name="x", draws=3, path=str(toml)))
    p = rp.write_run_info(res2, tmp_path / "o" / "run_info.json")
    got = json.loads(p.read_text(encoding="utf-8"))
    assert got["config_text"] == 'name = "x"\ndraws = 3\n' and got["config_path"] == str(toml)
    assert not list((tmp_path / "o").glob("*.tmp"))


#: English words of the en page's fixed text and table headings (none may remain in zh)
EN_WORDS = ("draws", "seed", "config", "on track", "off track", "at risk", "share of",
            "Typical error", "further targets", "qualitative", "projected mean",
            "80 % interval", "urban district", "out-migration", "all counties", "estimated",
            "<td>observed</td>", "every target ×", "key indicators", "more rows", "Quality flags",
            "county_kind", "target_year", "p_meet</th>", "<th>area", "<th>quality",
            "<th>status", "<th>plan", "<th>target", "<th>gap", "<th>name", "<th>value",
            "<th>note", "ages 5-9")


@pytest.fixture(scope="module")
def report_zh(tmp_path_factory):
    """The zh report of the synthetic results (one fan chart, figures drawn in process)."""
    res = synthetic_results()
    res.population["county_kind"] = "urban district"
    gaps = pt.compare_to_targets(res.target_series, load_plan_targets(), years=[2025, 2035])
    out = tmp_path_factory.mktemp("report_zh")
    rp.write_report(res, gaps, out, lang="zh", fan_indicators=["senior_stage_ger"],
                    figure_workers=0)
    return out


def test_zh_page_has_no_english_fixed_text(report_zh):
    """The zh page's run line, notes, table headings and status/quality values are Chinese."""
    page = (report_zh / "report.html").read_text(encoding="utf-8")
    page = re.sub(r"<style>.*?</style>|base64,[A-Za-z0-9+/=]+", "", page, flags=re.S)
    visible = re.sub(r"<[^>]+>", " ", page)
    left = [w for w in EN_WORDS if w in (page if w.startswith("<") else visible)]
    assert left == []
    for zh in ("20 次抽样", "随机种子 0", "<th>规划目标</th>", "<th>预测均值</th>",
               "80% 区间为中间 80%", "<th>达标概率</th>", "估计", "学前教育三年毛入园率"):
        assert zh in page, zh


def test_zh_target_table_uses_chinese_indicator_names(report_zh):
    """The full target table shows the plan's Chinese name, not the indicator id."""
    page = (report_zh / "report.html").read_text(encoding="utf-8")
    assert "<td>preschool_ger_3y</td>" not in page and "<td>学前教育三年毛入园率</td>" in page


def test_every_label_has_en_and_zh():
    """Every label, value and unit has an English and a Chinese text."""
    for table in (labels.LABELS, labels.NAMES, labels.VALUES):
        for key, entry in table.items():
            assert entry.get("en") and entry.get("zh"), key
    assert labels.column_label("projected_lo80", "zh") == "预测80%区间下限"
    assert labels.column_label("projected_lo80", "en") == "projected_lo80"
    assert labels.value_label("quality", "derived", "zh") == "推算"
    assert labels.value_label("county_kind", "urban district", "zh") == "市辖区"


def _header_row(ws) -> list:
    return [c.value for c in next(ws.iter_rows(max_row=1))]


def test_zh_workbook_has_chinese_sheets_and_headers(report_zh):
    """zh sheet names and headings are Chinese with the machine name kept; status and quality
    values of the target sheet are Chinese; the CSV keeps the English ids."""
    wb = openpyxl.load_workbook(report_zh / "report.xlsx", read_only=True)
    assert "规划目标对照（target_gaps）" in wb.sheetnames
    assert "假设与来源（assumptions_sources）" in wb.sheetnames
    assert all(len(n) <= 31 for n in wb.sheetnames)
    assert len(set(wb.sheetnames)) == len(wb.sheetnames)
    ws = wb["规划目标对照（target_gaps）"]
    header = _header_row(ws)
    assert "规划目标（target） [单位见unit列]" in header and "达标概率（p_meet） [概率0–1]" in header
    for h in header:
        assert re.search(r"[\u4e00-\u9fff]", h) and re.search(r"（[a-z0-9_]+）", h), h
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    status = {r[header.index("状态（status）")] for r in rows}
    quality = {r[header.index("质量标记（quality）")] for r in rows} - {None}
    assert status <= {labels.label(k, "zh") for k in labels.LABELS} and "难以达成" in status
    assert quality and quality <= {"观测", "推算", "估计"}
    csv = pd.read_csv(report_zh / "target_gaps.csv")
    assert set(csv["status"]) <= {"on_track", "at_risk", "off_track", "not_projectable",
                                  "not_quantified", "city_assumption", "target_above_need",
                                  "target_below_need"}
    header = _header_row(wb["在校生（enrolment）"])
    assert "均值（mean） [人]" in header and "80%区间下限（lo80） [人]" in header


def test_en_workbook_headers_unchanged(report):
    """en keeps the machine names as sheet names and headings (units in brackets)."""
    _, _, out, _ = report
    wb = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    assert _header_row(wb["target_gaps"])[:6] == ["area", "indicator", "indicator_zh",
                                                  "target_year", "year",
                                                  "target [see unit column]"]


def test_excel_number_formats_keep_full_precision(report):
    """Floats display rounded (p_meet 0.00, others #,##0.0, targets as given) while the cells
    keep every digit; the assumptions_sources header rows are frozen."""
    _, gaps, out, _ = report
    wb = openpyxl.load_workbook(out / "report.xlsx")
    ws = wb["target_gaps"]
    header = _header_row(ws)
    row = next(r for r in ws.iter_rows(min_row=2) if isinstance(r[header.index(
        "projected_mean [see unit column]")].value, float))
    mean = row[header.index("projected_mean [see unit column]")]
    assert mean.number_format == "#,##0.0"
    assert mean.value in set(gaps[S.PROJECTED_MEAN])  # full precision stored
    assert mean.value != round(mean.value, 1)
    assert row[header.index("p_meet [probability 0–1]")].number_format == "0.00"
    assert row[header.index("target [see unit column]")].number_format == "#,##0.0##"
    assert row[header.index("area")].number_format == "General"
    assert wb["assumptions_sources"].freeze_panes == "A3"
    ws = wb["enrolment"]
    assert ws.cell(2, _header_row(ws).index("mean [persons]") + 1).number_format == "#,##0.0"


def test_scenario_indicators_and_county_groups_named_in_chinese():
    """Indicator ids of the scenario table and "6 counties (…)" read in Chinese."""
    assert labels.label("enrolment_junior", "zh") == "初中在校生（人）"
    assert labels.label("enrolment_junior", "en") == "Junior secondary enrolment (persons)"
    assert rp.report._counties("6 counties (511002, 511011)", "zh") == "6 个区县（511002, 511011）"
    assert rp.report._counties("6 counties (511002, 511011)", "en") == "6 counties (511002, 511011)"
