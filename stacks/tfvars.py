"""A reader for ``terraform.tfvars`` files.

Teams migrating from the HCL project pass their existing tfvars file
unchanged. A tfvars file holds ``name = value`` lines with literal values
only, so this reader supports exactly that subset of HCL: strings (with
escapes and heredocs), numbers, booleans, ``null``, lists/tuples and
maps/objects, and ``#``, ``//`` and ``/* */`` comments. Anything else (an
expression, a ``${...}`` template) is rejected with the line and column, as
Terraform itself would not take it from a variables file either.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

__all__ = ["MAX_NESTING", "TfvarsError", "parse_tfvars"]

# Lists and maps may nest this deep in one value (config values nest 2
# levels at most); deeper input is rejected before it can exhaust Python's
# recursion limit.
MAX_NESTING = 32
# Longest number literal read: int() refuses more than 4300 digits, and no
# config value needs more than a few.
MAX_NUMBER_LENGTH = 100


class TfvarsError(ValueError):
    """A syntax error, with the 1-based line and column where it was found."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.line = line
        self.column = column


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_]*)\r?\n")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    # -- positions and errors -------------------------------------------------
    def error(self, message: str, pos: int | None = None) -> TfvarsError:
        pos = self.pos if pos is None else pos
        line = self.text.count("\n", 0, pos) + 1
        column = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        return TfvarsError(message, line, column)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    # -- whitespace and comments ----------------------------------------------
    def skip(self, newlines: bool) -> None:
        """Skip blanks and comments; newlines too when inside brackets."""
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t\r" or (newlines and char == "\n"):
                self.pos += 1
            elif char == "#" or text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                if end < 0:
                    raise self.error("unterminated /* comment")
                self.pos = end + 2
            else:
                return

    # -- grammar ----------------------------------------------------------------
    def document(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        while True:
            self.skip(newlines=True)
            if self.pos >= len(self.text):
                return values
            start = self.pos
            name = self.identifier()
            if name in values:
                raise self.error(f"{name!r} is set more than once", start)
            self.skip(newlines=False)
            if self.peek() != "=":
                raise self.error(f"expected '=' after {name!r}")
            self.pos += 1
            self.skip(newlines=False)
            values[name] = self.value(0)
            self.skip(newlines=False)
            if self.peek() not in ("\n", ""):
                raise self.error("expected a new line after the value")

    def identifier(self) -> str:
        match = _IDENT.match(self.text, self.pos)
        if not match:
            raise self.error("expected a variable name")
        self.pos = match.end()
        return match.group()

    def value(self, depth: int) -> Any:
        char = self.peek()
        if char and char in "[{" and depth >= MAX_NESTING:
            raise self.error(f"lists and maps nest deeper than {MAX_NESTING} levels")
        if char == '"':
            return self.string()
        if char == "[":
            return self.sequence(depth + 1)
        if char == "{":
            return self.mapping(depth + 1)
        if self.text.startswith("<<", self.pos):
            return self.heredoc()
        number = _NUMBER.match(self.text, self.pos)
        if number:
            literal = number.group()
            if len(literal) > MAX_NUMBER_LENGTH:
                raise self.error(f"number literal longer than {MAX_NUMBER_LENGTH} characters")
            self.pos = number.end()
            return float(literal) if any(c in literal for c in ".eE") else int(literal)
        word = _IDENT.match(self.text, self.pos)
        if word and word.group() in ("true", "false", "null"):
            self.pos = word.end()
            return {"true": True, "false": False, "null": None}[word.group()]
        raise self.error("expected a literal value (string, number, bool, null, list or map)")

    def string(self) -> str:
        start = self.pos
        self.pos += 1
        out: list[str] = []
        text = self.text
        while True:
            if self.pos >= len(text) or text[self.pos] == "\n":
                raise self.error("unterminated string", start)
            char = text[self.pos]
            if char == '"':
                self.pos += 1
                return "".join(out)
            if char == "\\":
                escape = text[self.pos + 1 : self.pos + 2]
                if escape in _ESCAPES:
                    out.append(_ESCAPES[escape])
                    self.pos += 2
                    continue
                if escape in ("u", "U"):
                    width = 4 if escape == "u" else 8
                    digits = text[self.pos + 2 : self.pos + 2 + width]
                    if not re.fullmatch(r"[0-9A-Fa-f]{%d}" % width, digits):
                        raise self.error("invalid unicode escape")
                    code = int(digits, 16)
                    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                        raise self.error(f"unicode escape \\{escape}{digits} is not a character")
                    out.append(chr(code))
                    self.pos += 2 + width
                    continue
                raise self.error(f"invalid escape sequence \\{escape}")
            if text.startswith(("$${", "%%{"), self.pos):
                out.append(text[self.pos + 1 : self.pos + 3])
                self.pos += 3
                continue
            if text.startswith(("${", "%{"), self.pos):
                raise self.error("templates (${...} or %{...}) are not allowed in a variables file")
            out.append(char)
            self.pos += 1

    def heredoc(self) -> str:
        match = _HEREDOC.match(self.text, self.pos)
        if not match:
            raise self.error("expected a heredoc marker such as <<EOT followed by a new line")
        indented, marker = match.group(1) == "-", match.group(2)
        body_start = match.end()
        closing = re.compile(r"^[ \t]*" + re.escape(marker) + r"[ \t]*$", re.MULTILINE)
        end = closing.search(self.text, body_start)
        if not end:
            raise self.error(f"heredoc is not closed by a line {marker!r}")
        lines = self.text[body_start : end.start()].splitlines(keepends=True)
        if indented:
            widths = [len(line) - len(line.lstrip(" \t")) for line in lines if line.strip()]
            cut = min(widths, default=0)
            lines = [line[cut:] for line in lines]
        self.pos = end.end()
        return "".join(lines)

    def sequence(self, depth: int) -> list[Any]:
        self.pos += 1
        items: list[Any] = []
        while True:
            self.skip(newlines=True)
            if self.peek() == "]":
                self.pos += 1
                return items
            items.append(self.value(depth))
            self.skip(newlines=True)
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "]":
                raise self.error("expected ',' or ']' in a list")

    def mapping(self, depth: int) -> dict[str, Any]:
        self.pos += 1
        items: dict[str, Any] = {}
        while True:
            self.skip(newlines=True)
            if self.peek() == "}":
                self.pos += 1
                return items
            start = self.pos
            key = self.string() if self.peek() == '"' else self.identifier()
            if key in items:
                raise self.error(f"map key {key!r} is set more than once", start)
            self.skip(newlines=False)
            if self.peek() not in ("=", ":"):
                raise self.error(f"expected '=' or ':' after map key {key!r}")
            self.pos += 1
            self.skip(newlines=False)
            items[key] = self.value(depth)
            self.skip(newlines=False)
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() not in ("\n", "}"):
                raise self.error("expected ',', a new line or '}' in a map")


def parse_tfvars(text: str) -> dict[str, Any]:
    """Parse the text of a ``.tfvars`` file into a dict of plain values."""
    return _Reader(text).document()


def _quote(text: str) -> str:
    """An HCL string literal: only the escapes HCL knows, templates escaped."""
    out = []
    for char in text:
        if char in _QUOTE_ESCAPES:
            out.append(_QUOTE_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out).replace("${", "$${").replace("%{", "%%{") + '"'


_QUOTE_ESCAPES = {value: "\\" + key for key, value in _ESCAPES.items()}


def dump_tfvars_value(value: Any, quote: Callable[[str], str] = _quote) -> str:
    """Render a plain value as HCL; used by the docs and tests for round trips.

    ``quote`` renders strings (and map keys); config errors pass ``repr``, so
    a value's invisible characters show as Python escapes.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(dump_tfvars_value(item, quote) for item in value) + "]"
    if isinstance(value, dict):
        body = ", ".join(f"{quote(key)} = {dump_tfvars_value(item, quote)}" for key, item in value.items())
        return "{" + body + "}"
    raise TypeError(f"cannot render {type(value).__name__} as HCL")
