"""Tests for njforecast.areas: region definition, code joins and coherence."""

import pandas as pd

from njforecast import schema as S
from njforecast.areas import aggregate_to_parent, census_codes, check_coherence, load_region


def test_neijiang_region_units():
    """Neijiang has six census units (five county-level units + the development zone)."""
    r = load_region("neijiang")
    assert sorted(a.code for a in r.counties) == ["511002", "511011", "511024", "511025",
                                                 "511071", "511083"]
    assert r.area("511028").code == "511083"  # Longchang's 2010 code resolves


def test_comparable_units_cover_2010_census(processed):
    """The 2010 comparable units use codes that exist in the 2010 table and add up to the city."""
    r = load_region("neijiang")
    pop = processed["census_population"]
    t = pop[pop[S.CENSUS_YEAR] == 2010].groupby(S.AREA)[S.POPULATION].sum()
    codes = census_codes(r, 2010)
    assert set(codes) <= set(t.index)
    assert t[codes].sum() == t["511000"]


def test_aggregate_and_coherence():
    """The city row is the sum of its areas; a tampered city row is caught."""
    r = load_region("neijiang")
    df = pd.DataFrame({S.AREA: ["511002", "511011"], S.YEAR: [2021, 2021], "n": [1.0, 2.0]})
    out = aggregate_to_parent(df, r, ["n"])
    assert out.loc[out[S.AREA] == "511000", "n"].item() == 3.0
    assert check_coherence(out, r, ["n"]).empty
    out.loc[out[S.AREA] == "511000", "n"] = 4.0
    assert len(check_coherence(out, r, ["n"])) == 1
