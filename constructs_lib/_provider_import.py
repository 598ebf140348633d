"""Import only the provider binding modules that are used.

``cdktf_cdktf_provider_aws/__init__.py`` imports all ~1,500 resource modules
of the binding, which costs about 15 s, three quarters of a synth. Registering
the package in ``sys.modules`` as an empty package (right spec and
``__path__``, body not executed) lets ``from cdktf_cdktf_provider_aws.vpc
import Vpc`` load just ``vpc`` and the jsii assembly it needs. Code keeps the
idiomatic import lines; only their cost changes.

Set ``COT_EAGER_PROVIDER_IMPORT=1`` to get the stock behaviour (the benchmark
uses it as its baseline).
"""

from __future__ import annotations

import importlib.util
import os
import sys

PROVIDER_PACKAGE = "cdktf_cdktf_provider_aws"
EAGER_IMPORT_ENV = "COT_EAGER_PROVIDER_IMPORT"
# jsii prints a 12-line banner on every run under Node 20, which is all these
# machines have; the README records the Node version instead.
NODE_EOL_ENV = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"


def silence_node_eol_banner() -> None:
    os.environ.setdefault(NODE_EOL_ENV, "20")


def install_lazy_provider_package() -> bool:
    """Register the provider package without running its root ``__init__``.

    Returns True when the lazy package was installed, False when the package
    was already imported or the eager baseline was asked for.
    """
    if PROVIDER_PACKAGE in sys.modules:
        return False
    if os.environ.get(EAGER_IMPORT_ENV) == "1":
        importlib.import_module(PROVIDER_PACKAGE)
        return False
    spec = importlib.util.find_spec(PROVIDER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{PROVIDER_PACKAGE} is not installed; run the README's set-up command")
    package = importlib.util.module_from_spec(spec)
    sys.modules[PROVIDER_PACKAGE] = package
    return True
