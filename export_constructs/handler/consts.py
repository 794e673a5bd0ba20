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
TRACK_ENTRY = "handler.entry.track"
#: The recurring exports' run state machine's tasks (``handler/runs.py``).
RUN_ENTRY = "handler.entry.run"

# Resource properties the constructs send and the engine reads. (Templates of versions before 0.3
# also sent ``JobNamePrefix``: the engine derives the same value from the event's stack id -
# ``JOB_NAME_PREFIX_HEAD`` + the first group of its UUID - and ignores it.)
JOB_NAME_PREFIX_HEAD = "ex"
PROP_JOB_NAME = "JobName"
#: The job's construct path, sent only with ``PROP_JOB_NAME`` (unnamed jobs' templates do not
#: grow): messages about a given name name the construct. It is not part of the job's digest.
PROP_CONSTRUCT_PATH = "ConstructPath"
PROP_TIMEOUT_SECONDS = "TimeoutSeconds"
PROP_REQUEST = "Request"
#: The account that must own the destination bucket, sent (as a resource property, and as a
#: member of a recurring export's description) only for a bucket of another account: the handler
#: confirms it before each start (``ExportJobAdapter.confirm_bucket_owner``).
PROP_BUCKET_OWNER = "ExpectedBucketOwner"
#: How the resource waits: ``MODE_WAIT`` (default: the custom resource polls the job to its end),
#: ``MODE_START`` (``wait=False``: complete once the job is accepted) or ``MODE_SIGNAL`` (a long
#: wait: complete once the job is accepted, and a tracker execution polls it and signals the
#: wait condition whose handle is ``PROP_WAIT_HANDLE``; the tracker is ``PROP_TRACKER``).
PROP_MODE = "Mode"
MODE_WAIT = "wait"
MODE_START = "start"
MODE_SIGNAL = "signal"
PROP_WAIT_HANDLE = "WaitHandle"
PROP_TRACKER = "Tracker"
#: ``MODE_REPORT``: the long path's result resource, created once the wait condition completes;
#: it reads the job ``PROP_JOB_ID`` (named ``PROP_JOB_NAME``, writing to ``PROP_OUTPUT_URI``)
#: and reports its final attributes. It never starts, stops or deletes anything.
MODE_REPORT = "report"
PROP_JOB_ID = "JobId"
PROP_OUTPUT_URI = "OutputUri"
PROP_WAIT_CONDITION = "WaitCondition"
REPORT_ID_PREFIX = "report:"
#: A job whose start the service refused because its concurrency quota is full is queued: its
#: physical id is ``queued:<job name>`` (no adapter owns it, so its Delete stops nothing) until a
#: later poll starts it; isComplete then answers the job's id as the PhysicalResourceId, which the
#: Provider framework (runtime/framework.js) puts in CloudFormation's response in place of this one.
QUEUED_ID_PREFIX = "queued:"
#: onEvent's answer for a queued job carries the Create's time (ISO 8601) under this key; the
#: framework copies onEvent's answer into every isComplete event, so each poll reads it.
EVENT_QUEUED_AT = "QueuedAt"
#: Up to this many seconds of random wait before a queued job's start is tried again, so that
#: jobs of several stacks queued at the same instant do not all ask at once.
QUEUE_JITTER_SECONDS = 2.0

# Attributes (``Fn::GetAtt``) every export job exposes.
ATTR_JOB_ARN = "JobArn"
ATTR_JOB_NAME = "JobName"
ATTR_STATUS = "Status"
ATTR_OUTPUT_URI = "OutputUri"
#: How long the job waited, queued, for a slot of the service's quota (whole seconds, "0" when
#: it started at once).
ATTR_QUEUED_SECONDS = "QueuedSeconds"

#: The long-wait signal's data (``wait_condition.attr_data`` for whoever reads it): the attributes
#: in this order, each behind the separator. The constructs' own attributes come from the result
#: resource (``MODE_REPORT``), not from this data, which AWS types as an object.
SIGNAL_SEPARATOR = "|#|"
SIGNALLED_ATTRIBUTES = (ATTR_JOB_ARN, ATTR_JOB_NAME, ATTR_STATUS, ATTR_OUTPUT_URI)

