"""Tests for the package layout (DESIGN §3): the import contracts hold and modules stay small."""

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import njforecast

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "njforecast"

#: Lines a module may have (DESIGN §3: "a module that grows past ~600 lines is two modules").
MAX_LINES = 650
#: Folders whose modules may be longer: a catalogue of models (DESIGN §3).
CATALOGUES = ("models",)
#: Modules over the limit that are being split right now (path relative to njforecast/ → who).
BEING_SPLIT: dict[str, str] = {}


def _lint_imports(config: Path) -> subprocess.CompletedProcess:
    """Run import-linter on ``config`` from the repository root (no cache)."""
    code = ("import sys; from importlinter.cli import lint_imports; "
            f"sys.exit(lint_imports(config_filename={str(config)!r}, no_cache=True))")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)


def _contracts() -> list[dict]:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["tool"]["importlinter"]["contracts"]


def test_import_contracts_are_kept():
    """The layers and no-cycles contracts in pyproject.toml hold (what `make lint` checks)."""
    done = _lint_imports(ROOT / "pyproject.toml")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_a_broken_layer_order_is_reported(tmp_path):
    """The check is not vacuous: schema placed above cli breaks the contract (cli imports it)."""
    config = tmp_path / "importlinter.toml"
    config.write_text('[tool.importlinter]\nroot_package = "njforecast"\n\n'
                      '[[tool.importlinter.contracts]]\nname = "upside down"\ntype = "layers"\n'
                      'layers = ["njforecast.schema", "njforecast.cli"]\n', encoding="utf-8")
    done = _lint_imports(config)
    assert done.returncode != 0 and "BROKEN" in done.stdout, done.stdout[-2000:]


def test_every_top_level_module_is_in_a_layer():
    """Each subpackage and top-level module of njforecast has its place in the layers contract."""
    layers = next(c for c in _contracts() if c["type"] == "layers")["layers"]
    placed = {name.strip().strip("()") for layer in layers for name in layer.split("|")}
    found = {f"njforecast.{m.name}" for m in pkgutil.iter_modules(njforecast.__path__)
             if m.name != "__main__"}
    assert found - placed == set()


def test_no_module_outside_the_catalogue_is_over_the_limit():
    """No module outside njforecast/models/ has more than 650 lines (those being split aside)."""
    long = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.split("/")[0] in CATALOGUES or rel in BEING_SPLIT:
            continue
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            long[rel] = n
    assert long == {}, f"modules over {MAX_LINES} lines (split them): {long}"
