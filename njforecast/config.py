"""Typed, frozen experiment configuration loaded from TOML; paths of the bundled data.

Public names:
    data_dir(), raw_dir(), external_dir(), processed_dir(): where the bundled data live;
    RunConfig, load_config(path): the experiment config (``experiments/*/config.toml``).

No side effects on import. The data directory is ``$NJFORECAST_DATA`` when set, otherwise the
``data/`` folder of the repository this package was installed from.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """Root of the data tree (``raw/``, ``external/``, ``processed/``)."""
    env = os.environ.get("NJFORECAST_DATA")
    return Path(env) if env else REPO_ROOT / "data"


def raw_dir() -> Path:
    """Immutable files as received (``data/raw``)."""
    return data_dir() / "raw"


def external_dir() -> Path:
    """Third-party reference inputs and region definitions (``data/external``)."""
    return data_dir() / "external"


def processed_dir() -> Path:
    """Frames rebuilt by ``njforecast data build`` (``data/processed``)."""
    return data_dir() / "processed"


class ConfigError(ValueError):
    """A config file is missing, unreadable or has a bad value (message names file and key)."""


@dataclass(frozen=True)
class RunConfig:
    """One experiment or pipeline run.

    Attributes:
        name: experiment name (MLflow experiment and output folder).
        region: region id; ``data/external/regions/<region>.toml`` defines its areas.
        base_year: census year the projection starts from.
        end_year: last projected year (inclusive).
        draws: Monte Carlo draws for uncertainty (0 = point projection only).
        seed: random seed; same config + data + seed gives identical numbers.
        output_dir: folder for outputs (relative to the working directory).
        tracking_uri: MLflow tracking URI (default ``sqlite:///mlflow.db``).
        sections: every other TOML table, kept verbatim for the stage that owns it
            (e.g. ``demography``, ``enrolment``, ``teachers``, ``backtest``, ``scenarios``).
        path: file the config was read from.
    """

    name: str = "neijiang-baseline"
    region: str = "neijiang"
    base_year: int = 2020
    end_year: int = 2035
    draws: int = 200
    seed: int = 20201101
    output_dir: str = "outputs"
    tracking_uri: str = "sqlite:///mlflow.db"
    sections: dict[str, Any] = field(default_factory=dict)
    path: str | None = None

    def section(self, name: str) -> dict[str, Any]:
        """The TOML table ``[name]`` (empty dict when absent)."""
        return dict(self.sections.get(name, {}))


_TYPES = {"name": str, "region": str, "base_year": int, "end_year": int, "draws": int,
          "seed": int, "output_dir": str, "tracking_uri": str}


def load_config(path: str | Path) -> RunConfig:
    """Read a run config from TOML.

    Top-level keys (all optional) are the RunConfig attributes; tables go to ``sections``.

    Raises:
        ConfigError: file missing, TOML syntax error, unknown top-level key or wrong type.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found; pass the path of a TOML file such as "
                          "experiments/neijiang-baseline/config.toml")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the syntax") from exc
    known = {f.name for f in fields(RunConfig)} - {"sections", "path"}
    kwargs: dict[str, Any] = {}
    sections: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            sections[key] = value
        elif key in known:
            want = _TYPES[key]
            if not isinstance(value, want) or isinstance(value, bool):
                raise ConfigError(f"{path}: key '{key}' must be {want.__name__}, got {value!r}")
            kwargs[key] = value
        else:
            raise ConfigError(f"{path}: unknown key '{key}'; known keys: {', '.join(sorted(known))}")
    cfg = RunConfig(**kwargs, sections=sections, path=str(path))
    if cfg.end_year < cfg.base_year:
        raise ConfigError(f"{path}: end_year {cfg.end_year} is before base_year {cfg.base_year}")
    if cfg.draws < 0:
        raise ConfigError(f"{path}: draws must be >= 0, got {cfg.draws}")
    return cfg
