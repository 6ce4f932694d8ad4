"""Tests for njforecast.io.store: census figures match the published ones; rebuilds are identical."""

import filecmp

import pandas as pd
import pytest

from njforecast.io import processed
from njforecast.io import store as data
from njforecast import schema as S
from njforecast.config import raw_dir


def _totals(pop):
    return pop.groupby([S.CENSUS_YEAR, S.AREA])[S.POPULATION].sum()


def test_neijiang_2020_total_and_units_sum(processed):
    """Neijiang 2020 = 3,140,678 and its six census units add up to it."""
    t = _totals(processed["census_population"])
    assert t[(2020, "511000")] == 3_140_678
    units = ["511002", "511011", "511024", "511025", "511071", "511083"]
    assert sum(t[(2020, u)] for u in units) == 3_140_678


def test_zizhong_2020_and_neijiang_2010(processed):
    """Zizhong 2020 = 845,579 and Neijiang 2010 = 3,702,847 (published census totals)."""
    t = _totals(processed["census_population"])
    assert t[(2020, "511025")] == 845_579
    assert t[(2010, "511000")] == 3_702_847


def test_age_groups_sum_to_published_total_every_area(processed):
    """Every coded row's 38 age×sex cells add up to its published total population."""
    t = _totals(processed["census_population"]).rename("sum").reset_index()
    areas = processed["census_areas"][[S.CENSUS_YEAR, S.AREA, "total"]]
    m = t.merge(areas, on=[S.CENSUS_YEAR, S.AREA])
    off = m[(m["sum"] - m["total"]).abs() > 0]
    # the published tables are internally consistent for all but a handful of rows
    assert len(off) / len(m) < 0.01, off.head()


def test_2010_province_rows_sum_to_national_total(processed):
    """The 2010 table's 31 province rows sum to 1,332,810,869 (its README)."""
    a = processed["census_areas"]
    prov = a[(a[S.CENSUS_YEAR] == 2010) & (a["kind"] == "province")]
    assert len(prov) == 31
    assert prov["total"].sum() == 1_332_810_869


def test_both_layouts_give_same_columns_and_groups():
    """The 2010 xlsx and 2020 csv layouts load to the same long shape with 19 groups × 2 sexes."""
    a = data.load_census(raw_dir() / "census" / "census_county_2010.xlsx")
    b = data.load_census(raw_dir() / "census" / "census_county_2020_sichuan.csv")
    assert list(a.columns) == list(b.columns)
    for df in (a, b):
        per_area = df.groupby(S.AREA).size()
        assert (per_area == 38).all()


def test_2020_csv_and_xlsx_copies_load_identically(tmp_path):
    """The 2020 table loads the same from xlsx as from csv."""
    src = raw_dir() / "census" / "census_county_2020_sichuan.csv"
    df = pd.read_csv(src)
    x = tmp_path / "c2020.xlsx"
    df.to_excel(x, index=False)
    pd.testing.assert_frame_equal(data.load_census(src), data.load_census(x))


def test_rebuild_is_byte_identical(tmp_path):
    """Building the processed data twice gives byte-identical files."""
    a = processed.build_processed(tmp_path / "a")
    b = processed.build_processed(tmp_path / "b")
    for name in a:
        assert filecmp.cmp(a[name], b[name], shallow=False), name


def test_duplicate_sources_resolved_by_stated_rule(processed):
    """Where two sources disagree, exactly one row per key is preferred, by source tier."""
    obs = processed["observations"]
    pref = obs[obs[S.PREFERRED]]
    assert not pref.duplicated([S.AREA, S.YEAR, S.INDICATOR]).any()
    # 2016 national births: the census-revised news figure (tier 2) beats the third-party one
    b = pref[(pref[S.AREA] == "100000") & (pref[S.INDICATOR] == "births") & (pref[S.YEAR] == 2016)]
    assert b[S.VALUE].item() == 18_830_000


def test_source_tier_examples():
    """Official statistics rank above news, news above third-party compilations."""
    assert data.source_tier("NBS provincial data: crude birth rate") == 1
    assert data.source_tier("Yicai: Sichuan resident population revised") == 2
    assert data.source_tier("Third-party births table") == 3


def test_province_codes_match_census_names():
    """Every province code in data/external matches the 2020 census row of the same name."""
    from njforecast.config import external_dir

    codes = pd.read_csv(external_dir() / "province_codes.csv", dtype=str)
    cen = data.load_census_areas(raw_dir() / "census" / "census_province_2020.csv")
    by_code = dict(zip(cen[S.AREA], cen["name_zh"], strict=True))
    for code, zh in zip(codes["code"], codes["name_zh"], strict=True):
        assert by_code[code] == zh


def test_seats_sum_to_plan_total(processed):
    """Planned new places by area add up to 78,860 (plan box 6)."""
    assert processed["seats"][S.SEATS].sum() == 78_860


def test_plan_targets_have_direction(processed):
    """Every plan target has a comparison direction from the vocabulary."""
    t = processed["plan_targets"]
    assert set(t[S.COMPARISON]) <= set(S.COMPARISONS)
    assert t.loc[t[S.INDICATOR] == "preschool_ger_3y", S.TARGET].item() == pytest.approx(92.09)


def test_write_csv_atomic_leaves_nothing_on_failure(tmp_path):
    """A failed write leaves neither the target nor a temp file."""
    class Boom:
        def to_csv(self, *a, **k):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        data.write_csv_atomic(Boom(), tmp_path / "x.csv")
    assert list(tmp_path.iterdir()) == []
