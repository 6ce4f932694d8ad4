"""Tests for njforecast.config: typed tables, unknown names with suggestions, the CLI's exit 2."""

import dataclasses
import os
import re
import subprocess
import sys

import pytest

from njforecast import config as C
from njforecast.config import REPO_ROOT, ConfigError, RunConfig, load_config


def _write(tmp_path, text: str, name: str = "c.toml"):
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return f


def _error(tmp_path, text: str) -> str:
    """The ConfigError message load_config gives for ``text`` (it must start with the path)."""
    f = _write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_config(f)
    msg = str(exc.value)
    assert msg.startswith(f"{f}: "), msg
    return msg


def test_unknown_section_names_nearest_section(tmp_path):
    """A misspelt table is named with the nearest known table."""
    msg = _error(tmp_path, '[enrolmnet]\nrate_path = "trend"\n')
    assert msg.endswith("unknown section [enrolmnet]; did you mean [enrolment]?")


def test_unknown_section_lists_known_when_nothing_is_close(tmp_path):
    """A table unlike any known one gets the list of known tables."""
    msg = _error(tmp_path, "[xyzzy]\na = 1\n")
    assert "unknown section [xyzzy]; known: [demography], [enrolment], [teachers]" in msg


def test_scenario_table_in_run_config_is_rejected(tmp_path):
    """A [scenario] table in a run config (never read from there) says where it belongs."""
    msg = _error(tmp_path, "[scenario]\nfertility_multiplier = 0.7\n")
    assert "[scenario] is not read from a run config" in msg and "scenario run" in msg


def test_unknown_key_names_nearest_key(tmp_path):
    """A misspelt key is named with its table and the nearest known key."""
    msg = _error(tmp_path, '[enrolment]\nrate_pth = "trend"\n')
    assert msg.endswith("unknown key 'rate_pth' in [enrolment]; did you mean 'rate_path'?")


def test_unknown_key_lists_known_keys_when_nothing_is_close(tmp_path):
    """A key unlike any known one gets the table's known keys."""
    msg = _error(tmp_path, "[capacity]\nzzz = 1\n")
    assert "unknown key 'zzz' in [capacity]; known: 'base_rule', 'base_utilisation'" in msg


def test_top_level_keys_are_checked(tmp_path):
    """Unknown top-level keys get the nearest name; a table's key at top level is sent to it."""
    assert _error(tmp_path, "seeds = 3\n").endswith(
        "unknown top-level key 'seeds'; did you mean 'seed'?")
    assert "move it under [enrolment]" in _error(tmp_path, 'rate_path = "trend"\n')


@pytest.mark.parametrize("text,words", [
    ('[teachers]\nattrition = "high"\n', "[teachers] attrition must be a number >= 0 and < 1, "
                                         "got 'high'"),
    ("[demography]\nlocal_births = 1\n", "[demography] local_births must be true or false, got 1"),
    ("draws = 2.5\n", "draws must be an integer, got 2.5"),
    ("seed = true\n", "seed must be an integer, got True"),
    ('[report]\nfan_indicators = "x"\n', "[report] fan_indicators must be a list, each item a "
                                         "string, got 'x'"),
    ("[demography]\nfertility_ages = [15]\n", "[demography] fertility_ages must be a list of 2"),
    ('[enrolment]\nbands = {preschool = [3, "5"]}\n', "[enrolment.bands] preschool[1] must be an "
                                                      "integer, got '5'"),
    ("[enrolment]\nmax_ger = nan\n", "[enrolment] max_ger must be a finite number, got nan"),
    ('enrolment = "trend"\n', "'enrolment' must be a table ([enrolment]), got 'trend'"),
])
def test_wrong_type_names_table_key_type_and_value(tmp_path, text, words):
    """A value of the wrong type is named with its table, key, expected type and value."""
    assert words in _error(tmp_path, text)


