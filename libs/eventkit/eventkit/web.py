"""The Flask shell every service shares: OpenAPI, errors, health, metrics, correlation, auth.

Each service's `create_app` calls `create_service_app` with its blueprints and its database,
so every API answers the same way: JSON errors `{code, status, message, errors}`, `GET /healthz`,
`GET /readyz`, `GET /metrics`, `GET /openapi.json` and the interactive page at `/docs`.
"""

from __future__ import annotations

import logging
import os
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote

import swagger_ui_bundle
from flask import Flask, Response, current_app, g, request, send_from_directory
from flask.views import MethodView
from flask_smorest import Api, Blueprint
from marshmallow import Schema, fields
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from pymongo.errors import ConnectionFailure
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable
from werkzeug.http import HTTP_STATUS_CODES

from eventkit.auth import TokenVerifier
from eventkit.blobs import BlobStore
from eventkit.config import ServiceConfig
from eventkit.errors import DomainError, InvalidData
from eventkit.logs import configure_logging, correlation_id
from eventkit.mongo import Db, ping
from eventkit.text import without_diacritics

log = logging.getLogger(__name__)

CORRELATION_HEADER = "X-Correlation-ID"
ReadinessChecks = Mapping[str, Callable[[], bool]]

REQUESTS = Counter(
    "http_requests_total", "HTTP requests handled", ["service", "method", "endpoint", "status"]
)
LATENCY = Histogram(
    "http_request_duration_seconds", "HTTP request duration", ["service", "method", "endpoint"]
)


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})
    service = fields.String(required=True)
    checks = fields.Dict(keys=fields.String(), values=fields.Boolean())


def health_blueprint(service: str, checks: ReadinessChecks) -> Blueprint:
    blp = Blueprint("health", __name__, description="Liveness and readiness probes")

    @blp.route("/healthz")
    class Liveness(MethodView):
        @blp.response(200, HealthSchema)
        def get(self) -> dict[str, Any]:
            """The process is up."""
            return {"status": "ok", "service": service, "checks": {}}

    @blp.route("/readyz")
    class Readiness(MethodView):
        @blp.response(200, HealthSchema)
        @blp.alt_response(503, schema=HealthSchema, description="A dependency is unreachable")
        def get(self) -> Any:
            """The process can serve: its dependencies answer."""
            results = {name: check() for name, check in checks.items()}
            ready = all(results.values())
            body = {"status": "ok" if ready else "unavailable", "service": service, "checks": results}
            return body, (200 if ready else 503)

    return blp


def current_db() -> Db:
    """The database of the service answering this request."""
    db: Db = current_app.extensions["db"]
    return db


def current_blobs() -> BlobStore:
    """The blob store of the service answering this request (set by services that keep files)."""
    blobs: BlobStore = current_app.extensions["blobs"]
    return blobs


def metrics_response() -> Response:
    # Under gunicorn with several workers the counters live in files, one per process.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)


def _install_request_hooks(app: Flask, service: str) -> None:
    @app.before_request
    def start_request() -> None:
        g.started = time.perf_counter()
        incoming = request.headers.get(CORRELATION_HEADER, "")
        g.correlation_token = correlation_id.set(incoming[:100] if incoming else str(uuid.uuid4()))

    @app.after_request
    def finish_request(response: Response) -> Response:
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        REQUESTS.labels(service, request.method, endpoint, str(response.status_code)).inc()
        LATENCY.labels(service, request.method, endpoint).observe(elapsed)
        response.headers[CORRELATION_HEADER] = correlation_id.get() or ""
        if endpoint not in ("/healthz", "/readyz", "/metrics"):
            # The path may hold a dossier code, never personal data; query strings are not logged.
            log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )
        return response

    @app.teardown_request
    def end_request(_exc: BaseException | None) -> None:
        token = g.pop("correlation_token", None)
        if token is not None:
            correlation_id.reset(token)


# Every error body carries a message a citizen can read, in Vietnamese.
DEFAULT_MESSAGES = {
    400: "Yêu cầu không hợp lệ.",
    401: "Cần đăng nhập.",
    403: "Không có quyền thực hiện thao tác này.",
    404: "Không tìm thấy.",
    405: "Phương thức không được hỗ trợ.",
    409: "Xung đột dữ liệu.",
    413: "Dữ liệu gửi lên vượt quá giới hạn cho phép.",
    415: "Định dạng dữ liệu không được hỗ trợ.",
    422: "Dữ liệu không hợp lệ.",
    500: "Lỗi hệ thống.",
    503: "Dịch vụ tạm thời không sẵn sàng, vui lòng thử lại sau.",
}
STORE_UNAVAILABLE = "Hệ thống lưu trữ tạm thời không truy cập được, vui lòng thử lại sau ít phút."
# Messages the libraries under the API write in English, as a person reads them.
LIBRARY_MESSAGES = {"Invalid JSON body.": "Nội dung gửi lên không phải JSON hợp lệ."}


