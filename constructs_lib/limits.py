"""Limits AWS sets, shared by the config checks and the construct props.

Plain data, no CDKTF import: ``stacks.config`` validates against the same
tables as the constructs without loading jsii.
"""

from __future__ import annotations

__all__ = [
    "API_RELEASE_STRATEGIES",
    "DYNAMODB_BILLING_MODES",
    "DYNAMODB_MAX_CAPACITY_UNITS",
    "FARGATE_MEMORY_MIB",
    "HEALTH_CHECK_PATH",
    "LOG_RETENTION_DAYS",
    "SQS_MAX_VISIBILITY_TIMEOUT_SECONDS",
    "VAULT_LOCK_MODES",
    "describe_memory_sizes",
    "fargate_memory_problem",
]


def _fargate_memory_table() -> dict[int, tuple[int, ...]]:
    """Fargate's valid task cpu (units) -> memory (MiB) combinations."""
    gib = 1024
    return {
        256: (512, 1024, 2048),
        512: tuple(range(1 * gib, 4 * gib + 1, gib)),
        1024: tuple(range(2 * gib, 8 * gib + 1, gib)),
        2048: tuple(range(4 * gib, 16 * gib + 1, gib)),
        4096: tuple(range(8 * gib, 30 * gib + 1, gib)),
        8192: tuple(range(16 * gib, 60 * gib + 1, 4 * gib)),
        16384: tuple(range(32 * gib, 120 * gib + 1, 8 * gib)),
    }


FARGATE_MEMORY_MIB = _fargate_memory_table()

# The values CloudWatch Logs accepts for a log group's retention.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip


DYNAMODB_BILLING_MODES = ("PAY_PER_REQUEST", "PROVISIONED")
DYNAMODB_MAX_CAPACITY_UNITS = 40000  # the default per-table quota of read or write units
SQS_MAX_VISIBILITY_TIMEOUT_SECONDS = 43200  # 12 hours


def describe_memory_sizes(cpu: int) -> str:
    """The memory sizes Fargate accepts with ``cpu``, short enough for a message."""
    sizes = FARGATE_MEMORY_MIB[cpu]
    return ", ".join(map(str, sizes)) if len(sizes) <= 8 else f"{sizes[0]}-{sizes[-1]} in steps of {sizes[1] - sizes[0]}"


def fargate_memory_problem(cpu: int, memory_mib: int) -> str | None:
    """None when Fargate accepts the pair, else what is wrong (without the field name)."""
    if cpu not in FARGATE_MEMORY_MIB:
        return "must be a Fargate CPU size: " + ", ".join(map(str, FARGATE_MEMORY_MIB))
    if memory_mib not in FARGATE_MEMORY_MIB[cpu]:
        return f"must be a memory size (MiB) Fargate accepts with {cpu} CPU units: {describe_memory_sizes(cpu)}"
    return None

# AWS Backup vault lock modes (constructs_lib/backup.py; the config's backup_vault_lock).
VAULT_LOCK_MODES = ("governance", "compliance", "none")

# Release strategies of the API (constructs_lib/release.py, the config's api_release_strategy):
# cutover is the step between rolling and canary in an environment already serving (both services run).
API_RELEASE_STRATEGIES = ("canary", "cutover", "rolling")
# A load balancer health-check path (ELB allows up to 1024 characters; constructs_lib/load_balancer.py).
HEALTH_CHECK_PATH = r"/[A-Za-z0-9/_.~-]{0,1023}"
