"""Tests for njforecast.io.validation: every malformed fixture gives its message, bundled data pass.

Frames built here by hand are synthetic test data (labelled), never statistics.
"""

import csv
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from njforecast import schema as S
from njforecast.io import validation as V
from njforecast.cli import app
from njforecast.config import REPO_ROOT, raw_dir

DATA = Path(__file__).parent / "data"
BAD, GOOD = DATA / "bad", DATA / "good"
EXPECTED = list(csv.DictReader((BAD / "expected.csv").open(encoding="utf-8")))
runner = CliRunner()


def _validate(*args):
    return runner.invoke(app, ["data", "validate", *map(str, args)])


@pytest.fixture(scope="module", autouse=True)
def _processed_built(processed):
    """Build data/processed first: known areas then come from census_areas.csv (fast)."""
    return processed


@pytest.fixture(scope="module")
def known():
    """Accepted areas for Neijiang (census codes, region codes, provinces, slugs)."""
    return V.known_areas("neijiang")


# --- fixtures on disk ---------------------------------------------------------------------


def test_every_bad_fixture_has_an_expected_message():
    """At least 30 malformed fixtures, each listed once in expected.csv with a message."""
    files = {p.name for p in BAD.iterdir()} - {"make_fixtures.py", "README.md", "expected.csv"}
    listed = [r["file"] for r in EXPECTED]
    assert len(files) >= 30
    assert sorted(listed) == sorted(files)
    assert all(r["expected_substring"].strip() for r in EXPECTED)
    assert any(n.endswith(".xlsx") for n in files)


@pytest.mark.parametrize("case", EXPECTED, ids=[r["file"] for r in EXPECTED])
def test_bad_fixture_exits_2_with_expected_message(case):
    """`data validate` on a malformed file exits 2, prints its expected message, no traceback."""
    res = _validate(BAD / case["file"])
    assert res.exit_code == 2, res.output
    assert case["expected_substring"] in res.output
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)


@pytest.mark.parametrize("name", ["obs_area_name_zh.csv", "empty.csv", "obs_title_row.xlsx"])
def test_bad_fixture_in_a_real_process(name):
    """`python -m njforecast data validate` in a subprocess: exit 2, message, no traceback."""
    want = next(r["expected_substring"] for r in EXPECTED if r["file"] == name)
    res = subprocess.run([sys.executable, "-m", "njforecast", "data", "validate", str(BAD / name)],
                         capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
                         check=False)
    assert res.returncode == 2
    assert want in res.stdout + res.stderr
    assert "Traceback" not in res.stdout + res.stderr


def test_bundled_raw_observed_files_pass():
    """Every bundled data/raw/observed/*.csv validates (exit 0, one ok line per file)."""
    files = sorted((raw_dir() / "observed").glob("*.csv"))
    res = _validate(*files)
    assert res.exit_code == 0, res.output
    assert res.output.count("ok: ") == len(files) == 2


def test_processed_observations_pass(processed):
    """data/processed/observations.csv (after build) validates with exit 0."""
    res = _validate(REPO_ROOT / "data" / "processed" / "observations.csv")
    assert res.exit_code == 0, res.output
    assert f"observations, {len(processed['observations']):,} rows" in res.output


def test_good_examples_pass():
    """Every file in tests/data/good validates (folder argument expands to its files)."""
    res = _validate(GOOD)
    assert res.exit_code == 0, res.output
    assert res.output.count("ok: ") == len(list(GOOD.iterdir())) == 8
    assert "read as GBK/GB18030" in res.output and "read as UTF-16" in res.output


def test_encodings_and_xlsx_read_identically():
    """UTF-8, BOM, GBK, UTF-16 and xlsx copies read to the same cells, Chinese not garbled."""
    ref = V.read_table(GOOD / "observations.csv")
    assert ref.loc[2, "area_name"] == "市中区" and next(iter(ref.columns)) == "area"
    for name in ("observations_bom.csv", "observations_gbk.csv", "observations_utf16.txt",
                 "observations.xlsx"):
        pd.testing.assert_frame_equal(V.read_table(GOOD / name), ref, obj=name)


def test_user_population_sums_to_published_zizhong_total():
    """The good population example (census 2020, Zizhong) loads and sums to 845,579."""
    pop = V.load_user_population(GOOD / "population.csv")
    assert pop[S.POPULATION].sum() == 845_579
    assert len(pop) == 38 and set(pop[S.SEX]) == {"male", "female"}
    assert pop.loc[pop[S.AGE_GROUP] == "85+", S.AGE_END].unique().tolist() == [S.OPEN_AGE]


# --- rules, on small hand-made files (synthetic) ------------------------------------------


