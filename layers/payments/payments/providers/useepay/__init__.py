"""UseePay: its adapter (docs/providers/useepay.md)."""
