"""The baseline of ``bench_processing.py``'s actions: the least a Flask endpoint can do to change a
dossier.

``POST /update/<code>`` sets one field of dossier ``code`` in the ``dossiers`` collection of the
database ``MONGO_DB`` on the store at ``MONGO_URL`` (one single-document update by ``_id``) and
answers ``200 {"matched": n}``. No token, schema, workflow, history, event or log. Started by the
benchmark under the services' gunicorn settings::

    MONGO_URL=mongodb://127.0.0.1:27017/ MONGO_DB=bench_processing_large \\
        gunicorn -c deploy/gunicorn.conf.py update_app:app
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from baseline_app import store_client
from flask import Flask, jsonify

app = Flask(__name__)
dossiers = store_client("bench-update")[os.environ["MONGO_DB"]]["dossiers"]


@app.post("/update/<code>")
def update(code: str) -> tuple[object, int]:
    result = dossiers.update_one({"_id": code}, {"$set": {"checked_at": datetime.now(UTC)}})
    return jsonify(matched=result.matched_count), 200
