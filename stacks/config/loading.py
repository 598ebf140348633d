"""Loading: read a file (.tfvars or JSON), type-check each value, run the rules, one error for all problems."""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
import typing
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from stacks.config.errors import MAX_SHOWN_PROBLEMS, ConfigError, _shorten, _show_key
from stacks.config.rules import _RULES, _check_unique, config_warnings
from stacks.config.schema import ENVIRONMENT_DEFAULTS, EnvironmentConfig, config_keys
from stacks.tfvars import MAX_NESTING, MAX_NUMBER_LENGTH, TfvarsError, parse_tfvars

_TYPE_NAMES = {bool: "true or false", int: "a whole number", str: "a string"}


def _coerce(key: str, value: Any, wanted: Any, report: Callable[[str, str], None]) -> Any:
    """Type-check one value. bool is not an int here, and 2.0 is not 2."""
    if typing.get_args(wanted) == (str, Ellipsis):
        return _coerce_strings(key, value, report)
    if typing.get_origin(wanted) is tuple:
        return _coerce_pairs(key, value, report)
    if wanted is int and isinstance(value, bool) or not isinstance(value, wanted):
        report(key, f"must be {_TYPE_NAMES[wanted]}")
        return dataclasses.MISSING
    return value


def _coerce_strings(key: str, value: Any, report: Callable[[str, str], None]) -> Any:
    """A list of strings, as a tuple."""
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return tuple(value)
    if key == "allowed_account_ids":
        report(key, 'must be a list of account IDs as quoted strings, such as ["012345678901"]: a number would lose a leading zero')
    else:
        report(key, "must be a list of strings")
    return dataclasses.MISSING


def _coerce_pairs(key: str, value: Any, report: Callable[[str, str], None]) -> Any:
    """A list of [whole number, whole number] pairs, as a tuple of tuples."""
    def is_whole(item: Any) -> bool:
        return isinstance(item, int) and not isinstance(item, bool)

    if isinstance(value, (list, tuple)) and all(
        isinstance(pair, (list, tuple)) and len(pair) == 2 and all(map(is_whole, pair)) for pair in value
    ):
        return tuple(tuple(pair) for pair in value)
    report(key, "must be a list of [visible_messages, tasks] pairs of whole numbers, such as [[1, 1], [50, 5]]")
    return dataclasses.MISSING


def _position(text: str, pos: int) -> str:
    """``line L, column C`` (1-based) of character ``pos`` of ``text``."""
    line = text.count("\n", 0, pos) + 1
    return f"line {line}, column {pos - (text.rfind(chr(10), 0, pos) + 1) + 1}"


