"""The planner's page API: same numbers as `njforecast scenario run`, errors that name the lever,
caps, downloads and "save scenario" (the app answering over HTTP on loopback)."""

import io
import json
import urllib.error
import urllib.request
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from njforecast import schema as S

SCENARIO = {"scenario": "low_fertility", "migration_multiplier": 1.3, "class_size_cap_primary": 40,
            "attrition": 0.05, "draws": 60, "seed": 7, "end_year": 2032}


def call(base_url, path, body=None, raw=None, method=None, headers=None):
    """(status, parsed JSON or bytes) of one request; HTTP errors are returned, not raised."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(base_url + path, data=data, method=method or ("POST" if data
                                                                               is not None else
                                                                               "GET"),
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            payload, status, ctype = r.read(), r.status, r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        payload, status, ctype = e.read(), e.code, e.headers.get("Content-Type", "")
    return status, (json.loads(payload) if "json" in ctype else payload)


@pytest.fixture(scope="module")
def reference(service):
    """`njforecast scenario run`'s numbers: engine.run(cfg, scenario).projection_summary()."""
    from njforecast import engine

    over = {k: v for k, v in SCENARIO.items() if k != "scenario"}
    sc = replace(service.presets[SCENARIO["scenario"]], **over)
    return engine.run(service.cfg, sc, state=service.state)


def test_projection_matches_scenario_run(base_url, reference):
    """POST /api/projection returns exactly the projection summary of engine.run for the scenario."""
    status, rows = call(base_url, "/api/projection", SCENARIO)
    assert status == 200
    got = pd.DataFrame(rows)
    want = reference.projection_summary()
    assert len(got) == len(want) and set(got[S.INDICATOR]) == set(want[S.INDICATOR])
    got[S.AREA] = got[S.AREA].astype(str)
    keys = [S.INDICATOR, S.AREA, S.YEAR]
    m = want.merge(got, on=keys, suffixes=("", "_app"))
    assert len(m) == len(want)
    for c in S.SUMMARY_COLUMNS:
        np.testing.assert_allclose(m[f"{c}_app"], m[c], rtol=1e-12, atol=1e-9, err_msg=c)


def test_page_charts_match_scenario_run(base_url, reference):
    """The fan, enrolment and teacher charts of /api/scenario carry the projection summary's numbers."""
    status, ans = call(base_url, "/api/scenario", {**SCENARIO, "area": "511025"})
    assert status == 200 and ans["area"] == "511025" and ans["draws"] == 60
    ps = reference.projection_summary().set_index([S.INDICATOR, S.AREA, S.YEAR])
    fan = ans["fan"]["senior_stage_ger"]
    for c in S.SUMMARY_COLUMNS:
        want = [ps.loc[("senior_stage_ger", "511025", y), c] for y in fan["years"]]
        np.testing.assert_allclose(fan[c], want, rtol=1e-12)
    status, city = call(base_url, "/api/scenario", SCENARIO)
    added = [k for k in city["fan"] if k.startswith("teachers_added_")]
    assert added and not any(k.startswith("teachers_added_") for k in ans["fan"])
    fan = city["fan"][added[0]]
    assert len(fan["years"]) >= 2
    for c in S.SUMMARY_COLUMNS:
        want = [ps.loc[(added[0], "511000", y), c] for y in fan["years"]]
        np.testing.assert_allclose(fan[c], want, rtol=1e-12)
    years = ans["years"]
    assert years[-1] == 2032
    want = [ps.loc[("enrolment_primary", "511025", y), S.MEAN] for y in years]
    np.testing.assert_allclose(ans["enrolment"]["primary"]["mean"], want, rtol=1e-12)
    want = [ps.loc[("teacher_demand", "511025", y), S.HI80] for y in years]
    np.testing.assert_allclose(ans["teachers"]["demand"]["hi80"], want, rtol=1e-12)


