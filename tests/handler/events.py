"""Custom-resource events exactly as the CDK Provider framework hands them to the user
functions (see aws-cdk-lib custom-resources/lib/provider-framework/runtime/framework.js):
CloudFormation's request with ``ResponseURL`` sanitised, and for isComplete the same request
merged with what onEvent returned (``PhysicalResourceId``)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"
STACK_ID = (
    "arn:aws:cloudformation:us-east-1:123456789012:stack/ExportConstructsSample/1c2fa620-982a-11e3-aff7-50e2416294e0"
)
JOB_NAME_PREFIX = "ex1c2fa620"


def load(name: str) -> dict[str, Any]:
    """A sample CloudFormation request from ``tests/events/<name>.json``."""
    event: dict[str, Any] = json.loads((EVENTS_DIR / f"{name}.json").read_text())
    return event


def request(
    request_type: str,
    resource_type: str,
    properties: dict[str, Any],
    *,
    physical_id: str | None = None,
    old_properties: dict[str, Any] | None = None,
    logical_id: str = "UsersExportB5678792",
) -> dict[str, Any]:
    """The event the framework's onEvent passes to the user's on_event."""
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:framework-onEvent",
        "ResponseURL": "...",
        "StackId": STACK_ID,
        "RequestId": "d8f1a2b3-0000-4c1e-9f00-0123456789ab",
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "ResourceProperties": {
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:framework-onEvent",
            **copy.deepcopy(properties),
        },
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    if old_properties is not None:
        event["OldResourceProperties"] = copy.deepcopy(old_properties)
    return event


def after_on_event(event: dict[str, Any], on_event_result: dict[str, Any]) -> dict[str, Any]:
    """The event the framework passes to is_complete: ``{...request, ...onEventResult}``."""
    merged = {**event, **on_event_result}
    merged["PhysicalResourceId"] = (
        on_event_result.get("PhysicalResourceId") or event.get("PhysicalResourceId") or event["RequestId"]
    )
    return merged
