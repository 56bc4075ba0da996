"""Dagster wiring only: one module per domain, plus the factory for the patterns that repeat."""
