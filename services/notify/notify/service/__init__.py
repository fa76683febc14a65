"""Notify's use cases: plain functions over the store; no Flask, no Kafka, no pymongo."""
