"""Chinese figures with the bundled font, the county figure, and the page templates, on
SYNTHETIC frames (tests/reporting/test_reporting.py's random draws, not Neijiang's numbers)."""

import warnings
from pathlib import Path

import markupsafe
import pandas as pd
import pytest
from matplotlib import ft2font

import njforecast
from njforecast import reporting as rp
from njforecast import schema as S
from njforecast.io.plan import load_plan_targets
from njforecast.planning import targets as pt
from njforecast.planning.targets import BASIS_CITY_COPY
from njforecast.reporting import labels, render
from test_reporting import synthetic_results


@pytest.fixture(scope="module")
def res():
    return synthetic_results()


def _chinese(text: str) -> set[str]:
    return {c for c in text if ord(c) > 0x2E7F}


def test_bundled_font_is_used_and_covers_every_chinese_label(res):
    """cjk_font() is the shipped Noto Sans SC (not a system font), and every character of
    every Chinese label, area name and plan-target name is in that font's character map."""
    path = labels.bundled_cjk_font_path()
    assert path is not None and path.name == "NotoSansSC-Regular.otf"
    assert rp.cjk_font() == "Noto Sans SC"
    cmap = set(ft2font.FT2Font(str(path)).get_charmap())
    texts = [e["zh"] for e in (*labels.LABELS.values(), *labels.NAMES.values())]
    texts += list(res.region.names("zh").values())
    texts += list(load_plan_targets()[S.INDICATOR_ZH].dropna())
    chars = set().union(*map(_chinese, texts))
    assert len(chars) > 100
    assert not sorted(c for c in chars if ord(c) not in cmap)


@pytest.mark.parametrize("draw", ["fan", "county", "capacity", "teachers"])
def test_chinese_figures_have_no_missing_glyphs(res, draw):
    """Chinese figures draw every glyph: matplotlib's "Glyph … missing from font" warning is an
    error here, and the text really is Chinese (the figure did not fall back to English)."""
    names = res.region.names("zh")
    tables = res.tables()
    fig = {"fan": lambda: rp.fan_chart(res.target_summary(), "senior_stage_ger", "511000",
                                       "zh", 95, 2025, area_names=names),
           "county": lambda: rp.county_change_chart(
               tables["enrolment"], tables["capacity"], [a.code for a in res.region.counties],
               2020, 2030, "zh", names),
           "capacity": lambda: rp.capacity_chart(tables["capacity"], "zh", names),
           "teachers": lambda: rp.teachers_chart(res.teachers, "511000", "zh", names)}[draw]()
    text = "".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))
    assert _chinese(text)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from font")
        out = rp.save_figure_bytes(fig)
    assert out["png"][:4] == b"\x89PNG" and out["svg"].lstrip().startswith(b"<?xml")


def test_county_panels_that_repeat_the_city_are_replaced(res):
    """Counties whose rows are the city's rate get no small multiples (named in a note); the
    figure of what differs by county is drawn instead; own county series keep their panels."""
    gaps = pt.compare_to_targets(res.target_series, load_plan_targets(), years=[2025])
    tables = res.tables()
    own, note = render.figure_jobs(res, gaps, "en", "en", None, tables, (2020, 2030))
    stems = [j.stem for j in own]
    assert "counties_senior_stage_ger" in stems and note == ""
    assert "counties_enrolment_utilisation" in stems
    county = gaps[S.SCOPE].str.startswith("county", na=False)
    copy = gaps.assign(**{S.BASIS: gaps[S.BASIS].where(~county, BASIS_CITY_COPY)})
    jobs, note = render.figure_jobs(res, copy, "en", "en", None, tables, (2020, 2030))
    stems = [j.stem for j in jobs]
    assert not [s for s in stems if s.startswith("counties_") and "enrolment" not in s]
    assert "counties_enrolment_utilisation" in stems
    assert "No county panels for" in note and "Senior-stage GER (%)" in note
    # the same counties said once: one "city assumption applied to counties" row per target
    once = pd.concat([gaps[~county], gaps[county].drop_duplicates(S.INDICATOR).assign(
        **{S.SCOPE: pt.SCOPE_CITY_APPLIED, S.AREA: "511000", S.N_DRAWS: 0})])
    jobs, note = render.figure_jobs(res, once, "en", "en", None, tables, (2020, 2030))
    assert not [j for j in jobs if j.stem.startswith("counties_") and "enrolment" not in j.stem]
    assert "Senior-stage GER (%)" in note


