"""What the fake services' jobs are made of: the :class:`Scenario` a service plays for all of
them (and :data:`FAILURE_REASON`, why one fails), the :class:`VirtualClock` they age by, the
status sequence each moves through (:class:`Job`), and how the services list them (newest first,
a page at a time, with ISO timestamps)."""

from __future__ import annotations

import enum
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any


class Scenario(enum.StrEnum):
    """How a fake service behaves for every job it is asked to run."""

    SUCCESS = "success"
    """Jobs move through the service's states and succeed."""
    FAILURE = "failure"
    """Jobs fail part-way with a service reason (:data:`FAILURE_REASON`)."""
    NEVER_ENDS = "never-ends"
    """Jobs stay in a running state forever (until stopped, where the API can stop them)."""
    THROTTLING = "throttling"
    """The first request of each operation on each job is throttled (a burst), then all succeed."""
    SERVER_ERRORS = "server-errors"
    """The first request of each operation on each job gets an HTTP 5xx, then all succeed."""
    ACCESS_DENIED = "access-denied"
    """Starting a job is refused with an access-denied error."""
    BUSY = "busy"
    """Jobs of another stack fill the service's concurrency quota (where it has one) for the
    first ``busy_seconds`` of virtual time: every start until then is refused with the service's
    quota error; then jobs succeed."""


FAILURE_REASON = "Simulated failure: the export could not write to the destination (AccessDenied on s3:PutObject)."
"""The reason every fake gives for a job that fails (:attr:`Scenario.FAILURE`)."""


class VirtualClock:
    """Simulated time: the simulation advances it between polls (by the waiter's interval)
    instead of sleeping. The fakes report virtual instants as real timestamps counted from the
    clock's making (:meth:`as_real`), and the simulation hands the handler :meth:`now`, so the
    handler's deadlines and queue waits see simulated time."""

    elapsed: float
    """Simulated seconds since the clock was made."""
    origin: datetime
    """The real time the clock was made: virtual instant 0 as a timestamp."""

    def __init__(self) -> None:
        self.elapsed = 0.0
        self.origin = datetime.now(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The current virtual instant as a real timestamp."""
        return self.as_real(self.elapsed)

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of simulated time pass."""
        with self._lock:
            self.elapsed += seconds

    def stamp(self) -> float:
        """The current virtual instant, to store on a job."""
        return self.elapsed

    def as_real(self, stamp: float) -> datetime:
        """A stored virtual instant as a real timestamp (the clock's making + ``stamp``)."""
        return self.origin + timedelta(seconds=stamp)


@dataclass
class Job:
    """A job moving through a status sequence: each describe moves it one status on, the last
    status repeats once reached."""

    id: str
    statuses: list[str]
    fields: dict[str, Any] = field(default_factory=dict)
    created: float = 0.0
    position: int = 0

    @property
    def status(self) -> str:
        return self.statuses[min(self.position, len(self.statuses) - 1)]

    def move_on(self) -> tuple[str, str]:
        """Move one status on (the last one stays); return the statuses before and after."""
        before = self.status
        self.position = min(self.position + 1, len(self.statuses) - 1)
        return before, self.status

    def jump(self, statuses: Sequence[str]) -> None:
        """Continue with ``statuses`` (e.g. stopping, then stopped) from now on."""
        self.statuses = [*self.statuses[: self.position + 1], *statuses]
        self.position += 1


def iter_pages(items: Sequence[Any], size: int, token: str | None) -> tuple[list[Any], str | None]:
    """One page of ``items`` from an opaque numeric token."""
    start = int(token) if token and token.isdigit() else 0
    page = list(items[start : start + size])
    following = start + size
    return page, (str(following) if following < len(items) else None)


def listing(items: Sequence[Any], size: int, token: str | None, *, members: tuple[str, str]) -> dict[str, Any]:
    """One page of ``items`` (:func:`iter_pages`) as a listing answers it: the page under
    ``members[0]``, the next page's token, if any, under ``members[1]``."""
    page, following = iter_pages(items, size, token)
    return {members[0]: page, **({members[1]: following} if following else {})}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def ordered(jobs: dict[str, Job]) -> Iterator[Job]:
    """Newest first, as the services list jobs."""
    return iter(sorted(jobs.values(), key=lambda j: j.created, reverse=True))
