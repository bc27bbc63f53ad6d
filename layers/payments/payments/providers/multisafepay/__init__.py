"""MultiSafepay: its adapter (docs/providers/multisafepay.md)."""
