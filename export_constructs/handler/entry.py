"""Lambda entry points: ``handler.entry.on_event`` and ``handler.entry.is_complete``."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from .clients import boto3_client
from .engine import Engine

logging.getLogger().setLevel(os.environ.get("LOG_LEVEL", "INFO"))

_ENGINE = Engine(boto3_client)


def on_event(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """onEvent: start (Create, changed Update) or stop (Delete) the job."""
    return _ENGINE.on_event(event)


def is_complete(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """isComplete: poll the job; fail with the service's reason or the handler's own deadline."""
    return _ENGINE.is_complete(event)
