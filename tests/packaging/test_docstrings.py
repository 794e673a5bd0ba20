"""The public API is documented where ``make docs`` (pdoc) finds it, every option with its default.

The public API is what ``export_constructs.__all__`` and ``export_constructs.testing.__all__``
export, and the classes of this package they inherit from. The rules, as pdoc reads them:

- every public class, function, method and property has a docstring of its own, and so has
  every construct's ``__init__`` (pdoc would show ``Construct.__init__``'s otherwise);
- a public constant has a docstring below its assignment, in the module that defines it;
- every public attribute (a class-level declaration, an enum member, a dataclass field, or
  anything a method assigns to ``self.<name>``) is declared in the class body (or at the top
  of ``__init__``) with a docstring right below it;
- a construct's docstring has a Google-style ``Args:`` section naming exactly its
  ``__init__`` parameters; any other public callable's names at least its keyword-only and
  optional parameters; no ``Args:`` entry names a parameter that does not exist; the entry of
  every optional parameter says what happens when it is omitted (``Default: ...``).
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import functools
import importlib
import inspect
import re
import sys
import textwrap
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from constructs import Construct

import export_constructs
import export_constructs.testing

PACKAGE = export_constructs.__name__
MODULES = (export_constructs, export_constructs.testing)


def public_names() -> list[tuple[ModuleType, str]]:
    return [(module, name) for module in MODULES for name in module.__all__]


def _id(entry: tuple[ModuleType, str]) -> str:
    return f"{entry[0].__name__}.{entry[1]}"


PUBLIC = public_names()
PUBLIC_CLASSES = [(m, n) for m, n in PUBLIC if inspect.isclass(getattr(m, n))]
PUBLIC_FUNCTIONS = [(m, n) for m, n in PUBLIC if inspect.isfunction(getattr(m, n))]
CONSTRUCTS = [(m, n) for m, n in PUBLIC_CLASSES if issubclass(getattr(m, n), Construct)]


def own_classes(cls: type, package: str = PACKAGE) -> list[type]:
    """``cls`` and the classes of ``package`` it inherits from (their members are public too)."""
    return [c for c in cls.__mro__ if c.__module__.startswith(package)]


@functools.cache
def class_tree(cls: type) -> ast.ClassDef:
    source = textwrap.dedent(inspect.getsource(cls))
    tree = ast.parse(source).body[0]
    assert isinstance(tree, ast.ClassDef), cls
    return tree


def _string_after(body: list[ast.stmt], index: int) -> bool:
    following = body[index + 1] if index + 1 < len(body) else None
    return (
        isinstance(following, ast.Expr)
        and isinstance(following.value, ast.Constant)
        and isinstance(following.value.value, str)
        and bool(following.value.value.strip())
    )


def _target_name(statement: ast.stmt, *, self_attribute: bool) -> str | None:
    """The name a statement assigns: ``name = ...`` / ``name: T`` in a class body, or
    ``self.name = ...`` / ``self.name: T = ...`` in a method."""
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        targets = [statement.targets[0]]
    elif isinstance(statement, ast.AnnAssign):
        targets = [statement.target]
    for target in targets:
        if not self_attribute and isinstance(target, ast.Name):
            return target.id
        if (
            self_attribute
            and isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "self"
        ):
            return target.attr
    return None


def declared_attributes(cls: type) -> dict[str, bool]:
    """Attributes declared in the class body or at the top of ``__init__``: name -> documented
    (a string literal right below the declaration, which pdoc shows as its docstring)."""
    tree = class_tree(cls)
    found: dict[str, bool] = {}
    for i, statement in enumerate(tree.body):
        name = _target_name(statement, self_attribute=False)
        if name is not None:
            found[name] = found.get(name, False) or _string_after(tree.body, i)
        if isinstance(statement, ast.FunctionDef) and statement.name == "__init__":
            for j, inner in enumerate(statement.body):
                name = _target_name(inner, self_attribute=True)
                if name is not None:
                    found[name] = found.get(name, False) or _string_after(statement.body, j)
    return found


def assigned_attributes(cls: type) -> set[str]:
    """Every ``self.<name>`` any method of the class assigns, at any depth (``self.a = b = ...``
    included, which pdoc cannot document)."""
    names: set[str] = set()
    for node in ast.walk(class_tree(cls)):
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        for target in targets:
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
                names.add(target.attr)
    return names


def public(name: str) -> bool:
    return not name.startswith("_")


def undocumented_members(cls: type, package: str = PACKAGE) -> Iterator[str]:
    """The class's public members that pdoc would show without a docstring."""
    chain = own_classes(cls, package)
    documented: set[str] = set()
    seen: dict[str, str] = {}  # attribute -> the class it was first found in
    for klass in chain:
        for name, has_doc in declared_attributes(klass).items():
            seen.setdefault(name, klass.__qualname__)
            if has_doc:
                documented.add(name)
        for name in sorted(assigned_attributes(klass)):
            seen.setdefault(name, klass.__qualname__)
    for klass in chain:
        for name, member in vars(klass).items():
            function = member.fget if isinstance(member, property) else member
            if isinstance(member, functools.cached_property):
                function = member.func
            if isinstance(function, staticmethod | classmethod):
                function = function.__func__
            if public(name) and inspect.isfunction(function) and not (function.__doc__ or "").strip():
                yield f"{klass.__qualname__}.{name}: a public method or property without a docstring"
    for name, owner in seen.items():
        if public(name) and name not in documented:
            yield (
                f"{owner}.{name}: a public attribute without a docstring (declare it in the class body, "
                "`name: Type`, with a docstring right below)"
            )


