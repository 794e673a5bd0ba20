"""Fakes driven by botocore's own service model: requests are parsed from the wire (JSON 1.1
with ``X-Amz-Target``, REST-JSON and REST-XML by method and URI template, or the query protocol's
form body ``Action=...&Version=...``), validated against the operation's input shape, answered by
the subclass, and the answer is validated against the output shape (as botocore's Stubber does)
before it is serialized back (JSON, the query protocol's XML, or S3's REST-XML)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

from botocore.model import OperationModel, ServiceModel, StructureShape

from .base import FakeService, ServiceError
from .server import Answer
from .wire import (
    FORM_CONTENT_TYPE,
    REQUEST_ID,
    from_form,
    from_query,
    has_literals,
    match_uri,
    service_model,
    to_wire,
    validate,
    xml_bytes,
    xml_fill,
)

Operation = Callable[[dict[str, Any]], dict[str, Any]]


class BotocoreFake(FakeService):
    """A fake whose wire protocol and shapes come from botocore's model of ``model_name``."""

    model_name: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # The signing name (and IAM prefix) and the endpoint variable are the model's: botocore
        # reads ``AWS_ENDPOINT_URL_<serviceId, upper case, spaces as _>``
        # (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
        super().__init_subclass__(**kwargs)
        model = service_model(cls.model_name)
        cls.signing_name = cls.iam_prefix = model.signing_name or model.endpoint_prefix
        cls.endpoint_env = "AWS_ENDPOINT_URL_" + model.service_id.upper().replace(" ", "_")

    @property
    def model(self) -> ServiceModel:
        return service_model(self.model_name)

    def echoed(self, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """The members of ``request`` that ``operation``'s answer holds as well, by the model's
        output shape: what a described job repeats of the request that created it."""
        shape = self.model.operation_model(operation).output_shape
        members = shape.members if isinstance(shape, StructureShape) else {}
        return {name: value for name, value in request.items() if name in members}

    def operation(self, name: str) -> Operation:
        """The subclass's implementation of ``name`` (method ``op_<Name>``)."""
        implementation: Operation | None = getattr(self, f"op_{name}", None)
        if implementation is None:
            raise ServiceError("UnknownOperationException", f"{name} is not simulated", 400)
        return implementation

    # -- wire ----------------------------------------------------------------------------------

    def dispatch(self, method: str, path: str, headers: Any, raw: bytes) -> Answer:
        try:
            operation, params = self._parse(method, path, headers, raw)
        except ServiceError as unparsed:
            self.problems.append(unparsed.message)
            self.record("?", None, unparsed)
            return self.error_answer(unparsed)
        problems = validate(params, operation.input_shape, f"{operation.name} request")
        if problems:
            self.problems += problems
            refused = ServiceError(self.validation_error[1], "; ".join(problems), self.validation_error[0])
            self.record(operation.name, params, refused)
            return self.error_answer(refused)
        try:
            forbidden = self.authorize(operation.name, params, headers)
            if forbidden is not None:
                raise forbidden
            result = self.operation(operation.name)(params)
        except ServiceError as error:
            self.record(operation.name, params, error)
            return self.error_answer(error)
        self.record(operation.name, params)
        problems = validate(result, operation.output_shape, f"{operation.name} response", strict=False)
        if problems:  # the fake's own bug: say so loudly
            self.problems += problems
            raise AssertionError("; ".join(problems))
        return self._serialize(operation, result)

    def _parse(self, method: str, path: str, headers: Any, raw: bytes) -> tuple[OperationModel, dict[str, Any]]:
        if self.model.protocol == "json":
            return self._parse_json(headers, raw)
        if self.model.protocol in ("rest-json", "rest-xml"):
            return self._parse_rest(method, path, headers, raw)
        if self.model.protocol == "query":
            return self._parse_query(method, path, headers, raw)
        raise ServiceError("UnknownOperationException", f"protocol {self.model.protocol} is not simulated")

    def _parse_json(self, headers: Any, raw: bytes) -> tuple[OperationModel, dict[str, Any]]:
        target = headers.get("X-Amz-Target", "")
        prefix, _, name = target.partition(".")
        if prefix != self.model.metadata.get("targetPrefix") or name not in self.model.operation_names:
            raise ServiceError("UnknownOperationException", f"X-Amz-Target {target!r} is not an operation")
        version = self.model.metadata.get("jsonVersion", "1.0")
        if headers.get("Content-Type") != f"application/x-amz-json-{version}":
            raise ServiceError("SerializationException", f"Content-Type {headers.get('Content-Type')!r}")
        try:
            params = json.loads(raw or b"{}")
        except ValueError:
            raise ServiceError("SerializationException", "the body is not JSON") from None
        return self.model.operation_model(name), params

    def _parse_query(self, method: str, path: str, headers: Any, raw: bytes) -> tuple[OperationModel, dict[str, Any]]:
        """``POST /`` with a form body: ``Action``, ``Version`` (the model's ``apiVersion``), then
        the input shape's members as botocore's ``QuerySerializer`` writes them; a key the shape
        has no place for is refused, as the service refuses an unknown parameter."""
        content_type = str(headers.get("Content-Type", ""))
        if method != "POST" or urlsplit(path).path != "/" or not content_type.startswith(FORM_CONTENT_TYPE):
            raise ServiceError("InvalidAction", f"{method} {path} ({content_type!r}) is not a query request")
        try:
            pairs = parse_qs(raw.decode(), keep_blank_values=True, strict_parsing=bool(raw))
        except (UnicodeDecodeError, ValueError):
            raise ServiceError("MalformedQueryString", "the body is not a form") from None
        repeated = sorted(k for k, v in pairs.items() if len(v) > 1)
        if repeated:
            raise ServiceError("MalformedQueryString", f"parameters given more than once: {repeated}")
        form = {k: v[0] for k, v in pairs.items()}
        name = form.get("Action", "")
        if name not in self.model.operation_names:
            raise ServiceError("InvalidAction", f"Action {name!r} is not an operation")
        if form.get("Version") != self.model.metadata.get("apiVersion"):
            raise ServiceError("InvalidParameterValue", f"Version {form.get('Version')!r} is not the API's")
        operation = self.model.operation_model(name)
        used = {"Action", "Version"}
        params: dict[str, Any] = {}
        if operation.input_shape is not None:
            params = from_form(form, operation.input_shape, "", used)
        unknown = sorted(set(form) - used)
        if unknown:
            raise ServiceError("InvalidParameterValue", f"{name} has no parameters {unknown}")
        return operation, params

    def _parse_rest(self, method: str, path: str, headers: Any, raw: bytes) -> tuple[OperationModel, dict[str, Any]]:
        """The operation whose method and URI template match: its path, and the query literals
        the template holds (S3's ``/{Bucket}?location``, ``/{Bucket}?list-type=2``), the one with
        the most literals where several match (``/{Bucket}`` is ListObjects, ``?location``
        GetBucketLocation)."""
        split = urlsplit(path)
        query = parse_qs(split.query, keep_blank_values=True)
        best: tuple[int, OperationModel, dict[str, str]] | None = None
        for name in self.model.operation_names:
            operation = self.model.operation_model(name)
            if operation.http["method"] != method:
                continue
            template, _, literals = operation.http["requestUri"].partition("?")
            labels = match_uri(template, split.path)
            if labels is None or not has_literals(literals, query):
                continue
            specific = len(parse_qs(literals, keep_blank_values=True))
            if best is None or specific > best[0]:
                best = (specific, operation, labels)
        if best is None:
            raise ServiceError("MethodNotAllowedException", f"{method} {split.path} matches no operation", 405)
        _, operation, labels = best
        return operation, self._rest_params(operation, labels, split.query, headers, raw)

    def _rest_params(
        self, operation: OperationModel, labels: Mapping[str, str], query: str, headers: Any, raw: bytes
    ) -> dict[str, Any]:
        shape = operation.input_shape
        assert isinstance(shape, StructureShape)
        queries = parse_qs(query)
        params: dict[str, Any] = {}
        for member, member_shape in shape.members.items():
            location = member_shape.serialization.get("location")
            wire = member_shape.serialization.get("name", member)
            if location == "uri" and wire in labels:
                params[member] = labels[wire]
            elif location == "querystring" and wire in queries:
                params[member] = from_query(queries[wire][0], member_shape)
            elif location == "header" and headers.get(wire) is not None:
                params[member] = headers.get(wire)
        if raw and self.model.protocol == "rest-xml":
            # Only S3's GetBucketLocation is served over REST-XML, and it has no body.
            raise ServiceError("MalformedXML", f"{operation.name}: request bodies are not simulated")
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                raise ServiceError("BadRequestException", "the body is not JSON") from None
            payload = shape.serialization.get("payload")
            if payload:
                params[payload] = body
            elif isinstance(body, dict):
                params.update(body)
        return params

    def _serialize(self, operation: OperationModel, result: Mapping[str, Any]) -> Answer:
        if self.model.protocol == "query":
            return self._serialize_query(operation, result)
        if self.model.protocol == "rest-xml":
            status = int(operation.http.get("responseCode", 200))
            return status, {"Content-Type": "application/xml"}, xml_bytes(self.xml_body(operation, result))
        if self.model.protocol == "json":
            version = self.model.metadata.get("jsonVersion", "1.0")
            body = json.dumps(to_wire(result)).encode()
            return 200, {"Content-Type": f"application/x-amz-json-{version}"}, body
        status = int(operation.http.get("responseCode", 200))
        shape = operation.output_shape
        payload = shape.serialization.get("payload") if shape is not None else None
        content = result.get(payload) if payload else result
        return status, {"Content-Type": "application/json"}, json.dumps(to_wire(content or {})).encode()

    def _serialize_query(self, operation: OperationModel, result: Mapping[str, Any]) -> Answer:
        """``<XResponse xmlns=...><XResult>...</XResult><ResponseMetadata>...`` (the result element
        is the output shape's ``resultWrapper``)."""
        root = ElementTree.Element(f"{operation.name}Response", xmlns=self.model.metadata.get("xmlNamespace", ""))
        shape = operation.output_shape
        if shape is not None:
            wrapper = shape.serialization.get("resultWrapper", f"{operation.name}Result")
            xml_fill(ElementTree.SubElement(root, wrapper), result, shape)
        metadata = ElementTree.SubElement(root, "ResponseMetadata")
        ElementTree.SubElement(metadata, "RequestId").text = REQUEST_ID
        return 200, {"Content-Type": "text/xml"}, xml_bytes(root)

    def xml_body(self, operation: OperationModel, result: Mapping[str, Any]) -> ElementTree.Element:
        """A REST-XML answer's document: the output shape's members under a root element in the
        service's namespace. botocore's parser reads members whatever the root's name; an answer
        the model cannot describe (S3's GetBucketLocation, whose root is the value itself) is the
        subclass's to write."""
        root = ElementTree.Element(f"{operation.name}Result", xmlns=self.model.metadata.get("xmlNamespace", ""))
        if operation.output_shape is not None:
            xml_fill(root, result, operation.output_shape)
        return root

    def error_answer(self, error: ServiceError) -> Answer:
        if self.model.protocol == "rest-xml":
            # S3's error document: <Error><Code/><Message/><RequestId/></Error>, with the HTTP status
            # (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#RESTErrorResponses).
            root = ElementTree.Element("Error")
            ElementTree.SubElement(root, "Code").text = error.code
            ElementTree.SubElement(root, "Message").text = error.message
            ElementTree.SubElement(root, "RequestId").text = REQUEST_ID
            return error.status, {"Content-Type": "application/xml"}, xml_bytes(root)
        if self.model.protocol == "query":
            root = ElementTree.Element("ErrorResponse", xmlns=self.model.metadata.get("xmlNamespace", ""))
            detail = ElementTree.SubElement(root, "Error")
            ElementTree.SubElement(detail, "Type").text = "Sender" if error.status < 500 else "Receiver"
            ElementTree.SubElement(detail, "Code").text = error.code
            ElementTree.SubElement(detail, "Message").text = error.message
            ElementTree.SubElement(root, "RequestId").text = REQUEST_ID
            return error.status, {"Content-Type": "text/xml"}, xml_bytes(root)
        if self.model.protocol == "json":
            body = {"__type": error.code, "message": error.message}
            version = self.model.metadata.get("jsonVersion", "1.0")
            return error.status, {"Content-Type": f"application/x-amz-json-{version}"}, json.dumps(body).encode()
        body = {"Message": error.message, "RequestID": "00000000-0000-4000-8000-000000000000"}
        return (
            error.status,
            {"x-amzn-ErrorType": error.code, "Content-Type": "application/json"},
            json.dumps(body).encode(),
        )
