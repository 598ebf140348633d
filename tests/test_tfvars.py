"""The tfvars reader: the literal subset of HCL a variables file holds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stacks.tfvars import TfvarsError, dump_tfvars_value, parse_tfvars


def test_reads_every_literal_kind_with_comments_anywhere():
    text = """
# hash comment
aws_region = "us-east-1"   // trailing comment
/* block
   comment */ enable_nat_gateway = false
count = 3
ratio = -1.5e2
nothing = null
zones = [
  "a",   # inside a list
  "b",
]
tags = {
  team = "platform"
  "cost-center": 42,
  nested = { deep = [true] }
}
"""
    assert parse_tfvars(text) == {
        "aws_region": "us-east-1",
        "enable_nat_gateway": False,
        "count": 3,
        "ratio": -150.0,
        "nothing": None,
        "zones": ["a", "b"],
        "tags": {"team": "platform", "cost-center": 42, "nested": {"deep": [True]}},
    }


def test_string_escapes_and_literal_dollar_braces():
    assert parse_tfvars(r'x = "tab\there \"q\" \\ \u00e9 $${keep} %%{keep}"') == {"x": 'tab\there "q" \\ é ${keep} %{keep}'}


def test_heredocs_plain_and_indented():
    text = "a = <<EOT\n  one\ntwo\nEOT\nb = <<-EOT\n    x\n      y\n    EOT\n"
    assert parse_tfvars(text) == {"a": "  one\ntwo\n", "b": "x\n  y\n"}


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ("x = [1 2]", 1, 8, "expected ',' or ']' in a list"),
        ("x = {a = 1 b = 2}", 1, 12, "expected ',', a new line or '}' in a map"),
        ("x = {a = 1, a = 2}", 1, 13, "map key 'a' is set more than once"),
        ('x = "bad \\q"', 1, 10, "invalid escape sequence \\q"),
        ("x = 1 y = 2", 1, 7, "expected a new line after the value"),
        ("x = <<EOT\nnever closed\n", 1, 5, "heredoc is not closed by a line 'EOT'"),
        ("/* open", 1, 1, "unterminated /* comment"),
        ("1x = 2", 1, 1, "expected a variable name"),
    ],
)
def test_errors_carry_line_and_column(text, line, column, message):
    with pytest.raises(TfvarsError) as caught:
        parse_tfvars(text)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert message in str(caught.value)


names = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True).filter(lambda n: n not in ("true", "false", "null"))
scalars = st.one_of(
    st.booleans(),
    st.none(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32).filter(lambda f: f != int(f) or abs(f) < 1e15),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=20),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(names, inner, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(names, values, max_size=6))
def test_round_trip_of_generated_files(document):
    text = "".join(f"{name} = {dump_tfvars_value(value)}\n" for name, value in document.items())
    assert parse_tfvars(text) == document