def test_figures_of_targets_not_projected_or_absent(res):
    """A target after the last compared year, or no targets at all (a gaps frame whose text
    columns hold no text), gives the figures of what was projected and no county panels."""
    late = load_plan_targets().assign(**{S.TARGET_YEAR: 2040})
    tables = res.tables()
    for targets in (late, late.iloc[:0]):
        gaps = pt.compare_to_targets(res.target_series, targets, years=[2025, 2030])
        jobs, note = render.figure_jobs(res, gaps, "en", "en", None, tables, (2020, 2030))
        stems = [j.stem for j in jobs]
        assert not [s for s in stems if s.startswith(("fan_", "counties_"))
                    and "enrolment" not in s], stems
        assert "counties_enrolment_utilisation" in stems and note == ""


_FORK_CHECK = """
from njforecast.io.plan import load_plan_targets
from njforecast.planning import targets as pt
from njforecast.reporting import render
from test_reporting import synthetic_results

res = synthetic_results()
gaps = pt.compare_to_targets(res.target_series, load_plan_targets(), years=[2025])
jobs, _ = render.figure_jobs(res, gaps, "en", "en", ["senior_stage_ger"], res.tables(),
                             (2020, 2030))
forked = render.start_rendering(jobs, 1)
assert forked._pool is not None and 0 < len(forked._local) < len(jobs)
assert forked.result() == render.start_rendering(jobs, 0).result()
print("same bytes")
"""


def test_figures_drawn_in_workers_equal_those_drawn_here():
    """In a fresh single-threaded process (as the CLI's), part of the figures is drawn in a
    forked worker, and the bytes equal those drawn in-process."""
    import os
    import subprocess
    import sys

    here = Path(__file__).resolve().parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(here), str(here.parent), str(Path(njforecast.__file__).parent.parent)])}
    r = subprocess.run([sys.executable, "-c", _FORK_CHECK], capture_output=True, text=True,
                       env=env, timeout=300, check=False)
    assert r.returncode == 0 and "same bytes" in r.stdout, r.stderr[-2000:]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_leads_with_key_messages_and_escapes_text(res, tmp_path, lang):
    """The first section of the page is the key messages (3–6 items, in the page's language);
    text from the run is escaped (autoescape), so a scenario name cannot inject markup."""
    import dataclasses
    import re

    gaps = pt.compare_to_targets(res.target_series, load_plan_targets(), years=[2025, 2030])
    bad = dataclasses.replace(res, scenario="<script>x</script>")
    rp.write_report(bad, gaps, tmp_path, lang=lang, fan_indicators=["senior_stage_ger"],
                    figure_workers=0)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    first = re.search(r"<section[^>]*>(.*?)</section>", page, re.S)
    assert 'class="key"' in first.group(0)
    items = re.findall(r"<li>(.*?)</li>", first.group(1), re.S)
    want = rp.key_messages(res.tables(), res.projection_summary(), gaps, res.region.code,
                           res.region.names(lang), lang, res.config.base_year)
    assert 3 <= len(items) <= 6 and items == [str(markupsafe.escape(m)) for m in want]
    assert ("教师" if lang == "zh" else "Teachers needed") in page
    assert "<script>x" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    # the style sheet reaches the browser as CSS (quotes not escaped), and the font used for
    # the figures is a terminal note, not report text (unless the figures fell back)
    style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    assert "&#34;" not in style and '"Noto Sans SC"' in style
    assert "drawn with the font" not in page


def test_templates_are_package_data():
    """The templates ship with the package (pyproject package-data covers them)."""
    import tomllib

    here = Path(njforecast.__file__).parent / "reporting" / "templates"
    files = {p.name for p in here.iterdir()}
    assert {"report.html.j2", "tables.html.j2", "ex_post.html.j2", "report.css"} <= files
    pyproject = tomllib.loads((Path(njforecast.__file__).parent.parent / "pyproject.toml")
                              .read_text(encoding="utf-8"))
    data = pyproject["tool"]["setuptools"]["package-data"]["njforecast"]
    assert "reporting/templates/*" in data
    deps = " ".join(pyproject["project"]["dependencies"])
    assert "jinja2" in deps and "pylopdf-fonts-zh-cn" in deps


