"""A function's init without the cyclic garbage collector running through it, and without the
Powertools resolvers it never uses.

Init imports the libraries and makes the clients: hundreds of thousands of objects (botocore's service
models above all), nearly all of which live as long as the process. Meanwhile the collector, set off
by the allocations, walks them again and again and frees next to nothing: ~10 % of an init's CPU
(bench/README.md, "Cold start"). So, in a Lambda environment (LAMBDA_TASK_ROOT is set), importing
this layer pauses it, and `init_done()` — the last line of every handler module — moves what init
made into the permanent generation (`gc.freeze()`: the collections during requests do not walk it
either) and lets it run again.

Powertools' `event_handler` package imports every resolver it has when it is imported — AppSync (and
with it asyncio), Bedrock agents, VPC Lattice, Lambda function URLs — though a handler uses one, the
REST resolver of its `api_gateway` module: ~20 ms of an init's CPU, an eighth of the floor's
(bench/README.md, "Cold start"). So, in Lambda, the package is imported without running its
`__init__`: a name it re-exports comes from the submodule that defines it, loaded then
(`from aws_lambda_powertools.event_handler import AppSyncResolver` loads AppSync's, and only it).

Elsewhere (tests, the local stack in-process) nothing changes; tests/unit/test_cold_start_imports.py
runs the functions' inits as Lambda does.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import os
import sys
from collections.abc import Iterable
from typing import Any

IN_LAMBDA = bool(os.environ.get("LAMBDA_TASK_ROOT"))
DEFERRED_PACKAGES = ("aws_lambda_powertools.event_handler",)

_paused = IN_LAMBDA and gc.isenabled()
if _paused:
    gc.disable()


def defer_package_init(name: str) -> None:
    """Make package `name` importable without running its `__init__`. Its submodules import as
    usual; a name its `__init__` imports from one of them comes from that submodule (the same
    object); any other name runs the `__init__` first, once, into the same module."""
    if name in sys.modules:
        return  # already imported: nothing to save
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return  # not an installed package: let its import fail where it is written
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader
    exports: dict[str, tuple[str, str]] | None = None

    def __getattr__(attribute: str) -> Any:  # noqa: N807 (a module's __getattr__, PEP 562)
        nonlocal exports
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        if exports is None:
            exports = _reexports(name, loader)
        if attribute in exports:
            module, original = exports[attribute]
            value = getattr(importlib.import_module(module), original)
            setattr(package, attribute, value)  # as the __init__ would have: asked once
            return value
        try:
            return importlib.import_module(f"{name}.{attribute}")
        except ModuleNotFoundError as missing:
            if missing.name != f"{name}.{attribute}":
                raise
        if vars(package).get("__getattr__") is __getattr__:  # the __init__ once, then its names
            del package.__getattr__
            loader.exec_module(package)
        try:
            return vars(package)[attribute]
        except KeyError:
            raise AttributeError(f"module {name!r} has no attribute {attribute!r}") from None

    package.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules[name] = package


def _reexports(package: str, loader: Any) -> dict[str, tuple[str, str]]:
    """What the package's `__init__` imports from its own submodules at its top level, by the name it
    gives it: (submodule, name there). Read from its source; none when it has no source."""
    import ast

    source = loader.get_source(package) if hasattr(loader, "get_source") else None
    if not source:
        return {}
    names: dict[str, tuple[str, str]] = {}
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ImportFrom) or node.level > 1:
            continue
        module = f"{package}.{node.module}" if node.level == 1 else node.module or ""
        if module.startswith(f"{package}."):
            for alias in node.names:
                names[alias.asname or alias.name] = (module, alias.name)
    return names


if IN_LAMBDA:
    for _package in DEFERRED_PACKAGES:
        defer_package_init(_package)


PRELOADING_INITS = frozenset({"snap-start", "provisioned-concurrency"})


def init_done(preload: Iterable[str] = ()) -> None:
    """Call once, at the end of the handler module: the modules its requests load later, loaded now
    for a snapshot or provisioned concurrency; then the collector runs again (if it was paused)."""
    global _paused
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") in PRELOADING_INITS:
        for module in preload:
            importlib.import_module(module)
    if _paused:
        gc.freeze()
        gc.enable()
        _paused = False
