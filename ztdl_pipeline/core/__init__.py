"""Framework-free logic: no Dagster import anywhere in this package.

Modules that need Keras/TensorFlow import it at module level; the Dagster wiring imports those
modules lazily inside asset bodies so that loading the code location stays fast.
"""