#: Longest job name any adapter accepts is 63; derived names keep to this.
DIGEST_LENGTH = 12

# Each service's own attributes and request members, named here because both the construct and
# the adapter use them (the constructs import nothing else from ``handler/``: no botocore).

#: Pinpoint: the job's progress as GetExportJob reports it.
ATTR_PINPOINT_JOB_ID = "PinpointJobId"
ATTR_TOTAL_PIECES = "TotalPieces"
ATTR_COMPLETED_PIECES = "CompletedPieces"
ATTR_FAILED_PIECES = "FailedPieces"
ATTR_TOTAL_FAILURES = "TotalFailures"
ATTR_FAILURES = "Failures"
#: RDS: DescribeExportTasks' progress and the snapshot's time.
ATTR_PERCENT_PROGRESS = "PercentProgress"
ATTR_TOTAL_EXTRACTED_DATA_IN_GB = "TotalExtractedDataInGB"
ATTR_SNAPSHOT_TIME = "SnapshotTime"
#: RDS export task identifiers: at most 60 characters (see ``handler/adapters/rds.py``).
RDS_MAX_IDENTIFIER = 60
#: CloudWatch Logs: the range exported, in epoch milliseconds.
ATTR_FROM = "From"
ATTR_TO = "To"
#: CloudWatch Logs: the construct's request member for a window (milliseconds), which the adapter
#: turns into ``from``/``to`` when it starts the task; not a member of CreateExportTask, never sent.
LOGS_WINDOW_MEMBER = "windowMilliseconds"
#: With a window of a token (a template parameter), the milliseconds in one of its unit (a day:
#: ``86400000``): ``LOGS_WINDOW_MEMBER`` then holds the amount in that unit, which the adapter
#: multiplies (CloudFormation has no arithmetic). Never sent either.
LOGS_WINDOW_UNIT_MEMBER = "windowUnitMilliseconds"
#: A window's bounds: ``to`` must come after ``from`` (Logs refuses ``from >= to``), and 50 years
#: back from now is still after 1970 (``from`` is epoch milliseconds >= 0, botocore's model).
LOGS_MIN_WINDOW_MS = 1
LOGS_MAX_WINDOW_MS = 50 * 365 * 86_400_000
#: How a recurring export's runs catch up on missed periods (its description's ``Catchup``): every
#: period, each its own window (a task exports a time range: CloudWatch Logs), or only the latest,
#: as one window from the ledger's watermark (a task exports all its source holds: Personalize).
CATCHUP_ALL = "all"
CATCHUP_LATEST = "latest"
#: The RDS events that say a snapshot was created, and whether it is an automated one (RDS's
#: event reference: DB snapshot events,
#: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.Messages.html#USER_Events.Messages.snapshot,
#: and DB cluster snapshot events,
#: https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_Events.Messages.html#USER_Events.Messages.cluster-snapshot).
#: Describing an automated snapshot by its identifier takes ``SnapshotType=automated`` (DescribeDBSnapshots).
#: AWS Backup's event when a backup job's state changes; a COMPLETED job of an RDS source has made
#: a snapshot, which RDS exports as any other ("You can export all types of DB snapshots -
#: including manual snapshots, automated system snapshots, and snapshots created by the AWS Backup
#: service": https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ExportSnapshot.html;
#: the event: https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html).
BACKUP_JOB_EVENT = "Backup Job State Change"
RDS_SNAPSHOT_EVENTS = {
    "RDS-EVENT-0042": ("RDS DB Snapshot Event", False),  # "Manual snapshot created"
    "RDS-EVENT-0091": ("RDS DB Snapshot Event", True),  # "Automated snapshot created"
    "RDS-EVENT-0075": ("RDS DB Cluster Snapshot Event", False),  # "Manual cluster snapshot created."
    "RDS-EVENT-0169": ("RDS DB Cluster Snapshot Event", True),  # "Automated cluster snapshot created."
}
