"""Constructs for Circle of Trust, one module per AWS concern.

Importing this package first makes the AWS provider bindings cheap to import
(see ``_provider_import``) and silences jsii's Node end-of-life banner, so
every entry point (main.py, the stacks, the tests) gets both for free.
"""

from constructs_lib._provider_import import install_lazy_provider_package, silence_node_eol_banner

silence_node_eol_banner()
install_lazy_provider_package()