@pytest.mark.parametrize("table,key,value,allowed,nearest", [
    ("enrolment", "rate_path", "trnd", "hold, target, trend, external, model", "trend"),
    ("enrolment", "consolidation_path", "targt", "hold, target, trend", "target"),
    ("teachers", "method", "class_sise", "standard, class_size, area_ratio", "class_size"),
    ("teachers", "base_supply", "province", "standard, province_ratio", "province_ratio"),
    ("teachers", "ratio_path", "modle", "linear, trend, model", "model"),
    ("capacity", "phase_in", "ends", "linear, end", "end"),
    ("demography", "fertility_path", "meduim", "constant, medium, trend, low, high", "medium"),
    ("demography", "migration_source", "provinces", "auto, province, none", "province"),
])
def test_bad_enum_value_names_allowed_and_nearest(tmp_path, table, key, value, allowed, nearest):
    """A value outside its set is named with the allowed values and the nearest one."""
    msg = _error(tmp_path, f'[{table}]\n{key} = "{value}"\n')
    assert msg.endswith(f"[{table}] {key} = '{value}' is not allowed; use one of {allowed} "
                        f"(did you mean '{nearest}'?)")


@pytest.mark.parametrize("text,words", [
    ("draws = -1\n", "draws = -1 is out of range; it must be >= 0"),
    ("[teachers]\nattrition = 1.0\n", "[teachers] attrition = 1.0 is out of range; it must be "
                                      ">= 0 and < 1"),
    ("[capacity]\nbase_utilisation = 0\n", "[capacity] base_utilisation = 0.0 is out of range; "
                                           "it must be > 0"),
    ("[enrolment]\ndamping = 1.5\n", "[enrolment] damping = 1.5 is out of range"),
    ("end_year = 2100\n", "end_year 2100 is after 2050, the last year the engine projects; "
                          "set end_year to 2050 or earlier"),
    ('region = "neijang"\n', "unknown region 'neijang'; did you mean 'neijiang'?"),
    ('region = "nowhere/r.toml"\n', "region = 'nowhere/r.toml': file not found"),
])
def test_numbers_out_of_range(tmp_path, text, words):
    """Numbers outside their obvious range are rejected with the bound."""
    assert words in _error(tmp_path, text)


def test_nested_tables_check_their_keys(tmp_path):
    """[enrolment.ceilings] takes band names and [backtest.model_options.<model>] anything."""
    f = _write(tmp_path, "[enrolment.ceilings]\npreschool = 95\ncompulsory_consolidation_rate = 98\n"
               '[backtest]\nobservations = "o.csv"\nindicators = ["primary_enrolment"]\n'
               "horizon = 2\nwindows = 2\n[backtest.model_options.prophet]\nanything = 1\n"
               "[backtest.model_options.prophet.deeper]\nz = [1, 'a']\n")
    cfg = load_config(f)
    assert cfg.enrolment.ceilings == {"preschool": 95.0, "compulsory_consolidation_rate": 98.0}
    assert cfg.backtest.model_options == {"prophet": {"anything": 1, "deeper": {"z": [1, "a"]}}}
    assert _error(tmp_path, "[enrolment.ceilings]\npreschol = 95\n").endswith(
        "unknown key 'preschol' in [enrolment.ceilings]; did you mean 'preschool'?")
    msg = _error(tmp_path, '[backtest]\nobservations = "o.csv"\nindicators = ["x"]\nhorizon = 2\n'
                 "windows = 2\n[backtest.model_options.prohpet]\na = 1\n")
    assert msg.endswith("unknown key 'prohpet' in [backtest.model_options]; did you mean 'prophet'?")


def test_backtest_required_keys(tmp_path):
    """A [backtest] table without one of its required keys is named at load time."""
    msg = _error(tmp_path, '[backtest]\nobservations = "o.csv"\nhorizon = 2\nwindows = 2\n')
    assert "[backtest] needs key 'indicators'" in msg


def test_bundled_experiment_configs_load():
    """Every experiments/*/config.toml loads and every table has a typed view."""
    files = sorted((REPO_ROOT / "experiments").glob("*/config.toml"))
    assert len(files) >= 3
    for f in files:
        cfg = load_config(f)
        for name in cfg.sections:
            assert dataclasses.is_dataclass(getattr(cfg, name)), (f, name)


def test_typed_view_gives_defaults_and_section_only_set_keys(tmp_path):
    """Typed views give the default for unset keys; section() still returns only the set keys."""
    cfg = load_config(_write(tmp_path, '[enrolment]\nconsolidation_path = "trend"\n'))
    assert cfg.enrolment.consolidation_path == "trend" and cfg.enrolment.rate_path == "hold"
    assert cfg.enrolment.bands["senior"] == (15, 17) and cfg.enrolment.damping is None
    assert cfg.teachers.base_supply == "standard" and cfg.capacity.base_utilisation == 100.0
    assert cfg.demography.max_age == 24 and cfg.backtest is None
    assert cfg.section("enrolment") == {"consolidation_path": "trend"}
    assert cfg.section("teachers") == {} and set(cfg.sections) == {"enrolment"}


