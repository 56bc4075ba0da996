"""Code and data versions derived from content, never typed by hand.

`code_version(*parts)` hashes what determines an asset's output: the source of its asset function and of
every function, class and module constant of this package that the function reaches (found by reading
the source with `ast`, so nothing is imported and TensorFlow stays unloaded), plus the values its factory
closed over (the example's card, its recipe, its config class). Data held in containers is hashed as
data: a registry dict of builders contributes the builders' names, not their bodies, so changing one
builder changes only the examples that name it (`Ref` points at a builder explicitly).

`data_version(payload)` hashes a JSON-able description of an output's inputs (upstream data versions,
resolved hyper-parameters, profile, seed, code version).
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import hashlib
import inspect
import json
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

PACKAGE = "ztdl_pipeline"
_PACKAGE_DIR = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Ref:
    """A module-level definition named by module and name (e.g. a model builder picked by a string)."""

    module: str
    name: str


def code_version(*parts: Any) -> str:
    """A short, stable hash of the source and data that `parts` stand for."""
    return hashlib.sha256(_Fingerprint().text(parts).encode()).hexdigest()[:16]


def data_version(payload: Mapping[str, Any]) -> str:
    """sha256 of a JSON description of an output's inputs (keys sorted, so order does not matter)."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def has_definition(ref: Ref) -> bool:
    """Whether `ref` names a top-level function, class or assignment in its module's source."""
    module = _module(ref.module)
    return module is not None and ref.name in module.definitions


# ------------------------------------------------------------------ reading the package's source


@dataclass
class _Module:
    name: str
    definitions: dict[str, ast.AST]  # top-level def / class / assignment nodes by name
    imports: dict[str, tuple[str, str | None]]  # alias -> (module, attribute or None for a module)
    lines: list[str]
    package: str  # what relative imports start from

    def text(self, node: ast.AST) -> str:
        """The node's source lines (whole lines: cheaper than ast.get_source_segment, same for top-level defs)."""
        return "".join(self.lines[node.lineno - 1:node.end_lineno])


