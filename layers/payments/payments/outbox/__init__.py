"""The outbox: from a committed change to the merchant. The audit events the engine commits become
merchant events (merchant_events.py), published from the table's stream and again when the merchant
asks (publisher.py), delivered as signed webhooks (webhooks.py) and listed for catching up
(event_queries.py)."""