def _write(tmp_path, text, name="x.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_load_user_observations_normalises(tmp_path):
    """Slugs and former codes map to codes; units come from aliases or the indicator name."""
    p = _write(tmp_path, "area,year,indicator,value,unit\n"
                         "zizhong,2021,primary_enrolment,100,\n"
                         "511028,2021,birth_rate_permille,7.5,\n"
                         "511000,2021,junior_ger_pct,101.5,pct\n")
    obs = V.load_user_observations(p)
    got = obs.set_index(S.INDICATOR)
    assert got.loc["primary_enrolment", S.AREA] == "511025"
    assert got.loc["birth_rate_permille", S.AREA] == "511083"
    assert got[S.UNIT].to_dict() == {"primary_enrolment": "persons",
                                     "birth_rate_permille": "permille",
                                     "junior_ger_pct": "percent"}
    assert set(obs[S.QUALITY]) == {"observed"} and obs[S.PREFERRED].all()
    assert set(obs[S.SOURCE]) == {"user file x.csv"}
    assert obs[S.YEAR].dtype.kind == "i"


def test_load_user_observations_lists_every_problem(tmp_path):
    """Three bad cells in three rows give exactly those three (row, column) errors."""
    p = _write(tmp_path, "area,year,indicator,value\n"
                         "511025,2021,primary_enrolment,100\n"
                         "511025,2022,primary_enrolment,-3\n"
                         "999999,2023,primary_enrolment,100\n"
                         "511025,1800,primary_enrolment,100\n")
    with pytest.raises(V.ValidationError) as err:
        V.load_user_observations(p)
    where = [(q.row, q.column) for q in err.value.problems if q.severity == "error"]
    assert where == [(3, "value"), (4, "area"), (5, "year")]
    assert "x.csv:3:value: value -3 is negative" in str(err.value)


@pytest.mark.parametrize("value, ok", [("0", True), ("109.33", True), ("200", True),
                                       ("200.01", False)])
def test_percent_range_is_0_to_200(tmp_path, value, ok):
    """A GER may exceed 100 % (Neijiang's 2020 junior GER is 109.33) but not 200 %."""
    p = _write(tmp_path, f"area,year,indicator,value,unit\n511000,2020,junior_ger_pct,{value},"
                         "percent\n")
    assert V.validate_file(p).ok is ok


def test_identical_duplicate_is_a_warning_and_conflict_an_error(tmp_path):
    """Identical repeated keys only warn (exit 0); differing values are errors (exit 2)."""
    row = "511025,2021,primary_enrolment,100\n"
    same = _write(tmp_path, "area,year,indicator,value\n" + row + row, "same.csv")
    res = _validate(same)
    assert res.exit_code == 0 and "warning: identical duplicate of row 2" in res.output
    diff = _write(tmp_path, "area,year,indicator,value\n" + row + row.replace("100", "101"),
                  "diff.csv")
    res = _validate(diff)
    assert res.exit_code == 2 and "diff.csv:3:value: conflicts with row 2" in res.output


def test_same_key_from_two_sources_is_allowed(tmp_path):
    """Two sources may disagree on one figure (kept, first one preferred)."""
    p = _write(tmp_path, "area,year,indicator,value,source\n"
                         "511025,2021,primary_enrolment,100,bulletin\n"
                         "511025,2021,primary_enrolment,101,yearbook\n")
    obs = V.load_user_observations(p)
    assert obs[S.PREFERRED].tolist() == [True, False]


def test_blank_rows_above_header_warn_and_keep_row_numbers(tmp_path):
    """Blank rows above the header only warn; problems still name the spreadsheet row."""
    p = _write(tmp_path, "\n\narea,year,indicator,value\n511025,2021,primary_enrolment,-1\n")
    probs = V.validate_file(p).problems
    assert [(q.row, q.severity) for q in probs] == [(3, "warning"), (4, "error")]


def test_read_table_raises_for_title_row(tmp_path):
    """read_table refuses a title row above the header and says which row holds it."""
    p = _write(tmp_path, "单位：万人\narea,year,indicator,value\n511025,2021,x,1\n")
    with pytest.raises(V.ValidationError, match="header found on row 2; delete the rows above"):
        V.read_table(p)


def test_semicolon_and_tab_delimiters(tmp_path):
    """Semicolon- and tab-separated files read like comma-separated ones."""
    for sep in (";", "\t"):
        p = _write(tmp_path, f"area{sep}year{sep}indicator{sep}value\n"
                             f"511025{sep}2021{sep}primary_enrolment{sep}7\n")
        assert V.read_table(p).loc[2, "value"] == "7"


def test_known_areas_cover_census_region_and_provinces(known):
    """Codes from any county in the census, region-defined codes, provinces and slugs are known."""
    for code in ("110101", "511025", "511028", "511000-CR", "511000-HT", "510000", "sichuan"):
        assert code in known.canonical, code
    assert known.canonical["511028"] == "511083"
    message, fix = known.hint("资中县")
    assert "is a name, not a code" in message and fix == "use the code 511025"
    assert "资中县" not in known.canonical and "Zizhong" not in known.canonical


def test_plain_frames_count_the_header_as_row_1(known):
    """A frame without spreadsheet row numbers is numbered as if its header were row 1."""
    df = pd.DataFrame({"area": ["511025", "511025"], "year": [2020, 2021],
                       "indicator": ["primary_enrolment"] * 2, "value": [5.0, float("nan")]})
    probs = V.validate_observations(df, "frame", known)
    assert [(q.row, q.column) for q in probs] == [(3, "value")]
    assert str(probs[0]).startswith("frame:3:value: value is missing")


def test_problem_list_is_capped_with_a_count():
    """format_problems prints at most `limit` problems and counts the rest."""
    probs = [V.Problem("f", i, "value", "bad") for i in range(2, 12)]
    lines = V.format_problems(probs, limit=3)
    assert lines[:3] == ["f:2:value: bad", "f:3:value: bad", "f:4:value: bad"]
    assert lines[3].startswith("… and 7 more problems not shown (10 errors, 0 warnings")


# --- property: one corrupted cell is always found -----------------------------------------

_AREAS = ["511000", "511002", "511011", "511024", "511025", "511071", "511083"]
_BAD_OBS = {S.AREA: ["511099", "资中县", "", "zizong", "5110"],
            S.YEAR: ["1900", "2020.5", "twenty", "", "3000", "2020-21"],
            S.INDICATOR: ["", "小学在校生", "Primary Enrolment"],
            S.VALUE: ["-1", "abc", "", "NaN", "inf", "1,234", "12万"],
            S.UNIT: ["kg", "万人", "人", "percent_ish"]}
_BAD_POP = {S.AREA: ["511099", "Zizhong", ""], S.YEAR: ["1800", "2020.5", ""],
            S.SEX: ["男", "M", "total", ""], S.AGE_GROUP: ["0-4", "5~9", "", "90+"],
            S.POPULATION: ["-5", "x", "", "nan"]}


@st.composite
def _corrupted_obs(draw):
    n = draw(st.integers(1, 8))
    rows = [{S.AREA: draw(st.sampled_from(_AREAS)), S.YEAR: str(2000 + i),
             S.INDICATOR: "primary_enrolment", S.VALUE: str(draw(st.integers(0, 10**6))),
             S.UNIT: "persons"} for i in range(n)]
    i = draw(st.integers(0, n - 1))
    col = draw(st.sampled_from(sorted(_BAD_OBS)))
    rows[i][col] = draw(st.sampled_from(_BAD_OBS[col]))
    return pd.DataFrame(rows), i, col


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_corrupted_obs())
def test_one_corrupted_observation_cell_is_named(known, case):
    """A valid synthetic frame with one corrupted cell gets an error naming that row and column."""
    df, i, col = case
    probs = V.validate_observations(df, "synthetic", known)
    assert any(q.row == i + 2 and q.column == col and q.severity == "error" for q in probs), probs


