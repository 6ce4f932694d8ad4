"""Checking a table against its class: unknown keys and values named with the nearest known name."""

from __future__ import annotations

import difflib
import functools
import math
import types
from dataclasses import fields
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from .base import ConfigError
from .tables import _NOT_FROM_FILE, SECTIONS


# --- checking ---------------------------------------------------------------------------------


def _nearest(word: str, known) -> str | None:
    best = difflib.get_close_matches(word, list(known), n=1)
    return best[0] if best else None


def _unknown(path, what: str, word: str, known, fmt: str = "'{}'") -> ConfigError:
    """'PATH: unknown WHAT; did you mean X?' (or the known names when none is close)."""
    best = _nearest(word, known)
    hint = (f"did you mean {fmt.format(best)}?" if best
            else "known: " + ", ".join(fmt.format(k) for k in known))
    return ConfigError(f"{path}: unknown {what}; {hint}")


def _where(path, table: str | None, key: str) -> str:
    return f"{path}: [{table}] {key}" if table else f"{path}: {key}"


def _describe(tp) -> str:
    origin, args = get_origin(tp), get_args(tp)
    if origin is Annotated:
        return f"{_describe(args[0])} {args[1].text()}"
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in args if a is not type(None))
    if origin is Literal:
        return "one of " + ", ".join(map(str, args))
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list, each item {_describe(args[0])}"
        return f"a list of {len(args)} items, each {_describe(args[0])}"
    if origin is dict:
        return f"a table, each value {_describe(args[1])}"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false",
            Any: "any value"}.get(tp, str(tp))


def _kind(tp) -> str:
    """The TOML shape a type accepts (to pick the branch of a union)."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _kind(get_args(tp)[0])
    if origin is Literal or tp is str:
        return "str"
    return {tuple: "list", dict: "table"}.get(origin) or {bool: "bool", int: "number",
                                                         float: "number"}.get(tp, "any")


def _kind_of(v) -> str:
    if isinstance(v, bool):
        return "bool"
    return ("number" if isinstance(v, int | float) else "str" if isinstance(v, str)
            else "list" if isinstance(v, list) else "table" if isinstance(v, dict) else "other")


def _check(v, tp, path, table: str | None, key: str):
    """``v`` checked against ``tp`` (lists become tuples, numbers floats where typed float).

    Raises:
        ConfigError: wrong type, value outside an enumeration or a range, unknown table key.
    """
    where = _where(path, table, key)
    origin, args = get_origin(tp), get_args(tp)

    def wrong() -> ConfigError:
        return ConfigError(f"{where} must be {_describe(tp)}, got {v!r}")

    if tp is Any:
        return v
    if origin is Annotated:
        v = _check(v, args[0], path, table, key)
        if not args[1].ok(v):
            raise ConfigError(f"{where} = {v!r} is out of range; it must be {args[1].text()}")
        return v
    if origin in (Union, types.UnionType):
        fit = [a for a in args if a is not type(None) and _kind(a) in (_kind_of(v), "any")]
        if len(fit) != 1:
            raise wrong()
        return _check(v, fit[0], path, table, key)
    if origin is Literal:
        if not isinstance(v, str):
            raise wrong()
        if v not in args:
            best = _nearest(v, args)
            raise ConfigError(f"{where} = {v!r} is not allowed; use one of {', '.join(args)}"
                              + (f" (did you mean '{best}'?)" if best else ""))
        return v
    if origin is tuple:
        if not isinstance(v, list):
            raise wrong()
        items = [args[0]] * len(v) if len(args) == 2 and args[1] is Ellipsis else list(args)
        if len(items) != len(v):
            raise wrong()
        return tuple(_check(x, t, path, table, f"{key}[{i}]")
                     for i, (x, t) in enumerate(zip(v, items, strict=True)))
    if origin is dict:
        if not isinstance(v, dict):
            raise wrong()
        sub = f"{table}.{key}" if table else key
        key_tp = args[0]
        if get_origin(key_tp) is Literal:
            for k in v:
                if k not in get_args(key_tp):
                    raise _unknown(path, f"key '{k}' in [{sub}]", k, get_args(key_tp))
        return {k: _check(x, args[1], path, sub, k) for k, x in v.items()}
    if tp is bool:
        ok = isinstance(v, bool)
    elif tp is int:
        ok = isinstance(v, int) and not isinstance(v, bool)
    elif tp is float:
        ok = isinstance(v, int | float) and not isinstance(v, bool)
        if ok and not math.isfinite(v):
            raise ConfigError(f"{where} must be a finite number, got {v!r}")
        v = float(v) if ok else v
    else:
        ok = isinstance(v, tp)
    if not ok:
        raise wrong()
    return v


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls, include_extras=True)


def parse_section(name: str, table: dict[str, Any], path: str | Path = "config"):
    """The typed view of table ``[name]`` (e.g. ``parse_section("enrolment", {...})``).

    Raises:
        ConfigError: unknown table or key, wrong type, bad value, missing required key.
    """
    if name not in SECTIONS:
        if name in _NOT_FROM_FILE:
            raise ConfigError(f"{path}: [{name}] is not read from a run config; put scenario "
                              "fields in a scenario file and run `njforecast scenario run "
                              f"FILE.toml --config {path}` (`njforecast run` runs the presets)")
        raise _unknown(path, f"section [{name}]", name, SECTIONS, "[{}]")
    cls = SECTIONS[name]
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: '{name}' must be a table ([{name}]), got {table!r}")
    hints = _hints(cls)
    kwargs = {}
    for key, value in table.items():
        if key not in hints:
            raise _unknown(path, f"key '{key}' in [{name}]", key, [f.name for f in fields(cls)])
        kwargs[key] = _check(value, hints[key], path, name, key)
    for f in fields(cls):
        if f.metadata.get("required") and f.name not in table:
            raise ConfigError(f"{path}: [{name}] needs key '{f.name}' "
                              f"({_describe(hints[f.name])})")
    return cls(**kwargs)
