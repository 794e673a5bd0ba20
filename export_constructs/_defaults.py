"""Secure defaults and shared constants, in one place."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_logs as logs

#: The construct's own ceiling for one export job on the custom-resource path. CloudFormation
#: waits at most one hour for a custom resource (``ServiceTimeout`` <= 3600 s); the handler needs
#: a few minutes after its own deadline to stop the job and report before that hour is up.
MAX_TIMEOUT = Duration.minutes(55)
DEFAULT_TIMEOUT = Duration.minutes(50)
#: Above MAX_TIMEOUT the construct waits on an ``AWS::CloudFormation::WaitCondition`` instead,
#: whose Timeout is at most 43,200 s (12 hours).
MAX_LONG_TIMEOUT = Duration.hours(12)
#: On the long path the tracker's own deadline comes this long before the wait condition's, so it
#: stops the job and signals the failure itself.
LONG_WAIT_MARGIN = Duration.minutes(5)
#: How often the tracker polls a long-wait job.
TRACKER_POLL_INTERVAL = Duration.minutes(1)
#: The Provider framework's own limit: CloudFormation's one hour.
PROVIDER_TOTAL_TIMEOUT = Duration.hours(1)
PROVIDER_QUERY_INTERVAL = Duration.seconds(30)
#: Room for one call and botocore's whole retry budget (8 attempts, backoff capped at 20 s).
HANDLER_TIMEOUT = Duration.minutes(3)

LOG_RETENTION = logs.RetentionDays.ONE_YEAR

#: Above this many prefixes on one role or bucket-policy statement, the grant is widened to the
#: prefixes' longest common folder, so policies stay within IAM's size limits.
MAX_LISTED_PREFIXES = 20
#: ... or above this many characters of the listed ARNs (as IAM counts a policy: resolved, without
#: whitespace; see ``_memo.estimated_chars``). A handler's service policy, a managed policy of at
#: most 6,144 characters, holds at most three such lists; a service role's inline policies (10,240
#: for the role) and the bucket policy (20 KB) fewer
#: (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
MAX_LISTED_CHARS = 1_500

# What ``ExportDestination.grant_read`` lets a reader do with the key (what each service does with
# the destination is in ``services.py``).
KMS_READ_ACTIONS = ["kms:Decrypt", "kms:DescribeKey"]
