"""A fake of AWS RoboMaker's world export jobs. botocore has no RoboMaker model any more, so
requests are checked against the shapes written in the API documents the project was made
from (CreateWorldExportJob, CancelWorldExportJob; DescribeWorldExportJob takes the same
``job`` as Cancel), and answered in those documents' shapes and error codes."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from ...services import ROBOMAKER
from .arns import refuse_foreign_role, refuse_foreign_source
from .base import FakeService, IamRequest, ServiceError
from .server import Answer

CREATE, DESCRIBE, CANCEL = "CreateWorldExportJob", "DescribeWorldExportJob", "CancelWorldExportJob"
OPERATIONS = {"/createWorldExportJob": CREATE, "/describeWorldExportJob": DESCRIBE, "/cancelWorldExportJob": CANCEL}

TOKEN_PATTERN = r"[a-zA-Z0-9_\-=]*"
ROLE_PATTERN = r"arn:aws:iam::\w+:role/.*"
ARN_PATTERN = r"arn:.*"
TAG_PATTERN = r"[a-zA-Z0-9 _.\-\/+=:]*"


def _string(problems: list[str], name: str, value: Any, low: int, high: int, pattern: str | None = None) -> None:
    if not isinstance(value, str):
        problems.append(f"{name} must be a string, got {value!r}")
        return
    if not low <= len(value) <= high:
        problems.append(f"{name} must be {low}..{high} characters, got {len(value)}")
    if pattern is not None and not re.fullmatch(pattern, value):
        problems.append(f"{name} must match {pattern}, got {value!r}")


def _keys(problems: list[str], where: str, body: Any, required: set[str], optional: set[str]) -> None:
    if not isinstance(body, dict):
        problems.append(f"{where} must be an object, got {body!r}")
        return
    if missing := required - body.keys():
        problems.append(f"{where} lacks required {sorted(missing)}")
    if unknown := body.keys() - required - optional:
        problems.append(f"{where} has unknown {sorted(unknown)}")


def check_create(body: Any) -> list[str]:
    """Problems with a CreateWorldExportJob body (the API reference's request shape)."""
    problems: list[str] = []
    _keys(problems, "body", body, {"iamRole", "outputLocation", "worlds"}, {"clientRequestToken", "tags"})
    if not isinstance(body, dict):
        return problems
    if "clientRequestToken" in body:
        _string(problems, "clientRequestToken", body["clientRequestToken"], 1, 64, TOKEN_PATTERN)
    _string(problems, "iamRole", body.get("iamRole"), 1, 255, ROLE_PATTERN)
    worlds = body.get("worlds")
    if not isinstance(worlds, list) or not 1 <= len(worlds) <= 100:
        problems.append(f"worlds must be a list of 1..100 ARNs, got {worlds!r}")
    else:
        for i, world in enumerate(worlds):
            _string(problems, f"worlds[{i}]", world, 1, 1224, ARN_PATTERN)
    location = body.get("outputLocation")
    _keys(problems, "outputLocation", location, set(), {"s3Bucket", "s3Prefix"})
    if isinstance(location, dict):
        if "s3Bucket" in location:
            _string(problems, "outputLocation.s3Bucket", location["s3Bucket"], 3, 63)
        if "s3Prefix" in location:
            _string(problems, "outputLocation.s3Prefix", location["s3Prefix"], 1, 1024)
    tags = body.get("tags", {})
    if not isinstance(tags, dict) or len(tags) > 50:
        problems.append(f"tags must be a map of at most 50 entries, got {tags!r}")
    else:
        for key, value in tags.items():
            _string(problems, f"tags key {key!r}", key, 1, 128, TAG_PATTERN)
            _string(problems, f"tags[{key!r}]", value, 0, 256, TAG_PATTERN)
    return problems


def check_job(body: Any) -> list[str]:
    """Problems with a Describe/CancelWorldExportJob body (the API reference's request shapes)."""
    problems: list[str] = []
    _keys(problems, "body", body, {"job"}, set())
    if isinstance(body, dict):
        _string(problems, "job", body.get("job"), 1, 1224, ARN_PATTERN)
    return problems


class Fake(FakeService):
    access = ROBOMAKER
    signing_name = "robomaker"
    throttling = (429, "ThrottlingException")
    validation_error = (400, "InvalidParameterException")
    job_statuses = (("Pending", "Running", "Running"), "Completed", "Failed")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tokens: dict[str, tuple[dict[str, Any], str]] = {}

    def error_answer(self, error: ServiceError) -> Answer:
        return error.status, {"x-amzn-ErrorType": error.code}, json.dumps({"message": error.message}).encode()

    def iam_request(self, operation: str, params: Any) -> IamRequest:
        if operation == CREATE:
            # Tags given at create are not authorized here: the job's ARN is not known before.
            return IamRequest({"world": list(params["worlds"])}, passed_roles=[(params["iamRole"], self.principal)])
        return IamRequest({"worldExportJob": params["job"]})

    def dispatch(self, method: str, path: str, headers: Any, raw: bytes) -> Answer:
        operation = OPERATIONS.get(path)
        if method != "POST" or operation is None:
            refused = ServiceError("UnknownOperationException", f"{method} {path} is not an operation", 404)
            self.problems.append(refused.message)
            return self.error_answer(refused)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        problems = check_create(body) if operation == CREATE else check_job(body)
        if headers.get("Content-Type") != "application/json":
            problems.append(f"Content-Type is {headers.get('Content-Type')!r}")
        if problems:
            self.problems += [f"{operation}: {p}" for p in problems]
            refused = ServiceError("InvalidParameterException", "; ".join(problems))
            self.record(operation, body, refused)
            return self.error_answer(refused)
        try:
            forbidden = self.authorize(operation, body, headers)
            if forbidden is not None:
                raise forbidden
            answer = {CREATE: self._create, DESCRIBE: self._describe, CANCEL: self._cancel}[operation](body)
        except ServiceError as error:
            self.record(operation, body, error)
            return self.error_answer(error)
        self.record(operation, body)
        return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        token = body.get("clientRequestToken") or uuid.uuid4().hex
        self.check_fault(CREATE, token, starts_job=True)
        for i, world in enumerate(body["worlds"]):
            refuse_foreign_source(self, f"worlds[{i}]", world, "world")
        refuse_foreign_role(self, "iamRole", body["iamRole"])
        if token in self.tokens:
            first, arn = self.tokens[token]
            if first != body:
                raise ServiceError(
                    "IdempotentParameterMismatchException",
                    "The request uses the same client token as a previous, but non-identical request.",
                )
        else:
            arn = self.arn(f"world-export-job/{uuid.uuid4().hex[:24]}")
            output = body["outputLocation"]
            s3_path = f"s3://{output['s3Bucket']}/{output.get('s3Prefix', '')}"
            self.start_job(arn, body["iamRole"], source_arn=arn, s3_path=s3_path, request=body)
            self.tokens[token] = (body, arn)
        return {k: v for k, v in self._described(arn).items() if k not in ("worlds", "failureReason")}

    def _described(self, arn: str) -> dict[str, Any]:
        job = self.jobs[arn]
        request = job.fields["request"]
        described: dict[str, Any] = {
            "arn": arn,
            "status": job.status,
            "createdAt": self.clock.as_real(job.created).timestamp(),
            "clientRequestToken": request.get("clientRequestToken"),
            "iamRole": request["iamRole"],
            "outputLocation": request["outputLocation"],
            "worlds": request["worlds"],
            "tags": request.get("tags", {}),
        }
        if job.status == "Failed":
            described.update(failureCode="InternalServiceError", failureReason=job.fields["reason"])
        return described

    def _describe(self, body: dict[str, Any]) -> dict[str, Any]:
        job = self.observe(DESCRIBE, body["job"], f"World export job {body['job']} does not exist.")
        return self._described(job.id)

    def _cancel(self, body: dict[str, Any]) -> dict[str, Any]:
        job = self.job(CANCEL, body["job"], f"World export job {body['job']} does not exist.")
        if job.status not in ("Pending", "Running"):
            raise ServiceError("InvalidParameterException", f"Cannot cancel a job in status {job.status}.")
        job.jump(["Canceling", "Canceled"])
        self.log(f"  {self.name}: {job.id} cancel requested")
        return {}
