"""Reading a config: its YAML file (with ``base:`` files under it), ``--set`` overrides, and the typed, validated
``Config`` made of them, every unknown key and wrong type refused with its dotted name."""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from pathlib import Path
from typing import Any, Literal, Union

import yaml

from honyaku.core.config import Config, ModelConfig
from honyaku.core.errors import HonyakuError

# libyaml's parser where PyYAML was built with it: ten times as fast as the pure-Python one (8 ms for a run's config)
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """``text``'s YAML, as ``yaml.safe_load`` reads it; raises ``yaml.YAMLError``."""
    return yaml.load(text, Loader=SAFE_LOADER)


def load_config(path: str | Path, overrides: list[str] | None = None) -> Config:
    """Read a config file (and the files it names as ``base``), override (``section.key=value`` strings, values
    parsed as YAML) and validate it."""
    raw = _read_with_bases(Path(path), ())
    for override in overrides or []:
        _apply_override(raw, override)
    return config_from_dict(raw, str(path))


def _read_with_bases(path: Path, children: tuple[Path, ...]) -> dict[str, Any]:
    """A config file's mapping with its ``base`` (a config file, relative to this one) resolved under it: the
    base's settings, then this file's on top of them, section by section and key by key."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        named_by = f" (the base of {children[-1]})" if children else ""
        raise HonyakuError(f"{path}: config file not found{named_by}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise HonyakuError(f"{path}: cannot read config: {error}") from None
    try:
        raw = parse_yaml(text) or {}
    except yaml.YAMLError as error:
        raise HonyakuError(f"{path}: invalid YAML: {error}".replace("\n", " ")) from None
    if not isinstance(raw, dict):
        raise HonyakuError(f"{path}: expected a mapping of sections at the top level")
    if "base" not in raw:
        return raw
    base = raw.pop("base")
    if not isinstance(base, str) or not base:
        raise HonyakuError(f"{path}: base: expected the path of a config file, got {base!r}")
    base_path = path.parent / base
    chain = (*children, path)
    if base_path.resolve() in {p.resolve() for p in chain}:
        circle = " → ".join(str(p) for p in (*chain, base_path))
        raise HonyakuError(f"{path}: config files name each other as base in a circle: {circle}")
    return _merged(_read_with_bases(base_path, chain), raw)


def _merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        both_mappings = isinstance(value, dict) and isinstance(base.get(key), dict)
        merged[key] = _merged(base[key], value) if both_mappings else value
    return merged


def config_from_dict(raw: dict[str, Any], source: str = "config") -> Config:
    try:
        config = _build(Config, raw, "")
        config.validate()
    except HonyakuError as error:
        raise HonyakuError(f"{source}: {error}") from None
    return config


def model_config_from_dict(raw: Any, where: str) -> ModelConfig:
    """A validated ``model`` section read from elsewhere than a config file (an ensemble's member)."""
    try:
        model = _build(ModelConfig, raw, "model")
        model.validate("model")
    except HonyakuError as error:
        raise HonyakuError(f"{where}: {error}") from None
    return model


def _apply_override(raw: dict[str, Any], override: str) -> None:
    key, sep, value = override.partition("=")
    if not sep or not key:
        raise HonyakuError(f"--set {override!r}: expected section.key=value")
    *parents, leaf = key.split(".")
    node = raw
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise HonyakuError(f"--set {override!r}: {part!r} is not a section")
    try:
        node[leaf] = parse_yaml(value)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or "not a YAML value"
        raise HonyakuError(f"--set {override}: the value is not valid YAML ({problem})") from None


def _build(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise HonyakuError(f"{where or 'top level'}: expected a mapping, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    values = {}
    for key, value in raw.items():
        dotted = f"{where}.{key}" if where else str(key)
        if key not in fields:
            close = difflib.get_close_matches(str(key), sorted(fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(sorted(fields))})"
            raise HonyakuError(f"unknown key {dotted!r}{hint}")
        values[key] = _coerce(hints[key], value, dotted)
    return cls(**values)


def _coerce(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None:
            if type(None) in options:
                return None
            raise HonyakuError(f"{where}: must not be null")
        inner = [option for option in options if option is not type(None)]
        if len(inner) > 1:  # a value or a list of them: the list option takes a list
            inner = [o for o in inner if (typing.get_origin(o) is list) == isinstance(value, list)]
        return _coerce(inner[0], value, where)
    if origin is Literal:
        allowed = typing.get_args(hint)
        if value not in allowed:
            raise HonyakuError(f"{where}: must be one of {', '.join(map(str, allowed))}, got {value!r}")
        return value
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where)
    if origin is list:
        if not isinstance(value, list):
            raise HonyakuError(f"{where}: expected a list, got {value!r}")
        (item_hint,) = typing.get_args(hint)
        return [_coerce(item_hint, item, f"{where}[{i}]") for i, item in enumerate(value)]
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise HonyakuError(f"{where}: expected a list of {len(args)} values, got {value!r}")
        return tuple(_coerce(arg, item, f"{where}[{i}]") for i, (arg, item) in enumerate(zip(args, value)))
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hint in (int, str, bool) and type(value) is hint:
        return value
    if hint is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise HonyakuError(f"{where}: expected {getattr(hint, '__name__', hint)}, got {value!r}")