# -- the Args sections -------------------------------------------------------------------------

ENTRY = re.compile(r"(?P<name>\*{0,2}\w+)(?: \([^)]*\))?:(?:\s+(?P<text>.*))?$")


def args_section(doc: str | None) -> dict[str, str] | None:
    """A Google-style ``Args:`` section as {parameter: its text}, or None when there is none."""
    lines = inspect.cleandoc(doc or "").splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Args:")
    except StopIteration:
        return None
    section_indent = len(lines[start]) - len(lines[start].lstrip())
    entries: dict[str, str] = {}
    entry_indent: int | None = None
    current: str | None = None
    for line in lines[start + 1 :]:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent <= section_indent:
            break
        if entry_indent is None:
            entry_indent = indent
        match = ENTRY.match(line.strip()) if indent == entry_indent else None
        if match:
            current = match["name"].lstrip("*")
            entries[current] = match["text"] or ""
        elif current is not None:
            entries[current] += " " + line.strip()
    return entries


def signature_parameters(function: Callable[..., Any]) -> list[inspect.Parameter]:
    return [
        p
        for p in inspect.signature(function).parameters.values()
        if p.name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def args_problems(owner: str, doc: str | None, function: Callable[..., Any], *, every_parameter: bool) -> list[str]:
    """What the ``Args:`` section of ``doc`` lacks for ``function``'s parameters."""
    parameters = signature_parameters(function)
    required_names = [
        p.name for p in parameters if every_parameter or p.kind is p.KEYWORD_ONLY or p.default is not p.empty
    ]
    entries = args_section(doc)
    if entries is None:
        return [f"{owner}: no Args section for {required_names}"] if required_names else []
    problems = [f"{owner}: Args lacks {name!r}" for name in required_names if name not in entries]
    names = {p.name for p in parameters}
    problems += [f"{owner}: Args names {name!r}, which is not a parameter" for name in entries if name not in names]
    for p in parameters:
        if p.default is not p.empty and p.name in entries and "Default" not in entries[p.name]:
            problems.append(f"{owner}: Args entry of optional {p.name!r} does not say 'Default: ...'")
    return problems


def public_callables(cls: type) -> Iterator[tuple[str, Callable[..., Any]]]:
    """The public methods of ``cls`` and its package bases (not properties): (qualname, function)."""
    for klass in own_classes(cls):
        for name, member in vars(klass).items():
            function = member.__func__ if isinstance(member, staticmethod | classmethod) else member
            if public(name) and inspect.isfunction(function):
                yield f"{klass.__qualname__}.{name}", function


# -- the tests ---------------------------------------------------------------------------------


def test_the_public_api_is_what_the_packages_export() -> None:
    """The lists below are not empty by accident (a renamed ``__all__`` would pass every test)."""
    assert {n for _, n in CONSTRUCTS} >= {
        "ExportDestination",
        "ExportJobProvider",
        "ForecastExportJob",
        "PersonalizeDatasetExportJob",
        "PinpointExportJob",
        "RoboMakerWorldExportJob",
    }
    assert {n for _, n in PUBLIC_FUNCTIONS} >= {"simulate", "fake_class"}
    for module, name in PUBLIC:
        assert hasattr(module, name), f"{module.__name__}.__all__ names {name!r}, which it does not have"


def _package_modules(module: ModuleType) -> list[ModuleType]:
    """The modules of ``module``'s package that are already imported (its public names come
    from them)."""
    return [
        importlib.import_module(n)
        for n in sorted(sys.modules)
        if n == module.__name__ or n.startswith(module.__name__ + ".")
    ]


@pytest.mark.parametrize("entry", PUBLIC, ids=_id)
def test_every_public_name_has_a_docstring(entry: tuple[ModuleType, str]) -> None:
    module, name = entry
    value = getattr(module, name)
    if inspect.isclass(value) or inspect.isfunction(value):
        # Its own docstring: inspect.getdoc() would fall back to a base class's.
        own = vars(value).get("__doc__") if inspect.isclass(value) else value.__doc__
        assert (own or "").strip(), f"{module.__name__}.{name} has no docstring"
    else:  # a constant: documented below its assignment in the module that defines it
        defining = [
            m
            for m in _package_modules(module)
            if name in {_target_name(s, self_attribute=False) for s in ast.parse(inspect.getsource(m)).body}
        ]
        assert defining, f"{module.__name__}.{name}: no module of the package assigns it"
        body = ast.parse(inspect.getsource(defining[0])).body
        index = next(i for i, s in enumerate(body) if _target_name(s, self_attribute=False) == name)
        assert _string_after(body, index), f"{defining[0].__name__}.{name} has no docstring below it"


@pytest.mark.parametrize("entry", PUBLIC_CLASSES, ids=_id)
def test_every_public_member_is_documented(entry: tuple[ModuleType, str]) -> None:
    cls = getattr(*entry)
    problems = list(undocumented_members(cls))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("entry", CONSTRUCTS, ids=_id)
def test_construct_args_name_every_parameter_and_each_default(entry: tuple[ModuleType, str]) -> None:
    cls = getattr(*entry)
    problems = args_problems(cls.__name__, cls.__doc__, cls.__init__, every_parameter=True)
    # Without a docstring of its own, pdoc shows Construct.__init__'s (scope and id only).
    if not (vars(cls)["__init__"].__doc__ or "").strip():
        problems.append(f"{cls.__name__}.__init__ has no docstring: the reference would show Construct's")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("entry", [e for e in PUBLIC_CLASSES if e not in CONSTRUCTS], ids=_id)
def test_other_classes_document_their_options(entry: tuple[ModuleType, str]) -> None:
    """A class built by the user (not a dataclass of results, not an enum) documents its
    keyword-only and optional ``__init__`` parameters in the class docstring."""
    cls = getattr(*entry)
    if dataclasses.is_dataclass(cls) or issubclass(cls, enum.Enum) or "__init__" not in vars(cls):
        return
    problems = args_problems(cls.__name__, cls.__doc__, cls.__init__, every_parameter=False)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("entry", PUBLIC_CLASSES, ids=_id)
def test_methods_document_their_options(entry: tuple[ModuleType, str]) -> None:
    cls = getattr(*entry)
    problems: list[str] = []
    for qualname, function in public_callables(cls):
        problems += args_problems(qualname, function.__doc__, function, every_parameter=False)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("entry", PUBLIC_FUNCTIONS, ids=_id)
def test_functions_document_their_options(entry: tuple[ModuleType, str]) -> None:
    function = getattr(*entry)
    problems = args_problems(function.__name__, function.__doc__, function, every_parameter=False)
    assert not problems, "\n".join(problems)


# -- the checks themselves can fail ------------------------------------------------------------


def test_the_checks_find_what_is_missing() -> None:
    class Undocumented(Construct):
        role: str
        bucket: str
        """Documented."""

        def __init__(self, scope: Construct, id: str, *, name: str, size: int = 1, mode: str = "a") -> None:
            """Make one.

            Args:
                scope: parent.
                name: a name.
                size: the size.
                mode: the mode. Default: ``"a"``.
                stale: gone.
            """
            super().__init__(scope, id)
            self.hidden = 1
            if name:
                self.role = name
                self.bucket = name

        def method(self) -> None:
            pass

        @property
        def prop(self) -> int:
            return 1

    problems = args_problems("U", Undocumented.__init__.__doc__, Undocumented.__init__, every_parameter=True)
    assert problems == [
        "U: Args lacks 'id'",
        "U: Args names 'stale', which is not a parameter",
        "U: Args entry of optional 'size' does not say 'Default: ...'",
    ]
    assert list(undocumented_members(Undocumented)) == []  # not in the package: not checked
    missing = sorted(m.split(":")[0].rsplit(".", 1)[1] for m in undocumented_members(Undocumented, __name__))
    assert missing == ["hidden", "method", "prop", "role"]
    assert args_section("Summary.\n\nArgs:\n    a: x.\n        more. Default: 1.\n\nReturns:\n    y.") == {
        "a": "x. more. Default: 1."
    }


@pytest.mark.parametrize(
    "construct",
    [c for c in vars(export_constructs).values() if inspect.isclass(c) and issubclass(c, Construct)],
    ids=lambda c: c.__name__,
)
def test_help_and_signature_show_a_constructs_props(construct: type[Construct]) -> None:
    """jsii's metaclass makes ``inspect.signature`` of a construct class ``(*args, **kwargs)``;
    ``help()`` shows what ``inspect.signature`` says, so a user sees the props there."""
    shown = inspect.signature(construct)
    init = inspect.signature(construct.__init__)
    assert list(shown.parameters) == list(init.parameters)[1:]
    assert list(shown.parameters)[:2] == ["scope", "id"]
    props = [p for p in shown.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert props, "every construct has keyword-only props"
    import pydoc

    rendered = pydoc.plain(pydoc.render_doc(construct))
    assert f"{construct.__name__}(scope: 'Construct', id: 'str', *, {props[0].name}" in rendered
