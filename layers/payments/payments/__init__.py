"""Alipay payments through MultiSafepay, UseePay and Alipay's international gateway."""
