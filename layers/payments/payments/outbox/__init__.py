"""The outbox: from a committed change to the merchant. The audit events the engine commits become
merchant events (merchant_events.py), published from the table's stream and again when the merchant
asks (publisher.py), delivered as signed webhooks (webhooks.py), listed for catching up
(event_queries.py) and, per order, with where each one's delivery stands (order_events.py)."""
