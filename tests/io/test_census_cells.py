"""Census tables with blank or malformed age cells: named, then refused, dropped or filled.

Inputs: the first rows of the real 2020 Sichuan county table with cells blanked or overwritten
here (labelled test inputs; the bundled file is not changed).
"""

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import sichuan_census_head
from njforecast import schema as S
from njforecast.cli import app
from njforecast.io.store import DataError, load_census, load_census_checked

runner = CliRunner()


def _damaged(tmp_path, cells):
    """The 2020 Sichuan head (4 counties) with ``cells`` = {(row, column): value} set."""
    path = sichuan_census_head(tmp_path, 4)
    raw = pd.read_csv(path, dtype=str)
    for (row, col), value in cells.items():
        raw.loc[row, col] = value
    raw.to_csv(path, index=False)
    codes = raw["区划代码"].str.replace(r"\.0$", "", regex=True).tolist()
    return path, codes


def test_refuse_names_every_cell_and_the_ways_forward(tmp_path):
    path, codes = _damaged(tmp_path, {(1, "女_0岁"): None, (3, "男_85岁以上"): None})
    with pytest.raises(DataError) as err:
        load_census(path)
    msg = str(err.value)
    assert f"area {codes[1]}" in msg and "column '女_0岁' is empty" in msg
    assert f"area {codes[3]}" in msg and "column '男_85岁以上' is empty" in msg
    assert "2 unusable age cells in 2 areas" in msg
    assert "--blank-cells drop" in msg and "--blank-cells zero" in msg


def test_drop_leaves_out_exactly_the_listed_areas(tmp_path):
    path, codes = _damaged(tmp_path, {(1, "女_0岁"): None, (1, "男_0岁"): ""})
    pop, touched = load_census_checked(path, "drop")
    assert sorted(pop[S.AREA].unique()) == sorted(set(codes) - {codes[1]})
    assert touched[S.AREA].tolist() == [codes[1]]
    assert touched["action"].tolist() == ["dropped"]
    assert set(touched["cells"].iloc[0].split(", ")) == {"女_0岁", "男_0岁"}


def test_zero_fills_blanks_and_keeps_every_other_count(tmp_path):
    full = load_census(sichuan_census_head(tmp_path, 4))
    path, codes = _damaged(tmp_path, {(2, "女_0岁"): None})
    pop, touched = load_census_checked(path, "zero")
    key = [S.AREA, S.SEX, S.AGE_GROUP]
    merged = full.merge(pop, on=key, suffixes=("_full", "_zero"))
    assert len(merged) == len(full)
    hit = (merged[S.AREA] == codes[2]) & (merged[S.SEX] == "female") & (merged[S.AGE_GROUP] == "0")
    assert merged.loc[hit, "population_zero"].tolist() == [0.0]
    assert (merged.loc[~hit, "population_zero"] == merged.loc[~hit, "population_full"]).all()
    assert touched[[S.AREA, "action"]].values.tolist() == [[codes[2], "blank read as 0"]]


def test_zero_still_refuses_text_and_negative_cells(tmp_path):
    path, codes = _damaged(tmp_path, {(0, "女_0岁"): None, (2, "男_1到4岁"): "约300",
                                      (3, "女_5到9岁"): "-5"})
    with pytest.raises(DataError) as err:
        load_census_checked(path, "zero")
    msg = str(err.value)
    assert "2 age cells that are text or negative" in msg and "'约300'" in msg and "'-5" in msg
    assert codes[0] not in msg                  # the empty cell alone would be filled
    assert "--blank-cells zero" not in msg


def test_cli_refuses_with_exit_2_and_projects_with_the_flag(tmp_path):
    path, codes = _damaged(tmp_path, {(1, "女_0岁"): None})
    out = tmp_path / "out.csv"
    args = ["demography", "project", "--base", str(path), "--to", "2022", "--output", str(out),
            "--executor", "serial"]
    res = runner.invoke(app, args)
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert f"area {codes[1]}" in res.output and "女_0岁" in res.output
    assert not out.exists()
    res = runner.invoke(app, [*args, "--blank-cells", "drop"])
    assert res.exit_code == 0, res.output
    assert f"dropped: {codes[1]}" in res.output
    table = pd.read_csv(out, dtype={"area": str})
    assert set(table["area"]) == set(codes) - {codes[1]}
    assert table["typical_error_10y_pct"].notna().all()         # the error band of every row
