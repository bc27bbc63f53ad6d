"""A function's init without the cyclic garbage collector running through it.

Init imports the libraries and makes the clients: hundreds of thousands of objects (botocore's service
models above all), nearly all of which live as long as the process. Meanwhile the collector, set off
by the allocations, walks them again and again and frees next to nothing: ~10 % of an init's CPU
(bench/README.md, "Cold start"). So, in a Lambda environment (LAMBDA_TASK_ROOT is set), importing
this layer pauses it, and `init_done()` — the last line of every handler module — moves what init
made into the permanent generation (`gc.freeze()`: the collections during requests do not walk it
either) and lets it run again. Elsewhere (tests, the local stack in-process) nothing changes.
"""

from __future__ import annotations

import gc
import importlib
import os
from collections.abc import Iterable

_paused = bool(os.environ.get("LAMBDA_TASK_ROOT")) and gc.isenabled()
if _paused:
    gc.disable()


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