def _decode(path: Path, data: bytes) -> str:
    """UTF-8 text without a leading byte order mark (Terraform accepts one)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        before = data[line_start : error.start].decode("utf-8", errors="replace").removeprefix("\ufeff")
        raise ConfigError(
            [f"{path}: line {line}, column {len(before) + 1}: not valid UTF-8 (byte 0x{data[error.start]:02x}); save the file as UTF-8"]
        ) from None
    return text.removeprefix("\ufeff")


# The tokens that matter for nesting and keys: strings, brackets and colons.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}:]', re.DOTALL)


def _json_too_deep(text: str) -> int | None:
    """Where lists and objects first nest deeper than a value may (the outer object is one more)."""
    depth = 0
    for token in _JSON_TOKEN.finditer(text):
        char = token.group()[0]
        if char in "[{":
            depth += 1
            if depth > MAX_NESTING + 1:
                return token.start()
        elif char in "]}":
            depth -= 1
    return None


def _json_duplicate_keys(text: str) -> list[tuple[int, str]]:
    """(position, key) of every key set again in the same object of valid JSON text."""
    found: list[tuple[int, str]] = []
    objects: list[set[str] | None] = []
    tokens = list(_JSON_TOKEN.finditer(text))
    for index, token in enumerate(tokens):
        lexeme = token.group()
        if lexeme in "[{":
            objects.append(set() if lexeme == "{" else None)
        elif lexeme in "]}":
            objects.pop()
        elif lexeme.startswith('"') and index + 1 < len(tokens) and tokens[index + 1].group() == ":":
            key = json.loads(lexeme)
            seen = objects[-1]
            if seen is not None:
                if key in seen:
                    found.append((token.start(), key))
                seen.add(key)
    return found


class _NumberTooLong(ValueError):
    pass


def _parse_int(literal: str) -> int:
    if len(literal) > MAX_NUMBER_LENGTH:
        raise _NumberTooLong(literal)
    return int(literal)


def _read_json(path: Path, text: str) -> Mapping[str, Any]:
    deep = _json_too_deep(text)
    if deep is not None:
        raise ConfigError([f"{path}: {_position(text, deep)}: lists and objects nest deeper than {MAX_NESTING} levels"])
    duplicated: list[str] = []

    def unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, value in pairs:
            if key in values:
                duplicated.append(key)
            values[key] = value
        return values

    try:
        values = json.loads(text, object_pairs_hook=unique_pairs, parse_int=_parse_int)
    except json.JSONDecodeError as error:
        raise ConfigError([f"{path}: line {error.lineno}, column {error.colno}: invalid JSON: {error.msg}"]) from None
    except _NumberTooLong as error:
        where = _position(text, text.find(str(error)))
        raise ConfigError([f"{path}: {where}: number literal longer than {MAX_NUMBER_LENGTH} characters"]) from None
    if duplicated:
        # Terraform rejects a key set twice; json.loads would keep the last value.
        located = _json_duplicate_keys(text) or [(None, key) for key in duplicated]
        raise ConfigError(
            [
                f"{path}: {_position(text, pos) + ': ' if pos is not None else ''}key {_shorten(key)} is set more than once in one object"
                for pos, key in located
            ]
        )
    if not isinstance(values, dict):
        raise ConfigError([f"{path}: must hold a JSON object of key/value pairs"])
    return values


def _read(path: Path) -> Mapping[str, Any]:
    """Parse one file by its suffix; errors name the file and the position."""
    if not path.name.endswith((".json", ".tfvars")):
        raise ConfigError([f"{path}: unknown file type; allowed: .tfvars, .tfvars.json or .json"])
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except OSError as error:
        raise ConfigError([f"{path}: cannot be read ({error.strerror or error})"]) from None
    text = _decode(path, data)
    if path.name.endswith(".json"):
        return _read_json(path, text)
    try:
        return parse_tfvars(text)
    except TfvarsError as error:
        raise ConfigError([f"{path}: {error}"]) from None


# Keys that were renamed: the unknown-key message says what replaced them.
_REPLACED_KEYS = {"state_key": "state_key_prefix; layer L keeps its state at <state_key_prefix>/L.tfstate"}


def _alternate(value: Any) -> Any:
    """A value of the same type that differs from ``value`` (see _check_rules)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    return (*value, value[0]) if value else ("x",)


def _check_rules(values: dict[str, Any], broken: Mapping[str, Any], report: Callable[..., None]) -> EnvironmentConfig:
    """Run every rule; with keys whose value was unusable, only what does not depend on them.

    A broken key (a wrong type, a missing required key) gets a stand-in
    value. The rules run twice, with two different stand-ins, and only the
    problems both runs find are reported: a problem that depends on a broken
    key changes with its stand-in (or appears in one run only), while every
    other key's problems stay the same. So one run lists the type errors and
    the value problems of all other keys together.
    """
    runs: list[list[tuple[str, str, str | None]]] = []
    config = None
    for stand_ins in (dict(broken), {key: _alternate(value) for key, value in broken.items()}):
        found: list[tuple[str, str, str | None]] = []
        config = EnvironmentConfig(**values, **stand_ins)

        def collect(key: str, message: str, got: str | None = None) -> None:
            found.append((key, message, got))

        for rule in _RULES:
            rule(config, collect)
        runs.append(found)
        if not broken:
            break
    keep = set(runs[-1])
    for key, message, got in runs[0]:
        if (key, message, got) in keep and key not in broken:
            report(key, message, got)
    assert config is not None
    return config


