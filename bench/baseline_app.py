"""The baseline of ``bench_intake.py``: the least a Flask endpoint can do to store an upload.

``POST /insert`` reads the request body and inserts one document holding it (as bytes) into
``bench_baseline.inserts`` on the store at ``MONGO_URL``; it answers ``201 {"id": ...}``. No schema,
no validation, no logging, no metrics: what is left is Flask, gunicorn and one write.
Started by the benchmark under the services' gunicorn settings::

    MONGO_URL=mongodb://127.0.0.1:27017/ gunicorn -c deploy/gunicorn.conf.py baseline_app:app
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from bson import Binary
from flask import Flask, jsonify, request
from pymongo import MongoClient

DATABASE = "bench_baseline"
COLLECTION = "inserts"


def store_client(appname: str) -> MongoClient[dict[str, object]]:
    """The store at `MONGO_URL` with the services' client options (eventkit.mongo.connect):
    FerretDB has no retryable writes."""
    return MongoClient(
        os.environ["MONGO_URL"],
        appname=appname,
        serverSelectionTimeoutMS=3000,
        connectTimeoutMS=3000,
        socketTimeoutMS=10_000,
        retryWrites=False,
        tz_aware=True,
    )


app = Flask(__name__)
collection = store_client("bench-baseline")[DATABASE][COLLECTION]


@app.post("/insert")
def insert() -> tuple[object, int]:
    data = request.get_data()
    result = collection.insert_one({"data": Binary(data), "size": len(data), "at": datetime.now(UTC)})
    return jsonify(id=str(result.inserted_id)), 201
