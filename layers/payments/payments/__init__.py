"""Alipay payments through payment providers: one adapter per folder of payments/providers/."""

from payments import coldstart as coldstart  # first: in Lambda, the collector waits until init is done
