"""Names shared by the constructs and the Lambda handler.

This module is imported by both sides, so it must stay free of CDK imports.
"""

from __future__ import annotations

#: Every export-job custom resource has the type ``Custom::<RESOURCE_TYPE_PREFIX><Adapter>``;
#: the suffix names the adapter module (lower-cased) in ``handler/adapters/``.
RESOURCE_TYPE_PREFIX = "ExportJob-"

#: Entry points, relative to the code asset's root (the parent folder of ``handler/``).
ON_EVENT_ENTRY = "handler.entry.on_event"
IS_COMPLETE_ENTRY = "handler.entry.is_complete"

# Resource properties the constructs send and the engine reads.
PROP_JOB_NAME_PREFIX = "JobNamePrefix"
PROP_JOB_NAME = "JobName"
PROP_TIMEOUT_SECONDS = "TimeoutSeconds"
PROP_REQUEST = "Request"

# Attributes (``Fn::GetAtt``) every export job exposes.
ATTR_JOB_ARN = "JobArn"
ATTR_JOB_NAME = "JobName"
ATTR_STATUS = "Status"
ATTR_OUTPUT_URI = "OutputUri"

#: Longest job name any adapter accepts is 63; derived names keep to this.
DIGEST_LENGTH = 12
