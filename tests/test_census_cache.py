"""Tests for reading census tables once: the parsed frames in data/processed/census, keyed by
the raw file's SHA-256, and the demography caches keyed by the data directory."""

import sys

import pandas as pd
import pytest

from conftest import sichuan_census_head
from njforecast import demography as dm
from njforecast import schema as S
from njforecast.io import store


@pytest.fixture()
def counted_parses(monkeypatch):
    """Count calls of the raw-table reader (one call = one parse of a raw census file)."""
    calls = []
    real = store._read_any

    def reader(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(store, "_read_any", reader)
    return calls


def test_census_parsed_once_and_again_when_the_raw_file_changes(tmp_path, monkeypatch,
                                                                counted_parses):
    """A census file is parsed once; a changed file (new SHA-256) is parsed again and the
    frames of its earlier version are removed; the cached bytes are reproducible."""
    raw = sichuan_census_head(tmp_path, 3)
    monkeypatch.setenv("NJFORECAST_DATA", str(tmp_path / "data"))
    first = store.load_census(raw)
    pop_path, area_path = store.census_cache_paths(raw)
    assert pop_path.is_file() and area_path.is_file()
    assert pop_path.parent == tmp_path / "data" / "processed" / "census"
    assert len(counted_parses) == 1
    pd.testing.assert_frame_equal(store.load_census(raw), first, check_exact=True)
    store.load_census_areas(raw)
    assert len(counted_parses) == 1                      # both frames read from the cache
    old_bytes = pop_path.read_bytes()
    pop_path.unlink()
    store.load_census(raw)                               # rebuilt: same bytes
    assert len(counted_parses) == 2 and pop_path.read_bytes() == old_bytes

    text = raw.read_text(encoding="utf-8")
    df = pd.read_csv(raw, dtype=str)
    col = "男_0岁"
    old, new = df[col].iloc[0], str(int(float(df[col].iloc[0])) + 1000)
    raw.write_text(text.replace(f",{old},", f",{new},", 1), encoding="utf-8")
    changed = store.load_census(raw)
    assert len(counted_parses) == 3
    area = df["区划代码"].iloc[0].removesuffix(".0")
    cell = (changed[S.AREA] == area) & (changed[S.SEX] == "male") & (changed[S.AGE_GROUP] == "0")
    assert changed.loc[cell, S.POPULATION].item() == float(new)
    assert not pop_path.exists() and not area_path.exists()   # the earlier version is gone
    assert sorted(p.name for p in pop_path.parent.iterdir()) == sorted(
        p.name for p in store.census_cache_paths(raw))


def test_cached_frames_equal_the_processed_tables(processed):
    """The bundled census read through the cache equals data/processed/census_population.csv."""
    got = store.load_bundled_census()
    pd.testing.assert_frame_equal(got, processed["census_population"], check_exact=True)
    pd.testing.assert_frame_equal(dm._bundled_census(), processed["census_population"],
                                  check_exact=True)


def test_demography_caches_are_keyed_on_the_data_directory(tmp_path, monkeypatch, processed):
    """A table cached for one data directory is not served for another ($NJFORECAST_DATA)."""
    calls = []

    @dm.data_cache(maxsize=4)
    def table(x):
        calls.append(x)
        return x * 2

    assert table(3) == 6 and table(3) == 6 and len(calls) == 1
    monkeypatch.setenv("NJFORECAST_DATA", str(tmp_path))
    assert table(3) == 6 and len(calls) == 2
    monkeypatch.delenv("NJFORECAST_DATA")
    assert table(3) == 6 and len(calls) == 2
    assert len(dm._bundled_census()) > 0                       # the bundled data directory
    monkeypatch.setenv("NJFORECAST_DATA", str(tmp_path))       # holds no census tables
    with pytest.raises(store.DataError, match="census file not found"):
        dm._bundled_census()


def test_workers_read_the_parsed_census_not_the_xlsx(tmp_path, monkeypatch, processed):
    """With openpyxl unimportable in the driver and in the spawned workers, a parallel run
    still works (the 2010 xlsx is read from data/processed) and equals the serial run."""
    raw = sichuan_census_head(tmp_path, 4)
    want = dm.project_census_file(raw, end_year=2023, draws=3, executor="serial")
    fake = tmp_path / "blocked"
    (fake / "openpyxl").mkdir(parents=True)
    (fake / "openpyxl" / "__init__.py").write_text(
        "raise ImportError('openpyxl is blocked by test_census_cache')\n")
    monkeypatch.syspath_prepend(str(fake))                  # spawned workers get sys.path
    monkeypatch.setitem(sys.modules, "openpyxl", None)      # this process
    with pytest.raises(ImportError):
        pd.read_excel(store._census_paths()["census_2010"])
    got = dm.project_census_file(raw, end_year=2023, draws=3, executor="local", workers=2)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
