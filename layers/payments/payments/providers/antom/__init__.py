"""Antom (Alipay's global acquiring API): docs/providers/antom.md."""