def test_no_fork_from_a_threaded_process(res):
    """With another thread running, every figure is drawn in this process (no worker pool)."""
    import threading

    gaps = pt.compare_to_targets(res.target_series, load_plan_targets(), years=[2025])
    jobs, _ = render.figure_jobs(res, gaps, "en", "en", ["senior_stage_ger"], res.tables(),
                                 (2020, 2030))
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        r = render.start_rendering(jobs, 1)
        assert r._pool is None and len(r._local) == len(jobs)
        assert set(r.result()) == {j.stem for j in jobs}
    finally:
        stop.set()
        t.join()


def test_split_balances_and_keeps_every_job_once():
    """LPT split of costs 3.5, 2.5, 1.5, 1×5 with 4 units of other work in this process: each
    job is drawn exactly once, shares keep report order and loads differ by at most the largest
    job (here 8 vs 8.5)."""
    jobs = [render.FigureJob(f"fan{i}", "", "fan_chart", {}) for i in range(5)] + [
        render.FigureJob("county", "", "f", {}, cost=1.5),
        render.FigureJob("cap", "", "f", {}, cost=2.5),
        render.FigureJob("teach", "", "f", {}, cost=3.5)]
    shares, local = render._split(jobs, 1, 4.0)
    drawn = [j.stem for s in shares for j in s] + [j.stem for j in local]
    assert sorted(drawn) == sorted(j.stem for j in jobs)
    assert [j.stem for j in shares[0]] == ["fan1", "fan3", "cap", "teach"]
    assert sum(j.cost for j in shares[0]) == 8.0 and 4.0 + sum(j.cost for j in local) == 8.5


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_figure_says_its_inputs_are_partly_estimated(res, lang):
    """With estimated rows in the tables every figure job carries the note, and the drawn
    figure holds it as text; with none estimated, no figure does."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from njforecast.reporting import figures

    gaps = pt.compare_to_targets(res.target_series, load_plan_targets(), years=[2025])
    tables = res.tables()
    want = labels.label("estimated_figure_note", lang)
    assert any((t[S.QUALITY] == "estimated").any() for t in tables.values()
               if S.QUALITY in t.columns)
    jobs, _ = render.figure_jobs(res, gaps, lang, lang, ["senior_stage_ger"], tables,
                                 (2020, 2030))
    assert jobs and all(j.note == want for j in jobs)
    fig = figures.foot_note(getattr(figures, jobs[0].func)(**jobs[0].kwargs), jobs[0].note)
    assert want in [t.get_text() for t in fig.texts]
    observed = {k: t.assign(**{S.QUALITY: "observed"}) if S.QUALITY in t.columns else t
                for k, t in tables.items()}
    jobs, _ = render.figure_jobs(res, gaps, lang, lang, ["senior_stage_ger"], observed,
                                 (2020, 2030))
    assert all(j.note == "" for j in jobs)


def test_period_total_fan_marks_its_target_at_its_year_only(res):
    """teachers_added_2021_2025 is drawn as rolling five-year sums: its target is a mark at
    2025 (no line across the later years) and the y axis says what the sums are."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from njforecast.reporting import figures

    ind = "teachers_added_2021_2025"
    ts = res.target_summary()
    city = res.region.code
    fig = figures.fan_chart(ts[ts[S.AREA] == city], ind, city, "en", target=4000.0,
                            target_year=2025)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "Sum over the 5 years ending in each year"
    flat = [ln for ln in ax.lines if len(set(ln.get_ydata())) == 1 and ln.get_ydata()[0] == 4000]
    assert not flat  # no horizontal target line
    marks = [c for c in ax.collections if len(c.get_offsets()) == 1]
    assert [tuple(c.get_offsets()[0]) for c in marks] == [(2025.0, 4000.0)]
    other = figures.fan_chart(ts[ts[S.AREA] == city], "senior_stage_ger", city, "en",
                              target=95.0, target_year=2025)
    assert [ln for ln in other.axes[0].lines if list(ln.get_ydata()) == [95.0, 95.0]]
