"""UseePay: its sandbox, checkout page and kit (local/providers/kit.py)."""
