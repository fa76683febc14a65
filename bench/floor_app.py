"""The floor of ``bench_intake.py``: what a filing costs when nothing is checked at all.

The same two requests as a filing with intake (``POST /api/v1/uploads`` multipart, then
``POST /api/v1/dossiers`` JSON), each doing the fewest store operations a filing can be made
of: the upload is one insert of its bytes; the dossier takes a number from one counter
(find-and-modify with ``$inc``) and is one insert. No schema, no validation of the applicant,
the procedure or the upload, no idempotency, no lookup secret, no outbox marker, no logging or
metrics. It measures the shape of the work (two requests, three writes) on this machine, so the
report can tell what intake's checks and guarantees cost from what any filing would cost.
Started by the benchmark under the services' gunicorn settings, like the baseline.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from baseline_app import store_client
from bson import Binary
from flask import Flask, jsonify, request
from pymongo import ReturnDocument

DATABASE = "bench_floor"

app = Flask(__name__)
db = store_client("bench-floor")[DATABASE]


@app.post("/api/v1/uploads")
def upload() -> tuple[object, int]:
    data = request.files["file"].read()
    upload_id = uuid.uuid4().hex
    db.uploads.insert_one(
        {"_id": upload_id, "data": Binary(data), "size": len(data), "at": datetime.now(UTC)}
    )
    return jsonify(id=upload_id), 201


@app.post("/api/v1/dossiers")
def file() -> tuple[object, int]:
    body = request.get_json()
    counter = db.counters.find_one_and_update(
        {"_id": "numbers"}, {"$inc": {"seq": 1}}, upsert=True, return_document=ReturnDocument.AFTER
    )
    # FerretDB's $inc is not atomic under concurrency: a random tail keeps the codes unique here.
    code = f"{counter['seq']:06d}-{uuid.uuid4().hex[:8]}"
    db.dossiers.insert_one({"_id": code, **body, "submitted_at": datetime.now(UTC)})
    return jsonify(code=code, status="submitted"), 201
