"""The README's configuration reference is the config module's, verbatim."""

from pathlib import Path

from tools.config_reference import BEGIN, END, render

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_config_reference_matches_the_code():
    text = README.read_text()
    section = text[text.index(BEGIN) : text.index(END) + len(END)]
    assert section == render(), "run: python -m tools.config_reference --write"
