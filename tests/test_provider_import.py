"""The lazy provider import: only the binding modules in use are loaded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]

PROBE = """
import sys
import stacks.environment_stack  # every construct the stacks use
package = sys.modules["cdktf_cdktf_provider_aws"]
loaded = [name for name in sys.modules if name.startswith("cdktf_cdktf_provider_aws.")]
print(len(loaded), hasattr(package, "accessanalyzer_analyzer"))
"""


def test_stacks_load_only_the_provider_modules_they_use():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=PROJECT, capture_output=True, text=True, check=True
    )
    count, root_ran = result.stdout.split()
    # The root __init__ would load ~1,500 modules and bind every one as an attribute.
    assert root_ran == "False"
    assert 10 < int(count) < 200
