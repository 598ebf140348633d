"""Collect every problem with a props object, then raise one ValueError.

Messages follow one shape, after aws-cdk: "<field> must be between 60 and
43200, but 30 was provided". Values that are still Terraform tokens (known
only at apply) are not checked.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from cdktf import Token


def is_token(value: Any) -> bool:
    return isinstance(value, str) and Token.is_unresolved(value)


class Problems:
    """The problems of one props object, in the order found."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.items: list[str] = []

    def add(self, message: str) -> None:
        self.items.append(message)

    def between(self, name: str, value: int | float, low: int | float, high: int | float) -> None:
        if isinstance(value, bool) or not low <= value <= high:
            self.add(f"{name} must be between {low} and {high}, but {value!r} was provided")

    def one_of(self, name: str, value: Any, allowed: Iterable[Any]) -> None:
        allowed = tuple(allowed)
        if value not in allowed:
            self.add(f"{name} must be one of {', '.join(map(str, allowed))}, but {value!r} was provided")

    def matches(self, name: str, value: str, pattern: str, description: str) -> None:
        if not is_token(value) and not re.fullmatch(pattern, value):
            self.add(f"{name} must be {description}, but {value!r} was provided")

    def raise_if_any(self) -> None:
        if self.items:
            raise ValueError(f"{self.owner}: " + "; ".join(self.items))
