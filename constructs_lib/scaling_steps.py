"""Queue-depth scaling steps and their rules (plain data, no jsii import).

Shared by ``QueueDepthScalingProps`` and the config check of
``worker_scaling_steps``, so both report the same problems.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

__all__ = ["DEFAULT_SCALING_STEPS", "ScalingStep", "scaling_step_problems"]


@dataclass(frozen=True)
class ScalingStep:
    """While at least ``visible_messages`` wait, each scaling action adds ``tasks`` tasks."""

    visible_messages: int
    tasks: int


DEFAULT_SCALING_STEPS = (ScalingStep(1, 1), ScalingStep(50, 5), ScalingStep(200, 10), ScalingStep(1000, 20))


def scaling_step_problems(steps: Sequence[tuple[int, int]], max_tasks: int | None) -> list[str]:
    """What is wrong with (visible_messages, tasks) steps, one message per problem.

    ``max_tasks`` None checks tasks against no maximum (the caller reports
    the maximum's own problem).
    """
    problems: list[str] = []
    if not steps:
        return ["must hold at least one [visible_messages, tasks] pair, but none was provided"]
    if steps[0][0] < 1:
        problems.append(f"must start at 1 or more visible messages, but {steps[0][0]} was provided")
    for (low, _), (high, _) in zip(steps, steps[1:]):
        if high <= low:
            problems.append(f"must have strictly ascending visible_messages thresholds, but {high} follows {low}")
    for visible, tasks in steps:
        if max_tasks is None:
            if tasks < 1:
                problems.append(f"tasks must be 1 or more, but {tasks} was provided at {visible} visible messages")
        elif not 1 <= tasks <= max_tasks:
            problems.append(
                f"tasks must be between 1 and the maximum capacity ({max_tasks}), but {tasks} was provided at {visible} visible messages"
            )
    for (_, fewer), (visible, more) in zip(steps, steps[1:]):
        if more < fewer:
            problems.append(f"must not add fewer tasks for a larger backlog, but {more} at {visible} visible messages follows {fewer}")
    return problems
