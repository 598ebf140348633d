"""The README's configuration reference is the config module's, verbatim."""

from pathlib import Path

from tools.config_reference import BEGIN, END, render

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_config_reference_matches_the_code():
    text = README.read_text()
    section = text[text.index(BEGIN) : text.index(END) + len(END)]
    assert section == render(), "run: python -m tools.config_reference --write"


def test_readme_layers_diagram_matches_the_synthesized_output(synth_dir):
    """The Mermaid picture is the one tools.diagram draws from this synth, and it shows every layer and its reads."""
    from tools.diagram import BEGIN as DIAGRAM_BEGIN, END as DIAGRAM_END, readme_section

    text = README.read_text()
    section = text[text.index(DIAGRAM_BEGIN) : text.index(DIAGRAM_END) + len(DIAGRAM_END)]
    assert section == readme_section(synth_dir), "run: python -m tools.diagram --write-readme"
    for environment in ("production", "staging"):
        for layer in ("network", "data", "edge", "services", "operations"):
            assert f"<b>{environment}-{layer}</b>" in section
        # The services layer reads the tables from the data layer: the arrow says so.
        arrow = next(line for line in section.splitlines() if line.strip().startswith(f"{environment}_data -- ") and line.endswith(f"--> {environment}_services"))
        assert "jobs_table" in arrow and "conversations_table" in arrow
