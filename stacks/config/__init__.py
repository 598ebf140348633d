"""The typed, validated configuration of one environment.

One file per environment (``config/<environment>.tfvars``, or ``.json``)
holds exactly the keys of the seed's ``terraform.tfvars`` plus what the
architecture needs. ``load_config`` either returns a complete
``EnvironmentConfig`` or raises one ``ConfigError`` listing every problem,
each naming the file, the key, what is allowed and what was given, so that
bad input never reaches Terraform.

Split by concern (each importable on its own; this package re-exports what
callers use, so ``from stacks.config import ...`` keeps working):

* ``schema``: the keys (``EnvironmentConfig``: type, default, doc, allowed)
  and the values derived from them;
* ``rules``: each key's range, the rules between keys, the names derived
  from the resource prefix, and the rules between environments;
* ``loading``: reading a file, type checks, running the rules;
* ``errors``: ``ConfigError`` and how given values are shown.
"""

from __future__ import annotations

from constructs_lib.limits import FARGATE_MEMORY_MIB, LOG_RETENTION_DAYS
from stacks.config.errors import MAX_SHOWN_PROBLEMS, MAX_SHOWN_VALUE, ConfigError
from stacks.config.loading import load_config, load_configs
from stacks.config.rules import BILLING_MODES, DERIVED_NAMES, PRICE_CLASSES, DerivedName, config_warnings
from stacks.config.schema import AWS_REGIONS, EnvironmentConfig, config_keys

__all__ = [
    "AWS_REGIONS",
    "BILLING_MODES",
    "ConfigError",
    "DERIVED_NAMES",
    "DerivedName",
    "EnvironmentConfig",
    "FARGATE_MEMORY_MIB",
    "LOG_RETENTION_DAYS",
    "MAX_SHOWN_PROBLEMS",
    "MAX_SHOWN_VALUE",
    "PRICE_CLASSES",
    "config_keys",
    "config_warnings",
    "load_config",
    "load_configs",
]
