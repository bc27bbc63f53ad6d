"""Alipay's international gateway: its adapter (docs/providers/alipay-intl.md)."""