@st.composite
def _corrupted_pop(draw):
    groups = draw(st.lists(st.sampled_from(S.AGE_GROUP_LABELS), min_size=1, max_size=6,
                           unique=True))
    rows = [{S.AREA: "511025", S.YEAR: "2020", S.SEX: sex, S.AGE_GROUP: g,
             S.POPULATION: str(draw(st.integers(0, 10**5)))}
            for g in groups for sex in S.SEXES]
    i = draw(st.integers(0, len(rows) - 1))
    col = draw(st.sampled_from(sorted(_BAD_POP)))
    rows[i][col] = draw(st.sampled_from(_BAD_POP[col]))
    return pd.DataFrame(rows), i, col


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_corrupted_pop())
def test_one_corrupted_population_cell_is_named(known, case):
    """A valid synthetic population frame with one corrupted cell: that row and column named."""
    df, i, col = case
    probs = V.validate_population(df, "synthetic", known)
    assert any(q.row == i + 2 and q.column == col and q.severity == "error" for q in probs), probs


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_corrupted_obs(), st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_corrupted_cell_found_through_a_file(case, encoding):
    """Written to CSV in any accepted encoding, the corrupted cell's row and column are named."""
    df, i, col = case
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "syn.csv"
        p.write_bytes(df.to_csv(index=False).encode(encoding))
        probs = V.validate_file(p, "observations").problems
    assert any(q.row == i + 2 and q.column == col for q in probs), probs


def test_percent_share_written_as_fractions_warns(tmp_path):
    """A percent series that is not a rate of tens of percent (a population share), all ≤ 1.5,
    is only a warning (such shares may be small): the rows and the ×100 fix are named."""
    p = _write(tmp_path, "area,year,indicator,value\n511025,2021,registered_age_60plus_pct,0.21\n"
                         "511025,2022,registered_age_60plus_pct,0.22\n"
                         "511024,2022,registered_age_60plus_pct,23\n")
    rep = V.validate_file(p)
    assert rep.ok
    assert [str(q) for q in rep.problems] == [
        f"{p}:2:value: warning: every value of 'registered_age_60plus_pct' in area 511025 is at "
        "most 0.22 percent: fractions instead of percent? — rows 2, 3 (2 rows) — if these are "
        "fractions, multiply by 100: write 22 for 22 %, not 0.22"]