def _module_file(name: str) -> Path | None:
    if name != PACKAGE and not name.startswith(PACKAGE + "."):
        return None
    relative = Path(*name.split(".")[1:])
    for candidate in (_PACKAGE_DIR / relative.with_suffix(".py"), _PACKAGE_DIR / relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _import_targets(node: ast.Import | ast.ImportFrom, package: str) -> dict[str, tuple[str, str | None]]:
    targets: dict[str, tuple[str, str | None]] = {}
    if isinstance(node, ast.Import):
        for alias in node.names:
            targets[alias.asname or alias.name.split(".")[0]] = (alias.name if alias.asname else
                                                                 alias.name.split(".")[0], None)
        return targets
    base = node.module or ""
    if node.level:  # relative import
        parts = package.split(".")[: len(package.split(".")) - node.level + 1]
        base = ".".join([*parts, base] if base else parts)
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        is_module = _module_file(submodule) is not None
        targets[alias.asname or alias.name] = (submodule, None) if is_module else (base, alias.name)
    return targets


@cache
def _module(name: str) -> _Module | None:
    path = _module_file(name)
    if path is None:
        return None
    source = path.read_text()
    tree = ast.parse(source)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    definitions: dict[str, ast.AST] = {}
    imports: dict[str, tuple[str, str | None]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            definitions[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for leaf in ast.walk(target):
                    if isinstance(leaf, ast.Name):
                        definitions[leaf.id] = node
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.update(_import_targets(node, package))
    return _Module(name, definitions, imports, source.splitlines(keepends=True), package)


def _references(node: ast.AST, module: _Module, local_imports: Mapping[str, tuple[str, str | None]]
                ) -> list[Ref]:
    """Package definitions that `node` names: plain names and `module_alias.attribute`."""
    imports = {**module.imports, **local_imports}
    found: list[Ref] = []
    for leaf in ast.walk(node):
        if isinstance(leaf, ast.Attribute) and isinstance(leaf.value, ast.Name):
            target = imports.get(leaf.value.id)
            if target and target[1] is None:
                found.append(Ref(target[0], leaf.attr))
        elif isinstance(leaf, ast.Name):
            if leaf.id in module.definitions:
                found.append(Ref(module.name, leaf.id))
            elif leaf.id in imports and imports[leaf.id][1] is not None:
                found.append(Ref(*imports[leaf.id]))  # type: ignore[arg-type]
    return found


def _local_imports(node: ast.AST, package: str) -> dict[str, tuple[str, str | None]]:
    local: dict[str, tuple[str, str | None]] = {}
    for leaf in ast.walk(node):
        if isinstance(leaf, (ast.Import, ast.ImportFrom)):
            local.update(_import_targets(leaf, package))
    return local


@cache
def _definition(ref: Ref) -> tuple[str, tuple[Ref, ...]] | None:
    """The source text of a top-level definition and the package definitions it names (none for data
    tables: a dict of builders is hashed as text, its entries are not followed)."""
    module = _module(ref.module)
    node = module.definitions.get(ref.name) if module else None
    if module is None or node is None:
        return None  # outside the package, or a name set at run time: the name is all we know
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        return module.text(node), ()
    return module.text(node), tuple(_references(node, module, _local_imports(node, module.package)))


@cache
def _closure(root: Ref) -> tuple[tuple[str, str], ...]:
    """(label, source) of `root` and of every package definition it reaches, in a stable order."""
    found: dict[str, str] = {}
    stack = [root]
    while stack:
        ref = stack.pop()
        label = f"{ref.module}:{ref.name}"
        if label in found:
            continue
        definition = _definition(ref)
        found[label] = definition[0] if definition else ""
        if definition:
            stack.extend(definition[1])
    return tuple(sorted(found.items()))


@cache
def _nested(code: Any, module_name: str) -> tuple[str, tuple[Ref, ...]]:
    """Source and references of a function made inside a factory, once per code object (every function a
    factory makes shares its code object; only the closed-over values differ)."""
    source = textwrap.dedent(inspect.getsource(code))
    module = _module(module_name)
    if module is None:
        return source, ()
    tree = ast.parse(source)
    return source, tuple(_references(tree, module, _local_imports(tree, module.package)))


class _Fingerprint:
    """Collects canonical text for objects; each package definition is written once."""

    def __init__(self) -> None:
        self.seen: set[Any] = set()
        self.parts: list[str] = []

    def text(self, parts: Any) -> str:
        head = self.value(parts, follow=True)
        return head + "\n" + "\n".join(self.parts)

    # -- source

    def definition(self, ref: Ref) -> str:
        """Add a module-level definition and everything it reaches, once each; return its name."""
        for label, text in _closure(ref):
            if label not in self.seen:
                self.seen.add(label)
                self.parts.append(f"## {label}\n{text}")
        return f"{ref.module}:{ref.name}"

    def function(self, fn: Any, follow: bool) -> str:
        module_name = getattr(fn, "__module__", "") or ""
        qualname = getattr(fn, "__qualname__", getattr(fn, "__name__", repr(fn)))
        if not module_name.startswith(PACKAGE):
            return f"{module_name}.{qualname}"
        if not follow:
            return f"{module_name}:{qualname}"
        if "<locals>" not in qualname:
            return self.definition(Ref(module_name, qualname.split(".")[0]))
        # a function made inside a factory: its own source, what it names, and what it closed over
        label, key = f"{module_name}:{qualname}", f"{module_name}:{qualname}@{id(fn)}"
        if key in self.seen:
            return label
        self.seen.add(key)
        source, references = _nested(fn.__code__, module_name)
        self.parts.append(f"## {module_name}:{qualname}\n{source}")
        for reference in references:
            self.definition(reference)
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
            try:
                contents = cell.cell_contents
            except ValueError:  # an empty cell (the function itself, before assignment)
                continue
            self.parts.append(f"## {qualname}.{name} = {self.value(contents, follow=True)}")
        return label

    # -- values

    def value(self, obj: Any, follow: bool) -> str:
        if obj is None or isinstance(obj, (bool, int, float, str, bytes)):
            return repr(obj)
        if isinstance(obj, enum.Enum):
            return f"{type(obj).__qualname__}.{obj.name}"
        if isinstance(obj, Ref):
            return self.definition(obj) if follow else f"{obj.module}:{obj.name}"
        if isinstance(obj, Mapping):
            items = sorted((str(k), self.value(v, follow=False)) for k, v in obj.items())
            return "{" + ", ".join(f"{k}: {v}" for k, v in items) + "}"
        if isinstance(obj, (list, tuple)):
            return "[" + ", ".join(self.value(v, follow) for v in obj) + "]"
        if isinstance(obj, (set, frozenset)):
            return "{" + ", ".join(sorted(self.value(v, follow=False) for v in obj)) + "}"
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            kind = self.value(type(obj), follow)
            fields = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
            return kind + "(" + ", ".join(f"{k}={self.value(v, follow)}" for k, v in fields.items()) + ")"
        if inspect.isfunction(obj) or inspect.ismethod(obj) or inspect.isclass(obj):
            return self.function(obj, follow)
        if inspect.ismodule(obj):
            return obj.__name__
        kind = self.value(type(obj), follow)  # an instance, e.g. a model family: its class and state
        state = {k: v for k, v in vars(obj).items() if not k.startswith("_")} if hasattr(obj, "__dict__") else {}
        return kind + self.value(state, follow=False)


# Parsing and walking the source is most of what code versions cost. core/source_cache keeps each module's
# reading across processes (keyed by its source) and puts cached readers in the place of `_module`,
# `_definition`, `_nested` and `_closure`, with the same results. The definitions above keep their text:
# every asset's code version includes them (its decorator reaches code_version and all that it calls), so
# editing one of them changes all 241 versions.
from ztdl_pipeline.core import source_cache  # noqa: E402  (it reads this module's names when installed)

source_cache.install(globals())