def test_target_table_matches_report_call(service, reference):
    """The page's target table (whole and per area) equals compare_to_targets on the full target
    series, the report's call."""
    from njforecast.app.answers import (_records, area_targets, comparison_years, target_draws,
                                        target_table)
    from njforecast.planning.targets import SCOPE_CITY_APPLIED, compare_to_targets

    years = comparison_years(service.state.targets, 2020, reference.config.end_year)
    assert years == [2025, 2032]
    order = [reference.region.code, *[a.code for a in reference.region.counties]]
    want = compare_to_targets(reference.target_series, service.state.targets, years=years,
                              area_order=order)
    got = target_table(reference, service.state.targets, years)
    pd.testing.assert_frame_equal(got, want)
    assert (got[S.STATUS] != "not_projectable").sum() > 5
    draws = target_draws(reference, years)
    applied = want[S.SCOPE] == SCOPE_CITY_APPLIED
    rows = pd.DataFrame(area_targets(draws, service.state.targets, years, "511000", "511000"))
    full = want[(want[S.AREA] == "511000") & ~applied].reset_index(drop=True)[rows.columns]
    pd.testing.assert_frame_equal(rows, full, check_dtype=False)
    # a county without series of its own: the "city assumption" rows, naming that county
    rows = pd.DataFrame(area_targets(draws, service.state.targets, years, "511083", "511000"))
    assert (want[S.AREA] == "511083").sum() == 0
    ours = rows[rows[S.SCOPE] == SCOPE_CITY_APPLIED].reset_index(drop=True)
    assert len(ours) == applied.sum() > 0
    full = want[applied].reset_index(drop=True)[rows.columns]
    assert _records(ours.drop(columns=S.NOTE)) == _records(full.drop(columns=S.NOTE))
    assert ours[S.NOTE].str.startswith("1 county (511083) has no series").all()
    # … shown with the city's rows they point to (same indicators and years)
    city = rows[rows[S.SCOPE] == "plan (city)"]
    assert set(zip(city[S.INDICATOR], city[S.YEAR], strict=True)) == set(
        zip(ours[S.INDICATOR], ours[S.YEAR], strict=True))


def test_bad_lever_names_the_field_and_app_keeps_answering(base_url):
    """Out-of-range, wrong-type and over-cap levers get a 400 naming the field; then a good request works."""
    cases = [({"fertility_multiplier": 5}, "fertility_multiplier"),
             ({"draws": 100000}, "draws"),
             ({"attrition": "lots"}, "attrition"),
             ({"staffing_standard": "generous"}, "staffing_standard"),
             ({"end_year": 2099}, "end_year"),
             ({"area": "999999"}, "area"),
             ({"area": 511025}, "area"),  # a number, not the code as text
             ({"draws": [1, 2]}, "draws")]
    for extra, field in cases:
        status, err = call(base_url, "/api/scenario", {"scenario": "baseline", **extra})
        assert status == 400, extra
        assert err["field"] == field and field in err["error"], err
        assert "Traceback" not in err["error"]
    for field in ("fertility_multiplier", "class_size_cap_primary"):  # NaN is not "unset"
        status, err = call(base_url, "/api/scenario",
                           raw=b'{"scenario": "baseline", "%s": NaN}' % field.encode())
        assert status == 400 and err["field"] == field and "NaN" in err["error"], err
    status, err = call(base_url, "/api/scenario", {"scenario": "nope"})
    assert status == 400 and "presets" in err["error"]
    status, err = call(base_url, "/api/scenario", {"scenario": "baseline", "colour": "red"})
    assert status == 400 and "colour" in err["error"]
    status, ans = call(base_url, "/api/scenario", {"scenario": "baseline", "draws": 20})
    assert status == 200 and ans["draws"] == 20


def test_malformed_and_oversized_requests_are_refused(base_url):
    """Broken JSON, a list body, a huge body and unknown routes are 4xx JSON; the app still answers."""
    assert call(base_url, "/api/scenario", raw=b"{not json")[0] == 400
    assert call(base_url, "/api/scenario", raw=b"\xff\xfe")[0] == 400
    status, err = call(base_url, "/api/scenario", [{"scenario": "baseline"}] * 3)
    assert status == 400 and "one JSON object" in err["error"]
    status, err = call(base_url, "/api/scenario", raw=b'{"scenario": "' + b"x" * 40000 + b'"}')
    assert status == 413 and "bytes" in err["error"]
    assert call(base_url, "/api/nothing")[0] == 404
    assert call(base_url, "/api/scenario", method="GET")[0] == 405
    status, health = call(base_url, "/api/health")
    assert status == 200 and health["ok"] and health["refused"] >= 3


