"""Tests for njforecast.areas: region definition, code joins and coherence."""

import numpy as np
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


def test_aggregation_matrix_of_a_three_level_region():
    """Counties sum to their prefecture and everything to the province (hand-made hierarchy)."""
    from njforecast.areas import Area, Region, aggregation_matrix

    def area(code, parent, kind="county"):
        return Area(code, code, code, code, kind, parent, code, True)

    r = Region("900000", "p", "p", "p", "900000",
               (area("900000", "0", "province"), area("901000", "900000", "prefecture"),
                area("902000", "900000", "prefecture"), area("901001", "901000"),
                area("901002", "901000"), area("902001", "902000")))
    codes, S_ = aggregation_matrix(r, ["901001", "901002", "902001"])
    assert codes == ("901001", "901002", "902001", "902000", "901000", "900000")
    x = np.array([1.0, 2.0, 4.0])
    assert dict(zip(codes, S_ @ x, strict=True)) == {"901001": 1, "901002": 2, "902001": 4,
                                                      "902000": 4, "901000": 3, "900000": 7}
