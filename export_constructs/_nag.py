"""Every cdk-nag finding this library acknowledges, each with its reason.

Acknowledgements are applied only to resources the library itself creates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from constructs import Construct

if TYPE_CHECKING:
    from aws_cdk import aws_s3 as s3

    from ._provider import ExportJobProvider


def acknowledge_log_bucket(bucket: s3.IBucket) -> None:
    pass


def acknowledge_provider(provider: ExportJobProvider) -> None:
    pass


def _unused(_: Construct) -> None:
    pass
