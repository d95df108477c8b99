"""docs/configuration.md, made from the config classes themselves: each key's type and default from its field, its
description from the comments written above it and beside it in ``honyaku.core.config`` and
``honyaku.core.data_config`` (where a reader of the code finds them too).
``python -m honyaku.core.config_reference > docs/configuration.md`` writes it; ``tests/test_config.py`` checks
that the file is current and that every key has a description."""

from __future__ import annotations

import ast
import dataclasses
import html
import inspect
import io
import re
import tokenize
import types
import typing

from honyaku.core.config import Config, field_default, setting_text

INTRO = """# Configuration reference

An experiment is one YAML file with the sections below (`honyaku train CONFIG --out RUN`); a key left out keeps
its default, an unknown key or a value of the wrong type is refused with the key's dotted name, `base: FILE`
starts from another config, and `--set section.key=value` overrides a key on the command line. `configs/` holds
the project's own. This file is generated from `honyaku.core.config` by
`python -m honyaku.core.config_reference > docs/configuration.md`: edit the comments there, not this file."""


def descriptions(cls: type) -> dict[str, str]:
    """Each field of a config class with its description: the comment lines just above it and the comment beside
    it, joined; a field of a base class as the base describes it."""
    found: dict[str, str] = {}
    for base in reversed(cls.__mro__):
        if dataclasses.is_dataclass(base):
            found.update(_described_here(base))
    return found


def _described_here(cls: type) -> dict[str, str]:
    source = inspect.getsource(cls)
    lines = source.splitlines()
    beside = {
        token.start[0]: token.string.lstrip("# ").strip()
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT and lines[token.start[0] - 1].split("#")[0].strip()
    }
    (body,) = ast.parse(source).body
    found = {}
    for node in body.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            above, number = [], node.lineno - 1
            while number >= 1 and lines[number - 1].strip().startswith("#"):
                above.insert(0, lines[number - 1].strip().lstrip("# ").strip())
                number -= 1
            found[node.target.id] = " ".join([*above, beside.get(node.lineno, "")]).strip()
    return found


def type_text(annotation: object) -> str:
    """A field's type as a reader writes it in YAML terms: int, float or null, one of a | b, a list of …"""
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_text(argument) for argument in arguments)
    if origin is typing.Literal:
        return " \\| ".join(str(argument) for argument in arguments)
    if origin in (list, tuple):
        inner = type_text(arguments[0]) if arguments else "value"
        return f"list of {inner}" if origin is list else f"[{', '.join(type_text(a) for a in arguments)}]"
    if annotation is type(None):
        return "null"
    if dataclasses.is_dataclass(annotation):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    return getattr(annotation, "__name__", str(annotation))


def sections() -> list[tuple[list[str], type]]:
    """Every config class with the dotted keys it is found under, breadth first from the top."""
    found: list[tuple[list[str], type]] = []
    queue: list[tuple[str, type]] = [("", Config)]
    while queue:
        key, cls = queue.pop(0)
        known = next((keys for keys, seen in found if seen is cls), None)
        if known is not None:
            known += [key] if key not in known else []
            continue
        found.append(([key], cls))
        hints = typing.get_type_hints(cls)
        for entry in dataclasses.fields(cls):
            for inner in _dataclasses_in(hints[entry.name]):
                queue.append((f"{key}.{entry.name}".lstrip("."), inner))
    return found


def _dataclasses_in(annotation: object) -> list[type]:
    if dataclasses.is_dataclass(annotation):
        return [annotation]
    return [inner for argument in typing.get_args(annotation) for inner in _dataclasses_in(argument)]


def reference() -> str:
    parts = [INTRO]
    for keys, cls in sections():
        hints = typing.get_type_hints(cls)
        described = descriptions(cls)
        where = ", ".join(f"`{key}`" for key in keys)
        title = f"{where}: {cls.__name__}" if keys != [""] else f"The whole file: {cls.__name__}"
        doc = inspect.getdoc(cls) if cls.__doc__ and not cls.__doc__.startswith(f"{cls.__name__}(") else ""
        rows = ["| key | type | default | description |", "|---|---|---|---|"]
        for entry in dataclasses.fields(cls):
            default = "" if _default_is_section(entry) else f"`{setting_text(field_default(entry))}`"
            text = html.escape(re.sub(r"\s+", " ", described.get(entry.name, "")), quote=False).replace("|", "\\|")
            rows.append(f"| `{entry.name}` | {type_text(hints[entry.name])} | {default} | {text} |")
        doc = html.escape(doc, quote=False)
        parts += [f'## <a id="{cls.__name__.lower()}"></a>{title}', *([doc] if doc else []), "\n".join(rows)]
    return "\n\n".join(parts) + "\n"


def _default_is_section(entry: dataclasses.Field) -> bool:
    return dataclasses.is_dataclass(field_default(entry))


if __name__ == "__main__":
    print(reference(), end="")
