"""A fake of Amazon S3's GetBucketLocation (REST-XML, botocore's model ``s3``), which the handler
calls before it starts an export into a bucket of another account: with ``ExpectedBucketOwner``,
so that a bucket whose name another account has taken is refused before any data is written to
it. The fake knows the buckets of the simulated stacks (each with its owner and Region) and
answers as S3 does: an unknown bucket is ``NoSuchBucket``, a wrong owner ``AccessDenied``, and
``s3:GetBucketLocation`` is authorized for the calling function's role like every other request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from botocore.model import OperationModel

from .base import IamRequest, ServiceError
from .protocol import BotocoreFake

#: The namespace of S3's answers (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html).
S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
#: The Region S3 answers with an empty LocationConstraint (the same page: "Buckets in Region
#: us-east-1 have a LocationConstraint of null").
NULL_CONSTRAINT_REGION = "us-east-1"


@dataclass(frozen=True)
class Bucket:
    """A bucket S3 knows: its owner's account and its Region."""

    name: str
    account: str
    region: str


class Fake(BotocoreFake):
    name = "S3"
    model_name = "s3"
    # S3's own answers (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList).
    access_denied = (403, "AccessDenied")
    not_found = (404, "NoSuchBucket")
    validation_error = (400, "InvalidArgument")
    throttling = (503, "SlowDown")
    server_error = (500, "InternalError")
    # Every simulation starts this fake, and in most no request reaches it: closing it must not add
    # the other fakes' 50 ms to each of them.
    poll_interval = 0.005

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.buckets: dict[str, Bucket] = {}

    def add_bucket(self, name: str, account: str, region: str) -> None:
        """Make ``name`` a bucket of ``account`` in ``region``."""
        self.buckets[name] = Bucket(name, account, region)

    def iam_request(self, operation: str, params: Any) -> IamRequest:
        if operation != "GetBucketLocation":
            raise ServiceError("NotImplemented", f"{operation} is not simulated", 501)
        # The Service Authorization Reference: GetBucketLocation on the bucket resource type.
        return IamRequest({"bucket": f"arn:{self.partition}:s3:::{params['Bucket']}"})

    def authorize(self, operation: str, params: Any, headers: Any) -> ServiceError | None:
        """S3 answers a bucket that does not exist, and a bucket owner condition that fails, before
        it evaluates the caller's permissions: a wrong owner is 403 AccessDenied whatever they
        allow (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html)."""
        if operation == "GetBucketLocation":
            bucket = self.buckets.get(params["Bucket"])
            if bucket is None:
                return ServiceError.of(self.not_found, "The specified bucket does not exist")
            expected = params.get("ExpectedBucketOwner")
            if expected is not None and expected != bucket.account:
                return ServiceError.of(self.access_denied, "Access Denied")
        return super().authorize(operation, params, headers)

    def op_GetBucketLocation(self, params: dict[str, Any]) -> dict[str, Any]:
        bucket = self.buckets[params["Bucket"]]  # authorize refused an unknown one
        return {} if bucket.region == NULL_CONSTRAINT_REGION else {"LocationConstraint": bucket.region}

    def xml_body(self, operation: OperationModel, result: Any) -> ElementTree.Element:
        """GetBucketLocation's document is the constraint itself,
        ``<LocationConstraint xmlns="...">eu-west-1</LocationConstraint>``, empty for us-east-1
        (botocore reads it by hand: its model cannot describe it)."""
        if operation.name != "GetBucketLocation":
            return super().xml_body(operation, result)
        root = ElementTree.Element("LocationConstraint", xmlns=S3_NAMESPACE)
        root.text = result.get("LocationConstraint")
        return root


__all__ = ["Bucket", "Fake"]
