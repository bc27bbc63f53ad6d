"""MultiSafepay: its sandbox, checkout page and kit (local/providers/kit.py)."""

ALSO_KNOWN_AS = ("msp",)  # in names such as MSP_API_KEY (tests/unit/test_provider_folders.py)