def test_downloads_csv_and_excel(base_url):
    """The target table downloads as CSV and every table as one Excel workbook for the same scenario."""
    from openpyxl import load_workbook

    q = "scenario=baseline&draws=30&fertility_multiplier=0.8"
    status, data = call(base_url, f"/api/download/target_gaps.csv?{q}")
    assert status == 200
    gaps = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", float_precision="round_trip")
    assert {S.P_MEET, S.STATUS, S.GAP, S.PROJECTED_LO80}.issubset(gaps.columns)
    status, ans = call(base_url, "/api/scenario", {"scenario": "baseline", "draws": 30,
                                                   "fertility_multiplier": 0.8})
    city = gaps[(gaps[S.AREA] == 511000) & gaps[S.P_MEET].notna()]
    shown = {(r["indicator"], r["year"]): r["p_meet"] for r in ans["targets"] if r["p_meet"] is not None}
    assert {(r.indicator, r.year): r.p_meet for r in city.itertuples()} == shown
    status, data = call(base_url, f"/api/download/tables.xlsx?{q}")
    assert status == 200
    wb = load_workbook(io.BytesIO(data), read_only=True)
    assert {"target_gaps", "enrolment", "teachers", "capacity"}.issubset(wb.sheetnames)
    status, err = call(base_url, "/api/download/target_gaps.csv?scenario=baseline&draws=abc")
    assert status == 400 and err["field"] == "draws"
    assert call(base_url, f"/api/download/secrets.csv?{q}")[0] == 404


def test_save_logs_an_mlflow_run(base_url, service):
    """Saving logs one MLflow run with the scenario's levers and target artifacts; browsing logs none."""
    from njforecast.tracking import list_runs

    before = len(list_runs(service.cfg.name, service.tracking_uri))
    assert before == 0  # the requests above only browsed
    status, saved = call(base_url, "/api/save", {"scenario": "national_staffing", "draws": 20,
                                                 "hires_per_year": 700})
    assert status == 200 and saved["ui_path"].endswith(saved["run_id"])
    runs = list_runs(service.cfg.name, service.tracking_uri)
    assert len(runs) == 1 and runs["status"].iloc[0] == "FINISHED"
    from mlflow import MlflowClient

    run = MlflowClient(service.tracking_uri).get_run(saved["run_id"])
    assert run.data.params["scenario.hires_per_year"] == "700.0"
    assert run.data.tags["njforecast.kind"] == "app-scenario"
    assert any(k.startswith("p_meet.") for k in run.data.metrics)


def test_repeated_request_is_cached(service):
    """A request asked before is answered from the cache without projecting again."""
    req = {"scenario": "high_fertility", "draws": 10, "area": "511002"}
    first = json.loads(service.answer(req))
    n = service.stats["computed"]
    again = json.loads(service.answer({**req, "area": "511000"}))
    assert json.loads(service.answer(req))["cached"]
    assert service.stats["computed"] == n and not first["cached"]
    assert again["enrolment"]["primary"]["mean"] != first["enrolment"]["primary"]["mean"]


def test_downloads_and_saves_name_the_variant(service):
    """A preset keeps its name (whatever the draws); levers add a stable digest, different for
    different levers, so two variants' files never share a name."""
    def name(**levers):
        return service.variant(service.scenario_for({"scenario": "baseline", **levers})[0])

    assert name() == "baseline" and name(draws=30) == "baseline"
    a, b = name(fertility_multiplier=0.8), name(fertility_multiplier=0.8, class_size_cap_primary=45)
    assert a.startswith("baseline-custom-") and len(a) == len("baseline-custom-") + 8
    assert a == name(fertility_multiplier=0.8, draws=50) and a != b
