"""Stacks: read the typed config and compose constructs. Nothing else."""

import constructs_lib  # noqa: F401  (first: cheap provider imports, no jsii banner)
