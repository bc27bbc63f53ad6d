"""Antom (Alipay's global acquiring API, "AMS"): its sandbox, checkout pages and kit
(local/providers/kit.py)."""
