"""A plain-text summary of the bundled data (``njforecast data show summary``).

Public names:
    data_summary(region_name) → text: areas with their census totals, census tables, observed
    series, plan targets and planned places.
"""

from __future__ import annotations

from .. import schema as S
from ..areas import load_region
from .processed import read_processed


def data_summary(region_name: str) -> str:
    """A plain-text summary of the bundled data: areas, census totals, series, sources."""
    region = load_region(region_name)
    pop = read_processed("census_population")
    obs = read_processed("observations")
    tgt = read_processed("plan_targets")
    seats = read_processed("seats")
    lines = [f"Region {region.name_en} ({region.name_zh}, {region.code}) — "
             f"{len(region.areas)} units"]
    totals = pop.groupby([S.CENSUS_YEAR, S.AREA])[S.POPULATION].sum()
    for a in region.areas:
        t20 = totals.get((2020, a.code))
        t10 = totals.get((2010, a.code)) or next(
            (totals.get((2010, c)) for c in a.former_codes if (2010, c) in totals), None)
        fmt = lambda v: f"{v:>12,.0f}" if v is not None else f"{'—':>12}"  # noqa: E731
        lines.append(f"  {a.code:10s} {a.name_en:38s} {a.kind:17s} census 2010 {fmt(t10)}"
                     f"  2020 {fmt(t20)}")
    ncounty = pop[pop[S.AREA].str[-2:] != "00"].groupby(S.CENSUS_YEAR)[S.AREA].nunique()
    lines.append("Census tables (leiii/census, MIT; Dong, Du & Liu 2022): "
                 + ", ".join(f"{y}: {n:,} county-level rows" for y, n in ncounty.items()))
    lines.append(f"Observed series: {len(obs):,} rows, {obs[S.INDICATOR].nunique()} indicators, "
                 f"{obs[S.AREA].nunique()} areas, years {obs[S.YEAR].min()}–{obs[S.YEAR].max()}, "
                 "quality: " + ", ".join(f"{k} {v:,}" for k, v in
                                         obs[S.QUALITY].value_counts().items()))
    period = f" {seats['period'].iloc[0]}" if "period" in seats and seats["period"].nunique() == 1 \
        else ""
    lines.append(f"Plan targets: {len(tgt)} ({tgt[S.TARGET].notna().sum()} quantified); "
                 f"new school places{period}: {seats[S.SEATS].sum():,.0f} in "
                 f"{seats[S.AREA].nunique()} units")
    return "\n".join(lines)