def test_run_config_stays_frozen_and_replaceable(tmp_path):
    """RunConfig is frozen; replace() of sections or end_year works and the views follow."""
    cfg = load_config(_write(tmp_path, 'end_year = 2030\n[enrolment]\nrate_path = "trend"\n'))
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.end_year = 2040
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.enrolment.rate_path = "hold"
    new = dataclasses.replace(cfg, sections={**cfg.sections, "enrolment": {"rate_path": "model"}},
                              end_year=2032)
    assert new.enrolment.rate_path == "model" and new.end_year == 2032
    assert cfg.enrolment.rate_path == "trend" and cfg.end_year == 2030


def test_typed_view_checks_sections_built_in_code():
    """A RunConfig built in code without a file is checked when its typed view is read."""
    cfg = RunConfig(sections={"teachers": {"method": "clas_size"}})
    assert cfg.section("teachers") == {"method": "clas_size"}
    with pytest.raises(ConfigError, match=r"^config: \[teachers\] method = 'clas_size' .*'class_size'"):
        _ = cfg.teachers


def test_vocabularies_match_the_stages():
    """The config's allowed names equal the stage modules' own (bands, GER ids, models, paths)."""
    from njforecast import demography as dem
    from njforecast.education import enrolment as enr
    from njforecast.models import MODELS

    assert C.BANDS == tuple(enr.DEFAULT_BANDS) and C.GER_IDS == tuple(enr.BAND_GER.values())
    assert C.EnrolmentConfig().bands == enr.DEFAULT_BANDS
    assert C.MODEL_NAMES == tuple(MODELS)
    assert C.FERTILITY_PATHS == dem.FERTILITY_PATHS
    assert C.MIGRATION_SOURCES == dem.MIGRATION_SOURCES
    want = dataclasses.asdict(dem.DemographicAssumptions())
    got = dataclasses.asdict(C.DemographyConfig())
    assert got.pop("max_age") == 24 and got == want


#: Where each table's keys are read: (file under njforecast/, name of the table's dict there).
READERS = {
    "enrolment": [("engine/project.py", "enr"), ("engine/enrolment.py", "enr"),
                  ("education/trend.py", "cfg"), ("io/ger_path.py", "cfg")],
    "teachers": [("engine/project.py", "tch"), ("engine/staffing.py", "tch")],
    "capacity": [("engine/project.py", "capc"), ("engine/staffing.py", "capc")],
}


@pytest.mark.parametrize("section,cls", [
    ("enrolment", C.EnrolmentConfig), ("teachers", C.TeachersConfig),
    ("capacity", C.CapacityConfig),
])
def test_every_key_a_stage_reads_is_known(section, cls):
    """Each key the engine reads from a table (x.get / x[...] / "k" in x) is a field."""
    read = set()
    for rel, var in READERS[section]:
        src = (REPO_ROOT / "njforecast" / rel).read_text(encoding="utf-8")
        read |= set(re.findall(rf'\b{var}(?:\.get\(|\[)"(\w+)"', src))
        read |= set(re.findall(rf'"(\w+)" in {var}\b', src))
    read -= {"seed"}  # the run's seed, passed into the teachers table by the engine
    assert len(read) >= 3
    assert read <= {f.name for f in dataclasses.fields(cls)}, read - {f.name for f in
                                                                      dataclasses.fields(cls)}


def test_cli_run_bad_config_exits_2_without_traceback(tmp_path):
    """`python -m njforecast run BAD.toml` exits 2 naming the key and its fix, no traceback."""
    f = _write(tmp_path, '[enrolment]\nrate_pth = "trend"\n', "bad.toml")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    r = subprocess.run([sys.executable, "-m", "njforecast", "run", str(f)], capture_output=True,
                       text=True, cwd=tmp_path, env=env, timeout=120)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "unknown key 'rate_pth' in [enrolment]; did you mean 'rate_path'?" in r.stderr
    assert "Traceback" not in r.stdout + r.stderr
