"""Tests for njforecast.evaluation.census_backtest: exclusions, scoring, the held-out split and
the coverage correction, on small synthetic census files (labelled test inputs, not data)."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from njforecast import demography as dm
from njforecast import schema as S
from njforecast.evaluation import census_backtest as cb


def _census_frame(counts: dict[str, np.ndarray], year: int = 2020) -> pd.DataFrame:
    """Synthetic census long frame: area → (2, 19) group counts (test input)."""
    rows = []
    for area, arr in counts.items():
        for si, sex in enumerate(S.SEXES):
            for gi, (label, lo, hi) in enumerate(S.AGE_GROUPS):
                rows.append((year, area, sex, label, lo, hi, float(arr[si, gi])))
    return pd.DataFrame(rows, columns=[S.CENSUS_YEAR, S.AREA, S.SEX, S.AGE_GROUP, S.AGE_START,
                                       S.AGE_END, S.POPULATION])


def _write_census(path, year, rows):
    """Write a synthetic census table in the 2010 or 2020 layout: code → (2, 19) counts."""
    recs = []
    for code, arr in rows.items():
        rec = {"区划代码": code}
        for si, sx in enumerate(("男", "女")):
            for gi, (label, lo, hi) in enumerate(S.AGE_GROUPS):
                if year == 2010:
                    name = (f"{lo}岁（{sx}）" if lo == hi else f"{lo}岁及以上（{sx}）"
                            if label.endswith("+") else f"{lo}-{hi}岁（{sx}）")
                else:
                    name = (f"{sx}_{lo}岁" if lo == hi else f"{sx}_{lo}岁以上"
                            if label.endswith("+") else f"{sx}_{lo}到{hi}岁")
                rec[name] = arr[si, gi]
        tot, male, female = arr.sum(), arr[0].sum(), arr[1].sum()
        names = ("合计", "男", "女", "地区") if year == 2010 else ("人口数_合计", "人口数_男",
                                                                "人口数_女", "区县")
        rec.update(dict(zip(names, (tot, male, female, f"县{code}"), strict=True)))
        recs.append(rec)
    frame = pd.DataFrame(recs)
    if str(path).endswith(".xlsx"):
        frame.to_excel(path, index=False)
    else:
        frame.to_csv(path, index=False)


def test_backtest_scores_excludes_and_carries(tmp_path, processed):
    """The back-test excludes unmatched and boundary-changed codes; its naive carries A's cohort."""
    rng = np.random.default_rng(3)
    a = {c: rng.uniform(1000, 5000, size=(2, 19)) for c in ("519901", "519902", "519903")}
    b = {c: rng.uniform(1000, 5000, size=(2, 19)) for c in ("519901", "519902", "519904")}
    b["519902"] = b["519902"] * 40          # total ratio far above the band
    _write_census(tmp_path / "a.csv", 2010, a)
    _write_census(tmp_path / "b.xlsx", 2020, b)           # 2020 layout as xlsx
    res = cb.census_backtest(tmp_path / "a.csv", tmp_path / "b.xlsx")
    reasons = dict(zip(res.excluded["area_code"], res.excluded["reason"], strict=True))
    assert "not in census 2010" in reasons["519904"]
    assert "not in census 2020" in reasons["519903"]
    names = dict(zip(res.excluded["area_code"], res.excluded["area_name"], strict=True))
    assert names["519903"] == "县519903" and names["519904"] == "县519904"  # from A and B
    assert "outside" in reasons["519902"]
    assert set(res.rows["area_code"]) == {"519901"}
    r = res.rows.set_index(S.AGE_GROUP)
    assert list(res.rows.columns[:5]) == ["area_code", "area_name", S.AGE_GROUP, "projected",
                                          "actual"]
    assert r.loc["10-14", "naive"] == pytest.approx(a["519901"][:, :2].sum())   # A's 0-4
    assert r.loc["15-19", "actual"] == pytest.approx(b["519901"][:, 4].sum())
    assert (res.rows[["projected", "hamilton_perry"]] > 0).all().all()
    assert set(res.summary["method"]) == {"projected", "province_only", "hamilton_perry", "naive"}


