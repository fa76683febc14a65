"""Headers every page carries: what the browser may load, and how long a shared cache keeps it."""

from __future__ import annotations

from flask import Response, g, request

# Everything from the site itself: no inline script or style, no CDN, no framing.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def page_headers(response: Response, *, max_age: int) -> None:
    """Security headers on every page; public caching with an ETag on a page the same for all.

    A page that issued a CSRF token belongs to one visitor and is never kept by a shared cache.
    """
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.method not in ("GET", "HEAD") or response.status_code != 200 or response.direct_passthrough:
        response.headers.setdefault("Cache-Control", "no-store")
        return
    if g.get("csrf_issued") or g.get("private_page"):
        response.headers["Cache-Control"] = "private, no-store"
        return
    response.headers.setdefault("Cache-Control", f"public, max-age={max_age}")
    response.add_etag()
    response.make_conditional(request)
