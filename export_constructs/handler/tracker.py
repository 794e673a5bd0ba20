"""The long-wait tracker: polls one export job from a Step Functions execution and signals
the job's outcome to a CloudFormation wait condition.

A custom resource must answer CloudFormation within an hour, but an
``AWS::CloudFormation::WaitCondition`` may wait twelve. For a job whose timeout is longer than
the custom-resource path allows, ``on_event`` starts the job and a tracker execution, the custom
resource completes at once, and the wait condition holds the stack until this module signals
it: SUCCESS with the job's attributes, or FAILURE with the service's reason or the handler's
own deadline (the job stopped where the API allows). The polling and its verdicts are the
engine's own (:meth:`.engine.Engine.poll`), so both paths judge a job the same way.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from . import consts
from .adapters.base import shorten
from .engine import DeadlineExceeded, Engine, JobFailed

LOG = logging.getLogger("export_constructs")

#: The wait condition's data is ``{"<UniqueId>": "<Data>"}``, the attributes behind the separator
#: (no ARN, status or S3 URI the library produces contains it: prefixes with it are refused at
#: synth). The constructs read their attributes from the result resource instead.
SEPARATOR = consts.SIGNAL_SEPARATOR
SIGNALLED_ATTRIBUTES = consts.SIGNALLED_ATTRIBUTES
SIGNAL_ID = "export"
SIGNAL_ATTEMPTS = 4

Send = Callable[[str, Mapping[str, str]], None]


def encode(data: Mapping[str, Any]) -> str:
    """The attributes as one string: ``|#|arn|#|name|#|status|#|uri|#|``."""
    values = [str(data.get(name, "")).replace(SEPARATOR, "") for name in SIGNALLED_ATTRIBUTES]
    return SEPARATOR + SEPARATOR.join(values) + SEPARATOR


def put_signal(url: str, body: Mapping[str, str], *, sleep: Callable[[float], None] = time.sleep) -> None:
    """PUT a wait-condition signal to the handle's pre-signed URL (as ``cfn-signal`` does:
    an empty Content-Type, which the signature covers), retrying transient failures."""
    payload = json.dumps(body).encode()
    for attempt in range(1, SIGNAL_ATTEMPTS + 1):
        request = urllib.request.Request(url, data=payload, method="PUT", headers={"Content-Type": ""})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
            return
        except urllib.error.HTTPError as error:
            if error.code < 500 or attempt == SIGNAL_ATTEMPTS:
                raise
        except urllib.error.URLError:
            if attempt == SIGNAL_ATTEMPTS:
                raise
        sleep(2**attempt)


class Tracker:
    """One poll of a long-wait job, from the tracker state machine's task.

    Input: ``{"Event": <the custom resource's event, with its PhysicalResourceId>}``.
    Output: ``{"Done": bool, "Outcome": "SUCCESS" | "FAILURE" | None}``; the state machine waits
    and polls again until ``Done``.
    """

    def __init__(self, engine: Engine, send: Send = put_signal) -> None:
        self._engine = engine
        self._send = send

    def track(self, state: Mapping[str, Any]) -> dict[str, Any]:
        event = state["Event"]
        handle = str(event["ResourceProperties"][consts.PROP_WAIT_HANDLE])
        job = event.get("PhysicalResourceId")
        try:
            answer = self._engine.poll(event)
        except (JobFailed, DeadlineExceeded) as ended:
            return self._signal(handle, job, "FAILURE", str(ended))
        except Exception as error:  # after botocore's retries: the wait cannot go on meaningfully
            LOG.exception("tracking %s failed", job)
            return self._signal(handle, job, "FAILURE", f"tracking {job} failed: {error}")
        if not answer.get("IsComplete"):
            return {"Done": False, "Outcome": None}
        data = answer.get("Data") or {}
        return self._signal(handle, job, "SUCCESS", f"{job} ended with status {data.get(consts.ATTR_STATUS)}", data)

    def _signal(
        self, handle: str, job: str | None, status: str, reason: str, data: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        short = shorten(reason)
        if short != reason:  # the whole reason goes to the logs
            LOG.error("%s", reason)
            reason = short
        LOG.info("signalling %s for %s: %s", status, job, reason)
        self._send(
            handle,
            {
                "Status": status,
                "Reason": reason,
                "UniqueId": SIGNAL_ID,
                "Data": encode(data) if data is not None else reason,
            },
        )
        return {"Done": True, "Outcome": status}
