"""The baseline of ``bench_portal.py``: a Flask page that does nothing but answer.

``GET /`` returns the same small HTML page every time: no store, no template, no logging, no
metrics. What is left is Flask and gunicorn. Started by the benchmark under the services'
gunicorn settings::

    gunicorn -c deploy/gunicorn.conf.py constant_app:app
"""

from __future__ import annotations

from flask import Flask

PAGE = (
    '<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Cổng thông tin điện tử</title>'
    "</head><body><main><h1>Tra cứu hồ sơ</h1><p>Một trang không đổi.</p></main></body></html>"
)

app = Flask(__name__)


@app.get("/")
def page() -> tuple[str, int, dict[str, str]]:
    return PAGE, 200, {"Content-Type": "text/html; charset=utf-8"}
