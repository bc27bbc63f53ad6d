"""Alipay payments through payment providers: one adapter per folder of payments/providers/."""
