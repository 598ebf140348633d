"""Command-line tools for CI and operators (``python -m tools.<name>``); none synthesizes."""
