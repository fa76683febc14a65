"""Portal's use cases: no Flask, no Kafka, no pymongo (store.py holds every read and write)."""
