"""The Docker-free local stack (`make dev`) and the pieces the tests share with it.

Handlers, and the demo shop's money formatting, import the layer's `payments` package, which Lambda
finds in /opt/python: here it is found beside us, in layers/payments.
"""

import sys
from pathlib import Path

_LAYER = str(Path(__file__).resolve().parent.parent / "layers" / "payments")
if _LAYER not in sys.path:
    sys.path.insert(0, _LAYER)
