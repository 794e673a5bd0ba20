"""Lambda entry points: ``handler.entry.on_event`` and ``handler.entry.is_complete``."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from .adapters.base import MAX_REASON_BYTES, shorten
from .clients import boto3_client
from .engine import Engine
from .runs import Runner
from .tracker import Tracker

LOG = logging.getLogger("export_constructs")
logging.getLogger().setLevel(os.environ.get("LOG_LEVEL", "INFO"))

Handler = Callable[[Mapping[str, Any], Any], dict[str, Any]]


class ReasonShortened(Exception):
    """A failure whose message was cut to fit CloudFormation's response; the whole message is in
    the function's log, and the original exception is this one's ``__cause__``."""


def _bounded(handler: Handler) -> Handler:
    """``handler`` with every exception's message bounded to :data:`MAX_REASON_BYTES`.

    The Lambda runtime answers an exception with ``errorMessage`` = ``str(exception)``, which the
    Provider framework sends to CloudFormation as the ``Reason`` inside a response of at most
    4,096 bytes; a longer response is refused and the stack waits until CloudFormation's timeout.
    A service's failure reason or an error message has no such bound of its own."""

    @functools.wraps(handler)
    def run(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        try:
            return handler(event, context)
        except Exception as error:
            message = str(error)
            short = shorten(message, MAX_REASON_BYTES)
            if short == message:
                raise
            LOG.error("%s: %s", type(error).__name__, message)
            raise ReasonShortened(short) from error

    return run


_ENGINE = Engine(boto3_client)
_TRACKER = Tracker(_ENGINE)
_RUNNER = Runner(_ENGINE)


def use_clock(clock: Callable[[], datetime], sleep: Callable[[float], None] | None = None) -> None:
    """The offline simulation's virtual clock (and sleep) for this function's engine; Lambda
    never calls it."""
    _ENGINE.use_clock(clock, sleep)


@_bounded
def on_event(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """onEvent: start (Create, changed Update) or stop (Delete) the job."""
    return _ENGINE.on_event(event)


@_bounded
def is_complete(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """isComplete: poll the job; fail with the service's reason or the handler's own deadline."""
    return _ENGINE.is_complete(event)


def track(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """The long-wait tracker's task: poll the job once; signal its wait condition when it ends."""
    return _TRACKER.track(event)


def run(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """A task of a recurring export's run (plan, start, check, record): ``handler/runs.py``."""
    return _RUNNER.run(event)