def load_config(path: str | Path, warnings: list[str] | None = None) -> EnvironmentConfig:
    """Read and validate one environment's file.

    Raises one ConfigError with every problem: syntax errors stop at the
    first (the rest of the file cannot be read), everything else is
    collected: wrong types, unknown and missing keys, and the rules of all
    keys whose value could be used. ``warnings`` (when given) gets the
    config's warnings, each starting with the file name.
    """
    path = Path(path)
    raw = _read(path)
    problems: list[str] = []

    def report(key: str, message: str, got: str | None = None) -> None:
        shown = got if got is not None else _shorten(raw[key]) if key in raw else "the default"
        problems.append(f"{path}: {key}: {message}; got {shown}")

    fields = {f.name: f for f in config_keys()}
    hints = typing.get_type_hints(EnvironmentConfig)
    values: dict[str, Any] = {}
    broken: dict[str, Any] = {}
    unknown = 0
    for key, value in raw.items():
        if key not in fields:
            hint = ""
            if key in _REPLACED_KEYS:
                hint = f" ({key} was replaced by {_REPLACED_KEYS[key]})"
            elif unknown < MAX_SHOWN_PROBLEMS and len(key) <= 64:  # difflib is slow; only what is shown
                close = difflib.get_close_matches(key, fields, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
            unknown += 1
            problems.append(f"{path}: {_show_key(key)}: unknown key{hint}")
            if unknown == 1:  # once, right after the first: the message may cut the rest
                problems.append(f"{path}: allowed keys: {', '.join(sorted(fields))}")
            continue
        checked = _coerce(key, value, hints[key], report)
        if checked is dataclasses.MISSING:
            broken[key] = fields[key].default
        else:
            values[key] = checked
    for name, spec in fields.items():
        if name not in raw and spec.default is dataclasses.MISSING:
            problems.append(f"{path}: {name}: required key is missing; allowed: {spec.metadata['allowed']}")
            broken[name] = "missing"
    for name, stand_in in broken.items():
        if stand_in is dataclasses.MISSING:  # a required key of the wrong type
            broken[name] = "missing"
    for key, default in ENVIRONMENT_DEFAULTS.items():
        if key not in raw and isinstance(values.get("environment"), str):
            values[key] = default(values["environment"])
    config = _check_rules(values, broken, report)
    if problems:
        raise ConfigError(problems)
    if warnings is not None:
        warnings.extend(f"{path}: {warning}" for warning in config_warnings(config))
    return config



def load_configs(paths: Sequence[str | Path], warnings: list[str] | None = None) -> list[EnvironmentConfig]:
    """Load several environments; also reject clashes between them (and a file given twice).

    ``warnings`` (when given) gets every config's warnings, each starting
    with its file name.
    """
    if not paths:
        raise ConfigError(["no config files given; allowed: one or more .tfvars, .tfvars.json or .json files"])
    configs: list[EnvironmentConfig] = []
    problems: list[str] = []
    loaded: list[Path] = []
    first_given: dict[Any, int] = {}
    given = [Path(path) for path in paths]
    for index, path in enumerate(given):
        first = given[first_given.setdefault(_file_identity(path), index)]
        if first_given[_file_identity(path)] != index:
            problems.append(f"{path}: given more than once (first as {first}); each file is one environment, so give it once")
            continue
        try:
            configs.append(load_config(path, warnings))
            loaded.append(path)
        except ConfigError as error:
            problems.extend(error.problems)
    if problems:
        raise ConfigError(problems)
    _check_unique(loaded, configs)
    return configs


def _file_identity(path: Path) -> Any:
    """The same for two spellings of one file (./a, a, a symlink to it)."""
    try:
        status = path.stat()
    except OSError:
        return path.absolute()
    return (status.st_dev, status.st_ino)