def test_prefecture_halves_keep_prefectures_together_and_are_seeded():
    """Counties of a prefecture share a half; half A has ⌊n/2⌋ prefectures; the seed fixes it."""
    codes = [f"51{p:02d}{c:02d}" for p in range(1, 8) for c in range(1, 4)]
    h = cb.prefecture_halves(codes, seed=1)
    by_pref = pd.Series(h, index=[c[:4] for c in codes]).groupby(level=0).nunique()
    assert (by_pref == 1).all()
    assert len({c[:4] for c, x in zip(codes, h, strict=True) if x == "A"}) == 3   # ⌊7/2⌋
    np.testing.assert_array_equal(h, cb.prefecture_halves(list(reversed(codes)), seed=1)[::-1])
    assert any((cb.prefecture_halves(codes, seed=s) != h).any() for s in range(2, 6))


def test_backtest_summary_by_hand():
    """Median and mean APE per subset match a hand computation on four counties."""
    rows = pd.DataFrame({"area_code": ["510101", "510102", "510201", "510202"],
                         S.AGE_GROUP: "10-14", "actual": [100.0, 200.0, 50.0, 10.0],
                         "m": [110.0, 150.0, 50.0, 12.0]})     # APE 10, 25, 0, 20
    s = cb.backtest_summary(rows, seed=7).set_index("subset")
    assert s.loc["all", "median_ape"] == pytest.approx(15.0)
    assert s.loc["all", "mean_ape"] == pytest.approx(13.75)
    half = cb.prefecture_halves(rows["area_code"], seed=7)
    ape = np.array([10.0, 25.0, 0.0, 20.0])
    for name in ("A", "B"):
        assert s.loc[name, "mean_ape"] == pytest.approx(ape[half == name].mean())
    assert s.loc["A", "n"] + s.loc["B", "n"] == 4


def test_coverage_assumption_validates_and_backtest_uses_it(tmp_path, processed):
    """ε must be finite; the back-test's 10-14 changes with ε exactly by the 0-4 factor."""
    with pytest.raises(ValueError, match="child_coverage_elasticity"):
        dm.DemographicAssumptions(child_coverage_elasticity=float("nan"))
    rng = np.random.default_rng(5)
    a = {"519901": rng.uniform(1000, 5000, size=(2, 19))}
    b = {"519901": a["519901"] * 1.1}
    _write_census(tmp_path / "a.csv", 2010, a)
    _write_census(tmp_path / "b.csv", 2020, b)
    base_ass = dm.DemographicAssumptions(survival_cap=False, local_births=False)
    r0 = cb.census_backtest(tmp_path / "a.csv", tmp_path / "b.csv", assumptions=base_ass)
    r1 = cb.census_backtest(tmp_path / "a.csv", tmp_path / "b.csv",
                            assumptions=replace(base_ass, child_coverage_elasticity=0.5))
    p0 = r0.rows.set_index(S.AGE_GROUP)["projected"]
    p1 = r1.rows.set_index(S.AGE_GROUP)["projected"]
    base = dm.graduate_single_ages(_census_frame(a, 2010))
    _, arr = dm.to_array(base)
    f = dm.child_coverage_factor(arr, dm._province_single(2010, "510000"), 0.5)[0, 0, 0]
    assert p1["10-14"] == pytest.approx(f * p0["10-14"], rel=1e-9)
    for g in ("0-4", "5-9", "15-19"):
        assert p1[g] == pytest.approx(p0[g], rel=1e-12)


def test_signal_weights_validate_and_zero_weights_are_the_province_only_engine(tmp_path,
                                                                               processed):
    """Weights outside [-1, 1] are refused; all weights 0 and ε 0 give province_only exactly,
    and the structure component moves only ages from structure_from_age, the school
    component only the steps 14→15 … 19→20."""
    with pytest.raises(ValueError, match="school_flow_weight"):
        dm.DemographicAssumptions(school_flow_weight=1.5)
    rng = np.random.default_rng(11)
    a = {c: rng.uniform(1000, 5000, size=(2, 19)) for c in ("519901", "519902")}
    _write_census(tmp_path / "a.csv", 2010, a)
    _write_census(tmp_path / "b.csv", 2020, {c: v * 1.05 for c, v in a.items()})
    zero = cb.backtest_assumptions(structure_weight=0.0, school_flow_weight=0.0,
                                   internal_stock_weight=0.0, registration_gap_weight=0.0,
                                   child_coverage_elasticity=0.0)
    res = cb.census_backtest(tmp_path / "a.csv", tmp_path / "b.csv", assumptions=zero)
    np.testing.assert_allclose(res.rows["projected"], res.rows["province_only"], rtol=1e-12)
    from njforecast.demography.signals import signal_components

    _, arr = dm.to_array(dm.graduate_single_ages(_census_frame(a, 2010)))
    comp = signal_components(arr, dm._province_single(2010, "510000"), 12)
    assert not comp["structure"][..., :12].any() and not comp["school"][..., :14].any()
    assert not comp["school"][..., 20:].any() and not comp["structure"][..., 14:20].any()
    assert comp["school"][..., 14:20].any()


