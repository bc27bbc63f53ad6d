"""Tests of one provider, and its test fixtures (fixtures.py)."""
