"""Import only the provider binding modules that are used.

``cdktf_cdktf_provider_aws/__init__.py`` imports all ~1,500 resource modules
of the binding, which costs about 15 s, three quarters of a synth. Registering
the package in ``sys.modules`` as an empty package (right spec and
``__path__``, body not executed) lets ``from cdktf_cdktf_provider_aws.vpc
import Vpc`` load just ``vpc`` and the jsii assembly it needs. Code keeps the
idiomatic import lines; only their cost changes.

The jsii runtime has the same problem on its side: the provider's JavaScript
index requires every module when the assembly loads (about 2 s). The Node
runtime that jsii starts inherits ``NODE_OPTIONS``, so a preloaded hook
(``_lazy_provider_index.cjs``) turns that index into lazy getters.

Set ``COT_EAGER_PROVIDER_IMPORT=1`` to get the stock behaviour (the benchmark
uses it as its baseline).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

PROVIDER_PACKAGE = "cdktf_cdktf_provider_aws"
EAGER_IMPORT_ENV = "COT_EAGER_PROVIDER_IMPORT"
# jsii prints a 12-line banner on every run under Node 20, which is all these
# machines have; the README records the Node version instead.
NODE_EOL_ENV = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"
NODE_OPTIONS_ENV = "NODE_OPTIONS"
LAZY_INDEX_HOOK = Path(__file__).resolve().with_name("_lazy_provider_index.cjs")


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
        _set_lazy_index_hook(False)
        importlib.import_module(PROVIDER_PACKAGE)
        return False
    spec = importlib.util.find_spec(PROVIDER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{PROVIDER_PACKAGE} is not installed; run the README's set-up command")
    package = importlib.util.module_from_spec(spec)
    sys.modules[PROVIDER_PACKAGE] = package
    _set_lazy_index_hook(True)
    return True


def _set_lazy_index_hook(enabled: bool) -> None:
    """Add the hook to (or take it out of) the options of the jsii Node runtime.

    The runtime starts on the first jsii import, after this, and inherits the
    environment. Taking it out matters for the eager baseline, whose parent
    process (a test, say) may have put it in.
    """
    escaped = str(LAZY_INDEX_HOOK).replace("\\", "\\\\").replace('"', '\\"')
    require = f'--require "{escaped}"'
    others = os.environ.get(NODE_OPTIONS_ENV, "").replace(require, "").strip()
    options = f"{others} {require}".strip() if enabled else others
    if options:
        os.environ[NODE_OPTIONS_ENV] = options
    else:
        os.environ.pop(NODE_OPTIONS_ENV, None)
