"""Checks Python examples against the Plaza SDK for Python and the bindings
componentize-py makes of the full world (`plaza:host/mini-app`).

    python3 check_python_examples.py EXAMPLE.py ...

with `plaza_sdk` and the bindings (`wit_world`) on `PYTHONPATH`. Each
example is imported, which runs its top level: every `import` must resolve
(a module of the SDK or an interface of the world, and the names taken from
it). Then every attribute read from a module or class of the SDK or the
bindings must exist (`storage.get_txt` is an error), and every call of a
function or class of theirs must fit its signature (the number of
arguments, the keyword names). Prints each problem and exits 1 if any.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import sys
import types
from pathlib import Path

CHECKED = ("plaza_sdk", "wit_world", "componentize_py_types")


def ours(obj: object) -> bool:
    """Whether `obj` is a module, class or function of the SDK or the bindings."""
    if isinstance(obj, types.ModuleType):
        name = obj.__name__
    else:
        name = getattr(obj, "__module__", None) or ""
    return name.split(".")[0] in CHECKED


def resolve(node: ast.expr, scope: dict) -> object:
    """The object a `name` or `name.attr...` expression reads, if it is
    known at import time (else `None`)."""
    if isinstance(node, ast.Name):
        return scope.get(node.id)
    if isinstance(node, ast.Attribute):
        base = resolve(node.value, scope)
        return getattr(base, node.attr, None) if base is not None else None
    return None


def check(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # an import that does not resolve, say
        return [f"{path}: importing it fails: {type(e).__name__}: {e}"]
    scope = vars(module)
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            base = resolve(node.value, scope)
            if base is not None and ours(base) and isinstance(base, (types.ModuleType, type)):
                if not hasattr(base, node.attr):
                    problems.append(f"{path}:{node.lineno}: `{ast.unparse(node)}`: {base.__name__} has no `{node.attr}`")
        if isinstance(node, ast.Call):
            target = resolve(node.func, scope)
            if target is None or not callable(target) or not ours(target):
                continue
            if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
                continue
            try:
                signature = inspect.signature(target)
            except (TypeError, ValueError):
                continue
            args = [object()] * len(node.args)
            kwargs = {k.arg: object() for k in node.keywords}
            try:
                signature.bind(*args, **kwargs)
            except TypeError as e:
                problems.append(f"{path}:{node.lineno}: `{ast.unparse(node.func)}(...)`: {e}")
    return problems


def main() -> int:
    problems = []
    for name in sys.argv[1:]:
        problems += check(Path(name))
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
