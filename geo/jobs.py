"""Store writes that a Streamlit rerun cannot abort.

Streamlit stops a running script at its next element call as soon as the user
touches any widget ("fast reruns"). An upload parsed in the script thread dies
there: the form submission is spent, nothing is added and nothing is said. A
:class:`Job` runs the work in its own thread instead, so a started write always
completes, and keeps its outcome until a script run has shown it. Nothing here
imports Streamlit: the app polls :meth:`Job.wait` and draws the progress.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from geo.errors import GeoError

T = TypeVar("T")
Progress = Callable[[int, int], None]

_LOG = logging.getLogger(__name__)


class Job(Generic[T]):
    """One piece of work running in a non-daemon thread, with progress and outcome.

    The thread is not a daemon: a server asked to exit waits for a write in
    progress instead of killing it half-way. Every exception of the work is
    caught and kept in :attr:`error` (the thread never dies silently).
    """

    def __init__(self, work: Callable[[Progress], T], *, name: str) -> None:
        self.name = name
        self.done = 0
        self.total = 0
        self.result: T | None = None
        self.error: Exception | None = None
        self._work = work
        self._finished = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"geo-job: {name}", daemon=False)

    @classmethod
    def start(cls, work: Callable[[Progress], T], *, name: str) -> Job[T]:
        """Start ``work(progress)`` in its own thread and return at once."""
        job = cls(work, name=name)
        job._thread.start()
        return job

    def _progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def _run(self) -> None:
        try:
            self.result = self._work(self._progress)
        except Exception as exc:  # kept for the viewer; the thread must not die silently
            self.error = exc
            if not isinstance(exc, GeoError):  # a user's bad input is not a bug
                _LOG.exception("job %r failed", self.name)
        finally:
            self._finished.set()

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    @property
    def share(self) -> float:
        """Fraction done in [0, 1] (0 until the work reports a total)."""
        return min(1.0, self.done / self.total) if self.total else 0.0

    def wait(self, timeout: float | None = None) -> bool:
        """Block up to ``timeout`` seconds; True once the work has finished."""
        return self._finished.wait(timeout)

