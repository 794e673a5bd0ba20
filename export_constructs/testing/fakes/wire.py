"""The wire formats of botocore's protocols, as a fake reads and writes them: the service model,
validation against a shape (as botocore's ParamValidator, plus the constraints it leaves to the
service), the query protocol's form body, XML answers, and REST URI templates."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, unquote
from xml.etree import ElementTree

from botocore.model import ServiceModel, Shape, StructureShape
from botocore.session import get_session
from botocore.validate import ParamValidator

from .base import ServiceError
from .jobs import iso


@functools.cache
def service_model(name: str) -> ServiceModel:
    return get_session().get_service_model(name)


def validate(params: Any, shape: Shape | None, what: str, *, strict: bool = True) -> list[str]:
    """botocore's own validator (types, required members, minimums), then - for requests
    (``strict``) - what it leaves out: enums, maximum lengths and counts, and patterns. Answers
    get botocore's validation only, as the Stubber does: the models reuse request shapes in
    answers whose patterns do not fit them (Personalize's ``roleArn`` has its ``Arn`` pattern)."""
    if shape is None:
        return [] if not params else [f"{what}: the operation takes no members, got {params!r}"]
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        return [f"{what}: {report.generate_report()}"]
    return [f"{what}: {problem}" for problem in _constraints(params, shape, "")] if strict else []


def _constraints(value: Any, shape: Shape, path: str) -> list[str]:
    metadata = shape.metadata
    where = path or "the request"
    problems: list[str] = []
    if isinstance(shape, StructureShape) and isinstance(value, Mapping):
        for name, member in shape.members.items():
            if name in value:
                problems += _constraints(value[name], member, f"{path}.{name}" if path else name)
    elif shape.type_name == "list" and isinstance(value, list):
        if "max" in metadata and len(value) > metadata["max"]:
            problems.append(f"{where} has {len(value)} items, more than {metadata['max']}")
        for i, item in enumerate(value):
            problems += _constraints(item, shape.member, f"{where}[{i}]")
    elif shape.type_name == "map" and isinstance(value, Mapping):
        for key, item in value.items():
            problems += _constraints(key, shape.key, f"{where} key")
            problems += _constraints(item, shape.value, f"{where}[{key!r}]")
    elif shape.type_name == "string" and isinstance(value, str):
        if shape.enum and value not in shape.enum:
            problems.append(f"{where} is {value!r}, not one of {shape.enum}")
        if "max" in metadata and len(value) > metadata["max"]:
            problems.append(f"{where} is {len(value)} characters long, more than {metadata['max']}")
        # Forecast's RoleArn members reuse its generic Arn shape (arn:...:forecast:...), which no
        # IAM role matches, though AWS's own guide passes arn:aws:iam::...:role/... there.
        generic_role = where.endswith("RoleArn") and shape.name == "Arn"
        pattern = None if generic_role else _python_pattern(metadata.get("pattern"))
        if pattern is not None and not pattern.search(value):
            problems.append(f"{where} {value!r} does not match {metadata['pattern']}")
    elif shape.type_name in ("integer", "long") and isinstance(value, int):
        if "max" in metadata and value > metadata["max"]:
            problems.append(f"{where} is {value}, more than {metadata['max']}")
    return problems


@functools.cache
def _python_pattern(pattern: str | None) -> re.Pattern[str] | None:
    """A model pattern in Python's syntax (the Unicode classes ``\\p{L}``, ``\\p{Z}``,
    ``\\p{N}`` as ranges, for use inside ``[...]``); None where there is no pattern or Python
    cannot express it. Applied with ``search``, as the models anchor where they mean to."""
    if not pattern:
        return None
    translated = (
        pattern.replace(r"\p{L}", "a-zA-Z\u00aa-\uffff")
        .replace(r"\p{Z}", r"\s")
        .replace(r"\p{N}", "0-9")
        .replace(r"\p{ASCII}", "[\x00-\x7f]")
    )
    try:
        return re.compile(translated)
    except re.error:
        return None


def to_wire(value: Any) -> Any:
    """JSON-protocol timestamps are epoch seconds."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, Mapping):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_wire(v) for v in value]
    return value


def from_query(value: str, shape: Shape) -> Any:
    if shape.type_name in ("integer", "long"):
        return int(value)
    if shape.type_name == "boolean":
        return value == "true"
    return value


#: The query protocol's request body (botocore's ``QuerySerializer``).
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
#: A placeholder RequestId for the query protocol's answers.
REQUEST_ID = "00000000-0000-4000-8000-000000000000"


class _Absent:
    """No member of that name in the form."""


_ABSENT = _Absent()


def from_form(form: Mapping[str, str], shape: Shape, prefix: str, used: set[str]) -> Any:
    """The value of ``shape`` at ``prefix`` in a query-protocol form, inverting botocore's
    ``QuerySerializer``: structure members ``<prefix>.<name>``; lists ``<prefix>.member.<n>``
    (``.<member name>.<n>`` where the member has a name; flattened: ``<prefix>.<n>``, with the
    last part renamed to the member's name if it has one) and an empty list as ``<prefix>=``;
    maps ``<prefix>.entry.<n>.key`` / ``.value``. Keys read are added to ``used``."""
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        found: dict[str, Any] = {}
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            value = from_form(form, member, f"{prefix}.{wire}" if prefix else wire, used)
            if value is not _ABSENT:
                found[name] = value
        return found if found or not prefix else _ABSENT
    if kind == "list":
        if form.get(prefix) == "":
            used.add(prefix)
            return []
        member = shape.member
        if shape.serialization.get("flattened"):
            list_prefix = prefix
            if member.serialization.get("name"):
                list_prefix = ".".join([*prefix.split(".")[:-1], member.serialization["name"]])
        else:
            list_prefix = f"{prefix}.{member.serialization.get('name', 'member')}"
        items: list[Any] = []
        while (item := from_form(form, member, f"{list_prefix}.{len(items) + 1}", used)) is not _ABSENT:
            items.append(item)
        return items or _ABSENT
    if kind == "map":
        entries = prefix if shape.serialization.get("flattened") else f"{prefix}.entry"
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        mapping: dict[str, Any] = {}
        while True:
            at = f"{entries}.{len(mapping) + 1}"
            key = from_form(form, shape.key, f"{at}.{key_name}", used)
            if key is _ABSENT:
                return mapping or _ABSENT
            mapping[key] = from_form(form, shape.value, f"{at}.{value_name}", used)
    if prefix not in form:
        return _ABSENT
    used.add(prefix)
    return _scalar_from_form(form[prefix], shape, prefix)


def _scalar_from_form(text: str, shape: Shape, where: str) -> Any:
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
        if kind == "timestamp":
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ServiceError("MalformedQueryString", f"{where}={text!r} is not a {kind}") from None
    if kind == "boolean":
        if text not in ("true", "false"):
            raise ServiceError("MalformedQueryString", f"{where}={text!r} is not true or false")
        return text == "true"
    return text


def _xml_member(parent: ElementTree.Element, name: str, value: Any, shape: Shape) -> None:
    """``value`` as the element ``name`` under ``parent`` (a flattened list: one element per item)."""
    if shape.type_name == "list" and shape.serialization.get("flattened"):
        member = shape.member
        for item in value:
            _xml_member(parent, member.serialization.get("name", name), item, member)
        return
    xml_fill(ElementTree.SubElement(parent, name), value, shape)


def xml_fill(element: ElementTree.Element, value: Any, shape: Shape) -> None:
    """Fill ``element`` with ``value`` as botocore's ``QueryParser`` reads it back: structure
    members by their serialized names, list items as ``<member>`` (or the member's name), map
    entries as ``<entry><key/><value/></entry>``, timestamps in ISO 8601, booleans ``true``/``false``."""
    if isinstance(shape, StructureShape):
        for name, member in shape.members.items():
            if isinstance(value, Mapping) and value.get(name) is not None:
                _xml_member(element, member.serialization.get("name", name), value[name], member)
    elif shape.type_name == "list":
        member = shape.member
        for item in value:
            _xml_member(element, member.serialization.get("name", "member"), item, member)
    elif shape.type_name == "map":
        for key, item in value.items():
            entry = ElementTree.SubElement(element, "entry")
            xml_fill(ElementTree.SubElement(entry, shape.key.serialization.get("name", "key")), key, shape.key)
            xml_fill(ElementTree.SubElement(entry, shape.value.serialization.get("name", "value")), item, shape.value)
    elif shape.type_name == "timestamp":
        element.text = iso(value) if isinstance(value, datetime) else str(value)
    elif shape.type_name == "boolean":
        element.text = "true" if value else "false"
    else:
        element.text = str(value)


def xml_bytes(root: ElementTree.Element) -> bytes:
    body: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def has_literals(literals: str, query: Mapping[str, list[str]]) -> bool:
    """Whether the request's ``query`` holds a URI template's query literals (``location``: the
    key; ``list-type=2``: the key with that value)."""
    for key, values in parse_qs(literals, keep_blank_values=True).items():
        if key not in query or (values != [""] and query[key] != values):
            return False
    return True


def match_uri(template: str, path: str) -> dict[str, str] | None:
    """The URI labels of ``path`` if it matches ``template`` (``/v1/apps/{application-id}``)."""
    names: list[str] = []
    parts: list[str] = []
    for literal, label in re.findall(r"([^{]*)(?:\{([^}]+)\})?", template):
        parts.append(re.escape(literal))
        if label:
            names.append(label.rstrip("+"))
            parts.append(f"(?P<g{len(names) - 1}>[^/]+)")
    found = re.fullmatch("".join(parts), path)
    if found is None:
        return None
    return {name: unquote(found.group(f"g{i}")) for i, name in enumerate(names)}
