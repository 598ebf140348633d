"""Print the README's configuration reference from the config module.

The table is generated so that it cannot drift from the code; a test checks
that the README holds exactly what this prints.

    python -m tools.config_reference           # print it
    python -m tools.config_reference --write   # replace it in README.md
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from stacks.config import config_keys

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN = "<!-- config-reference:begin -->"
END = "<!-- config-reference:end -->"


def _default(spec: dataclasses.Field) -> str:
    if spec.default is dataclasses.MISSING:
        return "required"
    return f"`{json.dumps(spec.default)}`"


def render() -> str:
    rows = ["| key | seed | default | allowed | what it does |", "| --- | --- | --- | --- | --- |"]
    for spec in config_keys():
        seed = "yes" if spec.metadata["seed"] else ""
        cells = (f"`{spec.name}`", seed, _default(spec), spec.metadata["allowed"], spec.metadata["doc"])
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join([BEGIN, *rows, END])


def write_readme(readme: Path = README) -> None:
    text = readme.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    readme.write_text(text[:start] + render() + text[end:])


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        write_readme()
    else:
        print(render())
