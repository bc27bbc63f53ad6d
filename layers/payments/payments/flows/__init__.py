"""The flows: what a merchant request, a provider notification or a reconciliation run does to an order,
each deciding through the gate (gate.py) and committing through the engine (payments/engine.py)."""
