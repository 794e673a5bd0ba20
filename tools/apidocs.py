"""``make docs``: the API reference (pdoc), as a user of the package reads it.

Three things pdoc does not do on its own:

- a public class shows every public member it has, including those it inherits from a private
  base of this package (the job constructs' ``job_arn``, ``status``, ``wait_condition``... live
  on ``export_constructs._job.ExportJobBase``), as members of its own, and names its first
  public base instead of the private one;
- defaults render as users write them: ``Duration.minutes(50)``, ``RemovalPolicy.RETAIN``
  (not ``<aws_cdk.Duration object at ...>``), an enum's members as their values;
- a cross-reference that resolves to nothing in the reference fails the build: a Sphinx role
  (``:meth:`of```, ``:class:`Scenario```) or a code span naming a class of this package
  (``ExportJobBase.wait_condition``). pdoc would leave it as plain code.

Usage: ``python -m tools.apidocs OUTPUT_DIR MODULE_SPEC...`` (pdoc's module specs, ``!`` excludes);
exit status 1 with one line per broken cross-reference.
"""

from __future__ import annotations

import ast
import contextlib
import enum
import functools
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pdoc
import pdoc.doc
import pdoc.extract
import pdoc.render

PACKAGE = "export_constructs"


def _private_module(modulename: str) -> bool:
    return any(part.startswith("_") for part in modulename.split("."))


def _private_origin(origin: tuple[str, str]) -> bool:
    """A private base of this package: its members belong to the public class that inherits them."""
    modulename, qualname = origin
    return modulename.startswith(PACKAGE) and (_private_module(modulename) or qualname.startswith("_"))


def _own_members(self: pdoc.doc.Class) -> list[pdoc.doc.Doc[Any]]:
    members = list(_ORIGINAL_OWN_MEMBERS.func(self))
    seen = {m.name for m in members}
    for origin, inherited in self._members_by_origin.items():
        if _private_origin(origin):
            members += [m for m in inherited if m.name not in seen]
            seen.update(m.name for m in inherited)
    return members


def _inherited_members(self: pdoc.doc.Class) -> dict[tuple[str, str], list[pdoc.doc.Doc[Any]]]:
    return {k: v for k, v in _ORIGINAL_INHERITED_MEMBERS.func(self).items() if not _private_origin(k)}


def _bases(self: pdoc.doc.Class) -> list[tuple[str, str, str]]:
    """Each private base of this package replaced by its first public ancestor."""
    shown: list[tuple[str, str, str]] = []
    for base in self.obj.__bases__:
        while _private_origin((base.__module__, base.__qualname__)) and base.__bases__:
            base = base.__bases__[0]
        entry = (base.__module__, base.__qualname__, f"{base.__module__}.{base.__qualname__}")
        if base is not object and entry not in shown:
            shown.append(entry)
    return shown


def _duration_repr(duration: Any) -> str:
    seconds = duration.to_seconds()
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds % size == 0:
            return f"Duration.{unit}({seconds // size})"
    return f"Duration.seconds({seconds:g})"


def _enum_repr(member: enum.Enum) -> str:
    return f"{type(member).__name__}.{member.name}"


def _patch(cls: type, name: str, function: Any) -> Any:
    original = next(c.__dict__[name] for c in cls.__mro__ if name in c.__dict__)
    prop = functools.cached_property(function)
    prop.__set_name__(cls, name)
    setattr(cls, name, prop)
    return original


def _default_value_str(self: pdoc.doc.Variable) -> str:
    """An enum's own member shows its value (``SUCCESS = 'success'``), not ``<Scenario.SUCCESS: ...>``."""
    value = self.default_value
    if isinstance(value, enum.Enum) and self.qualname == f"{type(value).__qualname__}.{value.name}":
        return repr(value.value)
    result: str = _ORIGINAL_DEFAULT_VALUE_STR.func(self)
    return result


_ORIGINAL_OWN_MEMBERS = _patch(pdoc.doc.Class, "own_members", _own_members)
_ORIGINAL_INHERITED_MEMBERS = _patch(pdoc.doc.Class, "inherited_members", _inherited_members)
_patch(pdoc.doc.Class, "bases", _bases)
_ORIGINAL_DEFAULT_VALUE_STR = _patch(pdoc.doc.Variable, "default_value_str", _default_value_str)


@contextlib.contextmanager
def _user_reprs() -> Iterator[None]:
    """Defaults as users write them (signatures render ``repr()`` of each default), while pdoc renders."""
    import aws_cdk

    enums: list[type] = [c for c in (enum.Enum, enum.StrEnum, enum.IntEnum, enum.Flag) if "__repr__" in vars(c)]
    patched: list[tuple[type, Any]] = [(aws_cdk.Duration, _duration_repr), *((c, _enum_repr) for c in enums)]
    saved = [(cls, vars(cls).get("__repr__")) for cls, _ in patched]
    for cls, function in patched:
        setattr(cls, "__repr__", function)  # noqa: B010 - a method of a class not ours, while pdoc renders
    try:
        yield
    finally:
        for cls, original in saved:
            if original is None:
                delattr(cls, "__repr__")
            else:
                setattr(cls, "__repr__", original)  # noqa: B010


