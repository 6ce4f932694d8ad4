"""Regenerate the validation fixtures: tests/data/good/* and tests/data/bad/* + expected.csv.

Run from the repository root:  python tests/data/bad/make_fixtures.py

Good files are real, sourced figures taken from the bundled data (data/raw/observed, the plan's
box 1, the 2020 census for Zizhong 511025), in the formats a planner may send: UTF-8, UTF-8 with
BOM, GBK, UTF-16 (tab-separated, as Excel's "Unicode text"), xlsx.

Bad files start from a few of those real rows and are then deliberately corrupted: the values
in them are TEST DATA, NOT STATISTICS (a corrupted copy is labelled by its file name). Each bad
file has one row in expected.csv: the text ``njforecast data validate FILE`` must print.
Output is deterministic (xlsx files get fixed timestamps), so rerunning changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
GOOD = HERE.parent / "good"

OBS_COLS = ["area", "area_name", "year", "indicator", "value", "unit", "source", "source_note"]
POP_COLS = ["area", "area_name", "year", "sex", "age_group", "population", "source"]


# ------------------------------------------------------------------------------------------
# real good data


def _region_names() -> dict[str, tuple[str, str]]:
    """plan_id → (code, name_zh) from the region file."""
    import tomllib

    raw = tomllib.loads((ROOT / "data/external/regions/neijiang.toml").read_text("utf-8"))
    return {a["plan_id"]: (a["code"], a["name_zh"]) for a in raw["areas"]}


def good_observations() -> pd.DataFrame:
    """Neijiang rows of the bundled observed file + the plan's box 1 city rates (real)."""
    ids = _region_names()
    raw = pd.read_csv(ROOT / "data/raw/observed/neijiang_observed.csv", dtype=str)
    raw = raw[raw["area"].isin(ids) & ~raw["indicator"].str.contains("target")]
    obs = pd.DataFrame({
        "area": raw["area"].map(lambda a: ids[a][0]),
        "area_name": raw["area"].map(lambda a: ids[a][1]),
        "year": raw["year"], "indicator": raw["indicator"], "value": raw["value"],
        "unit": raw["unit"], "source": raw["source_url"], "source_note": raw["source_note"]})
    plan = pd.read_csv(ROOT / "data/raw/plan/plan_indicators_2015_2020.csv", dtype=str)
    rows = []
    for r in plan.itertuples(index=False):
        for year in ("2015", "2020"):
            v = getattr(r, f"value_{year}")
            if isinstance(v, str) and v:
                rows.append({"area": "511000", "area_name": "内江市", "year": year,
                             "indicator": r.indicator_id, "value": v,
                             "unit": "percent" if r.unit == "pct" else r.unit,
                             "source": "Neijiang 14th Five-Year education plan, box 1",
                             "source_note": r.indicator_zh})
    return pd.concat([obs, pd.DataFrame(rows)], ignore_index=True)[OBS_COLS]


def good_population() -> pd.DataFrame:
    """Zizhong (511025) 2020 census population by sex and age group (real, 38 rows)."""
    from njforecast.io.store import load_census

    cen = load_census(ROOT / "data/raw/census/census_county_2020_sichuan.csv")
    z = cen[cen["area"] == "511025"]
    return pd.DataFrame({
        "area": "511025", "area_name": "资中县", "year": "2020", "sex": z["sex"].to_numpy(),
        "age_group": z["age_group"].to_numpy(),
        "population": z["population"].astype(int).astype(str).to_numpy(),
        "source": "2020 census county table (leiii/census, MIT)"})[POP_COLS]


# ------------------------------------------------------------------------------------------
# writers


def _csv_text(rows: list[list[str]], delimiter: str = ",") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8",
              delimiter: str = ",") -> None:
    path.write_bytes(_csv_text(rows, delimiter).encode(encoding))


