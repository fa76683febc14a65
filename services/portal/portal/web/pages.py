"""The public site's pages (server-rendered, no script needed): home, procedures, units, sitemap."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for

from eventkit.web import current_db
from portal import store
from portal.service import stats_report
from portal.web import catalogue
from portal.web.catalogue import BadFilter, Filters
from webui import PageError

blp = Blueprint("portal_web", __name__, template_folder="templates")


def base_url() -> str:
    """The site's public address: PORTAL_URL when set (behind a proxy), else what was asked for."""
    configured: str | None = current_app.extensions["portal_web"]["base_url"]
    return (configured or request.host_url).rstrip("/")


def absolute(endpoint: str, **values: Any) -> str:
    return base_url() + url_for(endpoint, **values)


def page(template: str, *, canonical: str | None, **context: Any) -> str:
    return render_template(template, canonical_url=canonical, **context)


@blp.get("/")
def home() -> str:
    db = current_db()
    options = current_app.extensions["portal_web"]["options"].get(db)
    headline = stats_report.headline(db)
    return page("portal/home.html", canonical=absolute("portal_web.home"), options=options, headline=headline)


@blp.get("/thu-tuc")
def procedures() -> str:
    try:
        filters = Filters.from_args(request.args)
    except BadFilter as exc:
        raise PageError(400, f"Bộ lọc “{exc.field}” không hợp lệ: {exc.reason}.") from None
    db = current_db()
    found = catalogue.search_procedures(db, filters)
    options = current_app.extensions["portal_web"]["options"].get(db)
    pages = [(n, url_for("portal_web.procedures", **filters.args(page=n))) for n in range(1, found.pages + 1)]
    # Filtered lists are the same page as the catalogue for search engines; paging is not.
    canonical = absolute("portal_web.procedures", **({"page": filters.page} if filters.page > 1 else {}))
    return page(
        "portal/procedures.html",
        canonical=canonical,
        filters=filters,
        found=found,
        options=options,
        pages=pages,
        levels=catalogue.LEVELS,
        online_modes=catalogue.ONLINE_MODES,
    )


@blp.get("/thu-tuc/<code>")
def procedure(code: str) -> str:
    if len(code) > 40:
        abort(404)
    db = current_db()
    found = store.get_published(db, store.PROCEDURES, code)
    if found is None:
        abort(404)
    units = {}
    for unit_code in (found.get("receiving_units") or [])[:50]:
        unit = store.get_published(db, store.UNITS, unit_code)
        units[unit_code] = (unit or {}).get("name") or unit_code
    return page(
        "portal/procedure.html",
        canonical=absolute("portal_web.procedure", code=code),
        procedure=found,
        code=code,
        receiving_units=units,
        level=catalogue.LEVELS.get(found.get("level", ""), ""),
        online_mode=catalogue.ONLINE_MODES.get(found.get("online_mode", ""), ""),
        processing_time=catalogue.processing_time_text(found),
        fees=[catalogue.fee_text(f) for f in found.get("fees") or []],
        online_filing=catalogue.offers_online_filing(found),
    )


@blp.get("/don-vi/<unit>")
def unit_portal(unit: str) -> str:
    if len(unit) > 40:
        abort(404)
    found = store.get_published(current_db(), store.UNITS, unit)
    if found is None:
        abort(404)
    return page(
        "portal/unit.html",
        canonical=absolute("portal_web.unit_portal", unit=unit),
        unit=found,
        code=unit,
    )


@blp.get("/sitemap.xml")
def sitemap() -> Response:
    db = current_db()
    rows = catalogue.listing.find_listed(db, catalogue.listing.facet_key(None, None, None, None))
    services = ("portal_web.lookup_form", "portal_web.statistics_page", "portal_web.signature_check")
    urls = [absolute("portal_web.home"), absolute("portal_web.procedures")]
    urls += [absolute(endpoint) for endpoint in services]
    urls += [absolute("portal_web.procedure", code=r["code"]) for r in rows]
    from portal.web.content import sitemap_urls  # beside this module, on the same blueprint

    urls += sitemap_urls()
    body = render_template("portal/sitemap.xml", urls=urls)
    return Response(body, mimetype="application/xml")
