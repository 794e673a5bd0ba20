"""Lambda entry points: ``handler.entry.on_event`` and ``handler.entry.is_complete``."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from .clients import boto3_client
from .engine import Engine
from .tracker import Tracker

logging.getLogger().setLevel(os.environ.get("LOG_LEVEL", "INFO"))

_ENGINE = Engine(boto3_client)
_TRACKER = Tracker(_ENGINE)


def use_clock(clock: Callable[[], datetime], sleep: Callable[[float], None] | None = None) -> None:
    """The offline simulation's virtual clock (and sleep) for this function's engine; Lambda
    never calls it."""
    _ENGINE.use_clock(clock, sleep)


def on_event(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """onEvent: start (Create, changed Update) or stop (Delete) the job."""
    return _ENGINE.on_event(event)


def is_complete(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """isComplete: poll the job; fail with the service's reason or the handler's own deadline."""
    return _ENGINE.is_complete(event)


def track(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """The long-wait tracker's task: poll the job once; signal its wait condition when it ends."""
    return _TRACKER.track(event)
