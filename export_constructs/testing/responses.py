"""What CloudFormation receives from the CDK Provider framework: the response body its
``cfn-response.js`` PUTs to the ResponseURL, and the ``Reason`` of a failure, which is the Node
error's stack (``framework.js`` and ``cfn-response.js`` of aws-cdk-lib's
``custom-resources/lib/provider-framework/runtime``, 2.275; ``tests/framework`` runs them).

CloudFormation accepts a response body of at most 4,096 bytes
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-responses.html).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

#: The framework's physical id for a Create that failed before it had one; CloudFormation's Delete
#: of it is answered without calling the user's function (cfn-response.js).
CREATE_FAILED_MARKER = "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"
MISSING_PHYSICAL_ID_MARKER = "AWSCDK::CustomResourceProviderFramework::MISSING_PHYSICAL_ID"
#: What CloudFormation accepts as a custom resource's response body.
MAX_RESPONSE_BYTES = 4096
#: The Reason of a waiter that ran out of attempts (framework.js ``onTimeout``): no stack.
TIMED_OUT = "Operation timed out"

#: The frames of the Node stack framework.js's error carries when a user function failed, as Lambda
#: runs it from /var/task (Node.js 20, aws-cdk-lib 2.275.0; the task_queues line is Node's own and
#: may differ by version). ``{handler}`` is ``onEvent`` or ``isComplete``.
_FRAMES = (
    "    at invokeUserFunction (/var/task/framework.js:2:6)",
    "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
    "    at async {handler} (/var/task/framework.js:{position})",
    "    at async /var/task/cfn-response.js:1:2865",
)
_POSITIONS = {"onEvent": "1:1411", "isComplete": "1:2631"}


def frames(handler: str) -> str:
    """The stack frames below the message for a failure in the framework's ``handler``."""
    return "\n".join(f.format(handler=handler, position=_POSITIONS[handler]) for f in _FRAMES)


def user_function_failure(message: str, function_name: str, handler: str) -> str:
    """The Reason for a user function that raised with ``message`` (the Lambda runtime's
    ``errorMessage``, ``str(exception)``): framework.js ``invokeUserFunction`` throws
    ``Error([message, "", "Logs: /aws/lambda/<function>", ""].join("\\n"))`` and cfn-response.js
    sends its ``stack`` (``includeStackTraces``)."""
    return f"Error: {message}\n\nLogs: /aws/lambda/{function_name}\n\n{frames(handler)}"


def framework_failure(message: str, handler: str) -> str:
    """The Reason for an error framework.js raises itself (``"Data" is not allowed if
    "IsComplete" is "False"``, ``DELETE: cannot change the physical resource ID``): its stack,
    the frames modelled as a user function's."""
    return f"Error: {message}\n{frames(handler)}"


def body(
    status: str, event: Mapping[str, Any], *, reason: str | None = None, data: Mapping[str, Any] | None = None
) -> bytes:
    """cfn-response.js ``submitResponse``: ``JSON.stringify`` of these members in this order,
    ``Reason`` defaulting to the status, members that are undefined left out (``NoEcho``, which
    the library never sets, and ``Data`` where the framework has none: every FAILED response)."""
    response: dict[str, Any] = {
        "Status": status,
        "Reason": reason or status,
        "StackId": event.get("StackId"),
        "RequestId": event.get("RequestId"),
        "PhysicalResourceId": event.get("PhysicalResourceId") or MISSING_PHYSICAL_ID_MARKER,
        "LogicalResourceId": event.get("LogicalResourceId"),
    }
    if data is not None:
        response["Data"] = dict(data)
    return json.dumps(response, ensure_ascii=False, separators=(",", ":")).encode()


def too_large(logical_id: str, request_type: str, size: int) -> str | None:
    """The problem to report for a response over :data:`MAX_RESPONSE_BYTES`, or None."""
    if size <= MAX_RESPONSE_BYTES:
        return None
    return (
        f"{logical_id} {request_type}: the response to CloudFormation is {size} bytes, over the "
        f"{MAX_RESPONSE_BYTES} it accepts (the stack would wait for the resource until it times out)"
    )
