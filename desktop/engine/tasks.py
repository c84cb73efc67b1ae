"""Long tasks the worker runs by name: what a task is given and how it fails.

The worker knows no task itself: the layer above registers them (``desktop.compare.tasks``
gives the compare tools' eval, quantize and bench), so the engine never imports compare.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from desktop.engine.llama_log import LlamaLog
from desktop.engine.protocol import LoadOptions, ModelLoaded

# A task's stage that starts so reports a finished step with its figures (a bench's repetition):
# front ends print it as a line of its own.
REP_DONE = "Repetition"


class TaskFailed(Exception):
    """A task that could not finish, in words fit to show."""


@dataclass(frozen=True)
class TaskContext:
    progress: Callable[[str, float], None]  # what it is doing, in words, and the fraction done
    cancelled: Callable[[], bool]
    log: LlamaLog  # llama.cpp's log lines, for a task that must quote them
    load: Callable[[LoadOptions], tuple[Any, ModelLoaded]]  # the worker's own load: a Llama and its record


# A task: its parameters and context in, its result as a JSON-able dict out; TaskFailed to refuse.
TaskRunner = Callable[[dict[str, Any], TaskContext], dict[str, Any]]
TaskTable = Mapping[str, TaskRunner]
