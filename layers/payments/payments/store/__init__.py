"""All DynamoDB access: one table (table.py, with its key map), the orders repository (orders.py) and
the small stores beside it for merchant events, webhook tries and rejected notifications."""