def content_disposition(filename: str) -> str:
    """`attachment` with the file's name: as ASCII (a header carries no other), and in full as
    RFC 6266's `filename*` when it has other letters (a document number "12/QĐ-UBND")."""
    folded = without_diacritics(unicodedata.normalize("NFKC", filename))
    plain = "".join(c for c in folded if c.isascii() and c.isprintable() and c not in '"\\')
    if plain == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def attachment(chunks: Iterable[bytes], media_type: str, size: int, filename: str) -> Response:
    """A stored file sent a piece at a time as a download: never shown inline, never sniffed into
    another type, never kept by a shared cache."""
    return Response(
        chunks,
        mimetype=media_type,
        headers={
            "Content-Length": str(size),
            "Content-Disposition": content_disposition(filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
        direct_passthrough=True,
    )


def jsonable_errors(errors: Any) -> Any:
    """Field errors in a shape JSON carries: every key a string.

    Marshmallow names list items by int index beside field names and `_schema` in one dict
    (`{0: {...}, "_schema": [...]}`); the JSON provider sorts keys and cannot order the two.
    """
    if isinstance(errors, Mapping):
        return {str(key): jsonable_errors(value) for key, value in errors.items()}
    if isinstance(errors, list | tuple):
        return [jsonable_errors(value) for value in errors]
    if isinstance(errors, str):
        return LIBRARY_MESSAGES.get(errors, errors)
    return errors


def _install_error_handlers(app: Flask, api: Api) -> None:
    def http_error(exc: HTTPException) -> Any:
        payload, code, headers = api.handle_http_exception(exc)
        payload.setdefault("message", DEFAULT_MESSAGES.get(code, exc.description))
        if "errors" in payload:
            payload["errors"] = jsonable_errors(payload["errors"])
        # flask-smorest keeps only the headers passed to abort(): werkzeug's own (Allow on a 405)
        # are added back, but not its HTML content type.
        headers = {
            **{name: value for name, value in exc.get_headers() if name.lower() != "content-type"},
            **dict(headers or {}),
        }
        if code == 401:
            headers.setdefault("WWW-Authenticate", "Bearer")
        return payload, code, headers

    def store_unavailable(exc: ConnectionFailure) -> Any:
        log.error("store unreachable", extra={"error_type": type(exc).__name__})
        unavailable = ServiceUnavailable()
        unavailable.data = {"message": STORE_UNAVAILABLE}  # type: ignore[attr-defined]
        return http_error(unavailable)

    def domain_error(exc: DomainError) -> Any:
        payload: dict[str, Any] = {
            "code": exc.status,
            "status": HTTP_STATUS_CODES.get(exc.status, "Error"),
            "message": str(exc) or DEFAULT_MESSAGES.get(exc.status, ""),
        }
        if isinstance(exc, InvalidData):
            payload["errors"] = jsonable_errors({exc.location: exc.errors})
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        return payload, exc.status, headers

    def unexpected(exc: Exception) -> Any:
        if isinstance(exc, HTTPException):
            return http_error(exc)
        log.exception("unhandled error")
        return http_error(InternalServerError())

    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(DomainError, domain_error)
    app.register_error_handler(ConnectionFailure, store_unavailable)
    app.register_error_handler(Exception, unexpected)


def create_service_app(
    *,
    config: ServiceConfig,
    title: str,
    blueprints: Iterable[Blueprint],
    db: Db,
    version: str = "1.0.0",
    key_resolver: Callable[[str], Any] | None = None,
) -> Flask:
    """The service's API: its blueprints, its database in `app.extensions["db"]`, ready while it answers.

    `key_resolver` (the token issuer's own keys by `kid`) is tried before the configured key."""
    app = Flask(config.service)
    app.config.update(
        API_TITLE=title,
        API_VERSION=version,
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/docs/static/",
        MAX_CONTENT_LENGTH=config.max_content_length,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["service_config"] = config
    app.extensions["db"] = db
    app.extensions["token_verifier"] = TokenVerifier(
        public_key=config.jwt_public_key,
        jwks_url=config.jwt_jwks_url,
        key_resolver=key_resolver,
        issuer=config.jwt_issuer,
        audience=config.jwt_audience,
    )
    api = Api(
        app,
        spec_kwargs={
            "components": {
                "securitySchemes": {"staffToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
            }
        },
    )
    api.register_blueprint(health_blueprint(config.service, {"store": lambda: ping(db)}))
    for blp in blueprints:
        api.register_blueprint(blp)

    @app.get("/metrics")
    def metrics() -> Response:
        return metrics_response()

    @app.get("/docs/static/<path:filename>")
    def swagger_static(filename: str) -> Response:
        # The interactive page's scripts are served from the package, so it works offline.
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    _install_request_hooks(app, config.service)
    _install_error_handlers(app, api)
    return app


def production_app(factory: Callable[[], Flask]) -> Flask:
    """The app gunicorn serves: built by the service's factory, logging JSON to stdout."""
    app = factory()
    config: ServiceConfig = app.extensions["service_config"]
    configure_logging(config.service, config.log_level)
    return app


def create_probe_app(service: str, readiness: ReadinessChecks) -> Flask:
    """The worker's small HTTP face: /healthz, /readyz and /metrics for the cluster's probes."""
    app = Flask(f"{service}-worker")
    app.config.update(API_TITLE=f"{service} worker", API_VERSION="1", OPENAPI_VERSION="3.1.0")
    api = Api(app)
    api.register_blueprint(health_blueprint(f"{service}-worker", readiness))
    app.add_url_rule("/metrics", "metrics", metrics_response)
    return app