def load(specs: list[str]) -> dict[str, pdoc.doc.Module]:
    """The documented modules, by name."""
    return {name: pdoc.doc.Module.from_name(name) for name in pdoc.extract.walk_specs(specs)}


# -- cross-references ----------------------------------------------------------------------

_ROLE = re.compile(r"(?::py)?:(?:mod|func|data|const|class|meth|attr|exc|obj):`~?([^`]+)`")
_CODE = re.compile(r"(?<!`)``?([A-Za-z_][\w.]*)(?:\(\))?``?(?!`)")


def _is_public(doc: pdoc.doc.Doc[Any], parent: pdoc.doc.Namespace[Any]) -> bool:
    if doc.name.startswith("_") and doc.name != "__init__":
        return False
    exported = getattr(parent.obj, "__all__", None) if isinstance(parent, pdoc.doc.Module) else None
    return exported is None or doc.name in exported


def public_docs(modules: Mapping[str, pdoc.doc.Module]) -> Iterator[tuple[pdoc.doc.Module, str, pdoc.doc.Doc[Any]]]:
    """Every public object the reference shows: (its page, its qualname there, its doc)."""

    def walk(module: pdoc.doc.Module, namespace: pdoc.doc.Namespace[Any], prefix: str) -> Iterator[Any]:
        members = namespace.own_members if isinstance(namespace, pdoc.doc.Class) else namespace.members.values()
        for doc in members:
            if not _is_public(doc, namespace):
                continue
            qualname = f"{prefix}{doc.name}"
            yield module, qualname, doc
            if isinstance(doc, pdoc.doc.Class):
                yield from walk(module, doc, f"{qualname}.")

    for module in modules.values():
        yield module, "", module
        yield from walk(module, module, "")


@functools.cache
def _package_class_names() -> frozenset[str]:
    """Every class name defined in the package's sources (the handler's and the fakes' too)."""
    root = Path(__file__).resolve().parents[1] / PACKAGE
    names: set[str] = set()
    for source in root.rglob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        names.update(node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef))
    return frozenset(names)


def references(docstring: str) -> set[str]:
    """What ``docstring`` points at: Sphinx roles, and code spans naming a member of a class of
    this package (``Class.member``) or a dotted name in this package."""
    found = {m.group(1).removesuffix("()") for m in _ROLE.finditer(docstring)}
    rest = _ROLE.sub("", docstring)
    classes = _package_class_names()
    for match in _CODE.finditer(rest):
        name = match.group(1).rstrip(".")
        head, dot, _ = name.partition(".")
        if (dot and head in classes) or name.startswith(f"{PACKAGE}."):
            found.add(name)
    return found


def broken_references(modules: Mapping[str, pdoc.doc.Module]) -> list[str]:
    """One line per reference (in a public docstring) to nothing public in the reference."""
    shown = {(module.modulename, qualname) for module, qualname, _ in public_docs(modules)}

    def resolves(module: pdoc.doc.Module, namespace: str, name: str) -> bool:
        if name in modules:
            return True
        scopes = namespace.split(".") if namespace else []
        for depth in range(len(scopes), -1, -1):
            candidate = ".".join([*scopes[:depth], name])
            if (module.modulename, candidate) in shown:
                return True
        for modulename in modules:
            if name.startswith(f"{modulename}.") and (modulename, name[len(modulename) + 1 :]) in shown:
                return True
        return any((m, name) in shown for m in modules)

    broken = []
    for module, qualname, doc in public_docs(modules):
        namespace = qualname if isinstance(doc, pdoc.doc.Class) else qualname.rpartition(".")[0]
        for name in sorted(references(doc.docstring)):
            if not resolves(module, namespace, name):
                where = f"{module.modulename}.{qualname}".rstrip(".")
                broken.append(f"{where}: the docstring refers to `{name}`, which is not in the reference")
    return broken


def render(modules: Mapping[str, pdoc.doc.Module]) -> dict[str, str]:
    """The reference's files (``index.html``, ``search.js``, one page per module) by path."""
    pdoc.render.configure(docformat="google", show_source=False)
    with _user_reprs():
        pages = {
            f"{module.fullname.replace('.', '/')}.html": pdoc.render.html_module(module, modules)
            for module in modules.values()
        }
        pages["index.html"] = pdoc.render.html_index(modules)
        pages["search.js"] = pdoc.render.search_index(modules)
    return pages


def main(argv: list[str]) -> int:
    output, *specs = argv
    modules = load(specs)
    broken = broken_references(modules)
    for line in broken:
        print(f"docs: {line}", file=sys.stderr)
    if broken:
        print(f"docs: {len(broken)} broken cross-reference(s); nothing written", file=sys.stderr)
        return 1
    for path, text in render(modules).items():
        out = Path(output) / path
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