def _fix_zip(path: Path) -> None:
    """Give an xlsx fixed timestamps so regenerating it gives identical bytes."""
    with zipfile.ZipFile(path) as z:
        items = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    stamp = b"2020-11-01T00:00:00Z"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in items:
            if name == "docProps/core.xml":
                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp, data)
            info = zipfile.ZipInfo(name, date_time=(2020, 11, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> None:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    wb.save(path)
    _fix_zip(path)


def rows_of(df: pd.DataFrame) -> list[list[str]]:
    return [list(df.columns)] + df.astype(str).to_numpy().tolist()


# ------------------------------------------------------------------------------------------
# bad fixtures


def main() -> None:
    GOOD.mkdir(parents=True, exist_ok=True)
    obs = good_observations()
    pop = good_population()
    obs_rows, pop_rows = rows_of(obs), rows_of(pop)
    write_csv(GOOD / "observations.csv", obs_rows)
    write_csv(GOOD / "observations_bom.csv", obs_rows, "utf-8-sig")
    write_csv(GOOD / "observations_gbk.csv", obs_rows, "gb18030")
    write_csv(GOOD / "observations_utf16.txt", obs_rows, "utf-16", "\t")
    write_xlsx(GOOD / "observations.xlsx", {"observations": obs_rows})
    write_csv(GOOD / "population.csv", pop_rows)
    write_csv(GOOD / "population_gbk.csv", pop_rows, "gb18030")
    write_xlsx(GOOD / "population.xlsx", {"population": pop_rows})

    # base rows for the bad files: four real rows (Shizhong 2023 births and birth rate,
    # Longchang 2023 primary enrolment, Neijiang 2020 preschool GER from the plan)
    def pick(area, year, ind):
        r = obs[(obs["area"] == area) & (obs["year"] == year) & (obs["indicator"] == ind)]
        return r.iloc[0]

    picked = [pick("511002", "2023", "births"), pick("511002", "2023", "birth_rate_permille"),
              pick("511083", "2023", "primary_enrolment"),
              pick("511000", "2020", "preschool_ger_3y")]
    head = ["area", "year", "indicator", "value", "unit", "source"]
    base = [head] + [[str(r[c]) for c in head] for r in picked]
    phead = ["area", "year", "sex", "age_group", "population"]
    pbase = [phead] + [[str(v) for v in r] for r in pop[phead].head(4).to_numpy().tolist()]

    def obs_with(row: int, col: str, value: str, **more: str) -> list[list[str]]:
        """base with cells of one row replaced (row 1 = first data row)."""
        out = [list(r) for r in base]
        for c, v in {col: value, **more}.items():
            out[row][head.index(c)] = v
        return out

    def pop_with(row: int, col: str, value: str) -> list[list[str]]:
        out = [list(r) for r in pbase]
        out[row][phead.index(col)] = value
        return out

    def rename(rows, old, new):
        out = [list(r) for r in rows]
        out[0][out[0].index(old)] = new
        return out

    def drop(rows, col):
        j = rows[0].index(col)
        return [r[:j] + r[j + 1:] for r in rows]

    csv_files: dict[str, tuple[list[list[str]], str, str]] = {
        # columns
        "obs_missing_value_column.csv": (drop(base, "value"), "utf-8",
                                         ":1:value: required column 'value' is missing"),
        "obs_misspelled_year.csv": (rename(base, "year", "yaer"), "utf-8",
                                    (":1:yaer: column 'yaer' is not a known column name — did "
                                    "you mean 'year'?")),
        "obs_bom_misspelled_indicator.csv": (rename(base, "indicator", "indicater"), "utf-8-sig",
                                             "did you mean 'indicator'?"),
        "obs_chinese_headers.csv": ([["地区", "年份", "指标", "数值", "单位", "来源"]] + base[1:],
                                    "utf-8", (":1:年份: column '年份' is not a known column name "
                                    "— rename it to 'year'")),
        "obs_duplicate_column.csv": ([head + ["value"]] + [r + [r[3]] for r in base[1:]],
                                     "utf-8", "column 'value' appears twice (columns D and G)"),
        "obs_kind_ambiguous.csv": ([["area", "year", "total"]] + [r[:2] + [r[3]]
                                                                   for r in base[1:]], "utf-8",
                                   ("cannot tell whether this is an observations or a "
                                   "population file")),
        # areas
        "obs_unknown_area_code.csv": (obs_with(2, "area", "511099"), "utf-8",
                                      ":3:area: unknown area code '511099'"),
        "obs_area_name_zh.csv": (obs_with(1, "area", "资中县"), "utf-8",
                                 (":2:area: area '资中县' is a name, not a code; names are not "
                                 "accepted — use the code 511025")),
        "obs_area_name_en.csv": (obs_with(1, "area", "Zizhong County"), "utf-8",
                                 "names are not accepted — use the code 511025"),
        "obs_area_name_shared.csv": (obs_with(1, "area", "市中区"), "utf-8",
                                     "areas are called that (511002, "),
        "obs_area_12digit.csv": (obs_with(3, "area", "511025000000"), "utf-8",
                                 (":4:area: area '511025000000' looks like a 12-digit statistical "
                                 "code — use its first 6 digits, 511025")),
        "obs_area_empty.csv": (obs_with(2, "area", ""), "utf-8", ":3:area: area is empty"),
        "obs_area_slug_typo.csv": (obs_with(1, "area", "zizong"), "utf-8",
                                   "unknown area 'zizong' (a name? 'zizhong' is 511025)"),
        "obs_gbk_area_name.csv": (obs_with(1, "area", "资中县"), "gb18030",
                                  ":2:area: area '资中县' is a name"),
        # years
        "obs_year_out_of_range.csv": (obs_with(1, "year", "1900"), "utf-8",
                                      ":2:year: year 1900 is outside 1949–2100"),
        "obs_year_fraction.csv": (obs_with(2, "year", "2020.5"), "utf-8",
                                  ":3:year: year 2020.5 is not a whole year"),
        "obs_year_school_span.csv": (obs_with(1, "year", "2023-2024"), "utf-8",
                                     "is a school-year span — write its first year, 2023"),
        "obs_year_text.csv": (obs_with(1, "year", "2023年"), "utf-8",
                              "year '2023年' is not a plain number — write 2023"),
        # values
        "obs_value_text.csv": (obs_with(3, "value", "约33359"), "utf-8",
                               ":4:value: value '约33359' is not a number"),
        "obs_value_thousands.csv": (obs_with(3, "value", "33,359"), "utf-8",
                                    "(thousands separator) — write 33359"),
        "obs_value_wan.csv": (obs_with(3, "value", "3.3359万"), "utf-8",
                              ("is in 万 (10,000) and is not a number — write the count in "
                              "persons: 33359")),
        "obs_value_percent_sign.csv": (obs_with(4, "value", "88.86%"), "utf-8",
                                       "(percent sign) — write 88.86"),
        "obs_value_negative.csv": (obs_with(1, "value", "-1572"), "utf-8",
                                   ":2:value: value -1572 is negative"),
        "obs_value_empty.csv": (obs_with(3, "value", ""), "utf-8", ":4:value: value is missing"),
        "obs_value_nan.csv": (obs_with(3, "value", "NaN"), "utf-8",
                              ":4:value: value is missing ('NaN')"),
        "obs_value_inf.csv": (obs_with(3, "value", "inf"), "utf-8",
                              ":4:value: value 'inf' is infinite"),
        "obs_pct_over_200.csv": (obs_with(4, "value", "888.6"), "utf-8",
                                 ":5:value: value 888.6 percent is outside 0–200"),
        "obs_permille_over_1000.csv": (obs_with(2, "value", "3900"), "utf-8",
                                       ":3:value: value 3900 permille is outside 0–1000"),
        "obs_duplicate_conflict.csv": (base + [[base[1][0], base[1][1], base[1][2], "1752",
                                                base[1][4], base[1][5]]], "utf-8",
                                       ":6:value: conflicts with row 2"),
        # units and names
        "obs_unit_mismatch_pct.csv": (obs_with(4, "indicator", "preschool_ger_pct",
                                               unit="persons"), "utf-8",
                                      (":5:unit: unit/indicator mismatch: indicator "
                                      "'preschool_ger_pct' is in percent")),
        "obs_unit_mismatch_permille.csv": (obs_with(2, "unit", "persons"), "utf-8",
                                           ("unit/indicator mismatch: indicator "
                                           "'birth_rate_permille' is in permille")),
        "obs_unit_rate_as_count.csv": (obs_with(4, "unit", "persons"), "utf-8",
                                       ("indicator 'preschool_ger_3y' names a rate but unit is "
                                       "'persons'")),
        "obs_unit_wan.csv": (obs_with(3, "unit", "万人"), "utf-8",
                             "unit '万人' is not accepted — multiply the values by 10,000"),
        "obs_unit_unknown.csv": (obs_with(3, "unit", "kg"), "utf-8", "unknown unit 'kg'"),
        "obs_rate_without_unit.csv": (drop(base, "unit"), "utf-8",
                                      (":5:unit: indicator 'preschool_ger_3y' looks like a rate "
                                      "but has no unit")),
        "obs_bad_indicator.csv": (obs_with(1, "indicator", "出生人口"), "utf-8",
                                  "indicator '出生人口' is not a valid name"),
        "obs_indicator_empty.csv": (obs_with(1, "indicator", ""), "utf-8",
                                    ":2:indicator: indicator is empty"),
        "obs_bad_quality.csv": ([head + ["quality"]] + [r + ["observed"] for r in base[1:3]]
                                + [base[3] + ["guess"], base[4] + [""]], "utf-8",
                                ":4:quality: quality 'guess' is not known"),
        # layout
        "obs_header_only.csv": (base[:1], "utf-8", "the file has a header but no data rows"),
        "obs_title_row.csv": ([["内江市教育统计（单位：万人）"]] + base, "utf-8",
                              "header found on row 2; delete the rows above it"),
        "obs_no_header.csv": (base[1:], "utf-8", "no header row found in the first 10 rows"),
        "obs_many_problems.csv": ([head] + [[base[1][0], str(2000 + i), "births", "-1",
                                             "persons", "test"] for i in range(60)], "utf-8",
                                  "… and 10 more problems not shown (60 errors"),
        # population
        "pop_bad_sex.csv": (pop_with(1, "sex", "男"), "utf-8",
                            ":2:sex: unknown sex label '男' — write male"),
        "pop_sex_total.csv": (pop_with(2, "sex", "total"), "utf-8",
                              "sex 'total' is a total — give male and female rows only"),
        "pop_age_group_label.csv": (pop_with(3, "age_group", "5~9岁"), "utf-8",
                                    ("age_group '5~9岁' is not written as the census labels are "
                                    "— write 5-9")),
        "pop_age_group_scheme.csv": (pop_with(2, "age_group", "0-4"), "utf-8",
                                     ":3:age_group: age_group '0-4' is not a census age group"),
        "pop_age_fraction.csv": ([["area", "year", "sex", "age", "population"]]
                                 + [r[:3] + [str(a)] + [r[4]] for r, a in
                                    zip(pbase[1:], ["0", "1", "5.5", "3"], strict=True)],
                                 "utf-8", ":4:age: age 5.5 is not a whole number in 0–120"),
        "pop_age_too_high.csv": ([["area", "year", "sex", "age", "population"]]
                                 + [r[:3] + [str(a)] + [r[4]] for r, a in
                                    zip(pbase[1:], ["0", "1", "2", "130"], strict=True)],
                                 "utf-8", ":5:age: age 130 is not a whole number in 0–120"),
        "pop_negative.csv": (pop_with(2, "population", "-20529"), "utf-8",
                             ":3:population: population -20529 is negative"),
        "pop_population_empty.csv": (pop_with(2, "population", ""), "utf-8",
                                     ":3:population: population is missing"),
        "pop_duplicate_conflict.csv": (pbase + [pbase[1][:4] + ["1"]], "utf-8",
                                       ":6:population: conflicts with row 2"),
        "pop_missing_age.csv": (drop(pbase, "age_group"), "utf-8",
                                "the file needs an 'age' or an 'age_group' column"),
        "pop_age_end_mismatch.csv": ([phead + ["age_start", "age_end"]]
                                     + [r + [s, e] for r, (s, e) in
                                        zip(pbase[1:], [("0", "0"), ("1", "4"), ("5", "10"),
                                                        ("10", "14")], strict=True)],
                                     "utf-8", (":4:age_end: age_end '10' does not match age "
                                     "group 5-9")),
        "pop_gender_column.csv": (rename(pbase, "sex", "gender"), "utf-8",
                                  ("column 'gender' is not a known column name — rename it to "
                                  "'sex'")),
    }
    bytes_files: dict[str, tuple[bytes, str]] = {
        "empty.csv": (b"", "the file is empty"),
        "blank_lines_only.csv": (b"\n \n\n", "the file is empty"),
        "obs_extra_field.csv": (_csv_text(base).replace('33359,', '33,359,').encode(),
                                ":4: row has 7 values but the header names 6 columns"),
        "obs_mixed_encoding.csv": (
            b"area,area_name,year,indicator,value,unit\n"
            + "511002,市中区,2023,births,1572,persons\n".encode()
            + "511083,隆昌市,2023,primary_enrolment,33359,persons\n".encode("gb18030"),
            "mixed encodings: row 3 not UTF-8 (GBK?)"),
        "obs_not_utf8_or_gbk.csv": (b"area,year,indicator,value\n511002,2023,births,\xff\xff\n",
                                    "neither UTF-8 nor GBK/GB18030"),
        "obs_binary.csv": (b"area,year\x00\x00\x01\x02", "binary data, not text"),
        "broken.xlsx": (b"this is not a workbook", "not a readable .xlsx workbook"),
        "old_format.xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64),
                           "'.xls' files are not read — save the sheet as .xlsx"),
    }
    xlsx_files: dict[str, tuple[dict[str, list[list]], str]] = {
        "obs_title_row.xlsx": ({"Sheet1": [["内江市分县教育统计"], ["单位：人"]]
                                + [[int(c) if c.isdigit() else c for c in r] for r in base]},
                               ":3: header found on row 3; delete the rows above it"),
        "obs_empty_first_sheet.xlsx": ({"Sheet1": [], "data": base},
                                       "the first sheet 'Sheet1' is empty — move sheet 'data'"),
        "obs_area_name.xlsx": ({"obs": obs_with(2, "area", "资中县")},
                               ":3:area: area '资中县' is a name, not a code"),
        "pop_bad_values.xlsx": ({"pop": [phead, [511025, 2020, "male", "0", -1],
                                         [511025, 2020, "M", "1-4", 5000.5]]},
                                ":2:population: population -1 is negative"),
    }

    expected = []
    for old in HERE.iterdir():
        if old.name not in ("make_fixtures.py", "README.md"):
            old.unlink()
    for name, (rows, enc, want) in csv_files.items():
        write_csv(HERE / name, rows, enc)
        expected.append((name, want))
    for name, (data, want) in bytes_files.items():
        (HERE / name).write_bytes(data)
        expected.append((name, want))
    (HERE / "obs_xlsx_named_csv.csv").write_bytes((GOOD / "observations.xlsx").read_bytes())
    expected.append(("obs_xlsx_named_csv.csv", ("this is an Excel workbook (xlsx) with a '.csv' "
                     "name — rename it to .xlsx")))
    for name, (sheets, want) in xlsx_files.items():
        write_xlsx(HERE / name, sheets)
        expected.append((name, want))
    pd.DataFrame(expected, columns=["file", "expected_substring"]).sort_values("file").to_csv(
        HERE / "expected.csv", index=False, lineterminator="\n")
    print(f"{len(expected)} bad fixtures in {HERE}, good examples in {GOOD}")


if __name__ == "__main__":
    main()
