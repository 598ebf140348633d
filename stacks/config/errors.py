"""The one error a config problem ends in, and how values are shown in it."""

from __future__ import annotations

import re
from typing import Any, Sequence

from stacks.tfvars import dump_tfvars_value


# The message shows at most this many problems (then "... and N more"), so
# that a file of 100,000 bad keys still gives a readable, bounded message.
MAX_SHOWN_PROBLEMS = 50
# Characters of a given value (its repr) or an unknown key shown in a problem.
MAX_SHOWN_VALUE = 120


class ConfigError(Exception):
    """Every problem found in one or more config files, in one message.

    ``problems`` holds them all; the message shows the first
    MAX_SHOWN_PROBLEMS and counts the rest.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        lines = [f"  {problem}" for problem in self.problems[:MAX_SHOWN_PROBLEMS]]
        if len(self.problems) > MAX_SHOWN_PROBLEMS:
            lines.append(f"  ... and {len(self.problems) - MAX_SHOWN_PROBLEMS} more")
        super().__init__("invalid configuration:\n" + "\n".join(lines))


def _shorten(value: Any) -> str:
    """The value as a variables file writes it (true, null, [1, 2], {'a' = 1}), strings as Python's repr (so
    invisible characters show), cut to MAX_SHOWN_VALUE characters."""
    try:
        text = dump_tfvars_value(value, quote=repr)
    except TypeError:  # nothing a config file can hold
        text = repr(value)
    if len(text) <= MAX_SHOWN_VALUE:
        return text
    return f"{text[:MAX_SHOWN_VALUE]}... ({len(text)} characters)"


def _show_key(key: str) -> str:
    """A key as written when it is a plain name, else its shortened repr (a JSON key may hold anything)."""
    return key if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]{0,63}", key) else _shorten(key)

