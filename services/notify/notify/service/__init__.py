"""Notify's use cases: no Flask, no Kafka, no pymongo (those are in api/, the worker and store)."""