def test_province_backtest_sums_counties_and_carries(tmp_path, processed):
    """Provinces are census A's counties summed; naive carries the sum's cohorts; a province of
    A without a row in B is listed as excluded."""
    rng = np.random.default_rng(4)
    a = {c: rng.uniform(1000, 5000, size=(2, 19)) for c in ("519901", "519902", "529901")}
    _write_census(tmp_path / "a.csv", 2010, a)
    _write_census(tmp_path / "b.csv", 2020, {"510000": rng.uniform(1000, 9000, size=(2, 19))})
    res = cb.province_backtest(tmp_path / "a.csv", tmp_path / "b.csv")
    assert set(res.rows["area_code"]) == {"510000"}
    assert set(res.rows["area_name"]) == {"县510000"}  # the province's name in census B
    assert res.excluded["area_code"].tolist() == ["520000"]
    r = res.rows.set_index(S.AGE_GROUP)
    kids = (a["519901"] + a["519902"])[:, :2].sum()
    assert r.loc["10-14", "naive"] == pytest.approx(kids)           # A's 0-4 carried
    assert set(res.summary["method"]) == {"projected", "nation_only", "hamilton_perry",
                                          "naive"}


def test_error_bands_are_the_backtest_medians(processed):
    """The all-counties band of ages 10-14 is the median APE of the bundled county back-test;
    bands follow the age's back-test group, none above 19, and a non-county code takes the
    all-counties band."""
    from njforecast.config import raw_dir
    from njforecast.demography.error_bands import error_columns, typical_errors

    cen = raw_dir() / "census"
    res = cb.census_backtest(cen / "census_county_2010.xlsx",
                             cen / "census_county_2020_sichuan.csv")
    r = res.rows[res.rows[S.AGE_GROUP] == "10-14"]
    med = float(np.median(np.abs(r["projected"] - r["actual"]) / r["actual"] * 100))
    t = typical_errors().set_index(["county_kind", S.AGE_GROUP])
    assert t.loc[("all counties", "10-14"), "typical_error_10y_pct"] == pytest.approx(med)
    assert t.loc[("all counties", "10-14"), "n"] == len(r)
    cols = error_columns(["511000", "511000", "511000"], [10, 14, 20])
    assert cols["county_kind"].tolist() == ["all counties"] * 3
    assert cols["typical_error_10y_pct"].iloc[0] == pytest.approx(med)
    assert cols["typical_error_10y_pct"].iloc[1] == pytest.approx(med)
    assert np.isnan(cols["typical_error_10y_pct"].iloc[2])


def test_backtest_cli_names_blank_cells_and_drops_them_with_the_flag(tmp_path, processed):
    """Without --blank-cells the back-test exits 2 naming the cell; with drop the area is left
    out and listed among the exclusions with its cells."""
    from typer.testing import CliRunner

    from njforecast.cli import app

    rng = np.random.default_rng(8)
    a = {c: rng.uniform(1000, 5000, size=(2, 19)) for c in ("519901", "519902")}
    _write_census(tmp_path / "a.csv", 2010, a)
    _write_census(tmp_path / "b.csv", 2020, {c: v * 1.05 for c, v in a.items()})
    raw = pd.read_csv(tmp_path / "b.csv")
    raw.loc[raw["区划代码"] == 519902, "女_0岁"] = None          # a blank cell in census B
    raw.to_csv(tmp_path / "b.csv", index=False)
    args = ["demography", "backtest", "--base", str(tmp_path / "a.csv"), "--actual",
            str(tmp_path / "b.csv"), "--output", str(tmp_path / "rows.csv")]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "area 519902" in res.output and "女_0岁" in res.output
    res = CliRunner().invoke(app, [*args, "--blank-cells", "drop"])
    assert res.exit_code == 0, res.output
    assert "519902" in res.output and "dropped (cells: 女_0岁)" in res.output
    rows = pd.read_csv(tmp_path / "rows.csv", dtype={"area_code": str})
    assert set(rows["area_code"]) == {"519901"}
