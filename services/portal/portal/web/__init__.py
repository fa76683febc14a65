"""The public web site: server-rendered pages on the shared look (libs/webui)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask

from eventkit.mongo import Db
from portal import store
from portal.web import content as _content_pages  # noqa: F401  (its routes join the pages' blueprint)
from portal.web import statistics as _statistics  # noqa: F401  (its routes on `blp`)
from portal.web import supplement as _supplement  # noqa: F401  (its route on `blp`)
from portal.web.catalogue import FilterOptions
from portal.web.filing import init_filing
from portal.web.lookup import init_lookup
from portal.web.pages import blp
from portal.web.signatures import configure_signature_check
from webui import NavItem, Site, init_webui

DEFAULT_HOME_UNIT = "264"  # Lương Tài district (GSO code)
NAV = (
    NavItem("Trang chủ", "portal_web.home"),
    NavItem("Thủ tục hành chính", "portal_web.procedures"),
    NavItem("Tin tức", "portal_web.news"),
    NavItem("Văn bản", "portal_web.documents"),
    NavItem("Tra cứu hồ sơ", "portal_web.lookup_form"),
    NavItem("Thống kê", "portal_web.statistics_page"),
    NavItem("Kiểm tra chữ ký số", "portal_web.signature_check"),
)


def site_name(unit: Mapping[str, object] | None) -> str:
    """ "Cổng thông tin điện tử huyện Lương Tài" from the home unit's short name."""
    short = str((unit or {}).get("short_name") or "")
    return f"Cổng thông tin điện tử {short[:1].lower()}{short[1:]}" if short else "Cổng thông tin điện tử"


def register_web(app: Flask, db: Db, environ: Mapping[str, str] | None = None) -> None:
    """Pages under `/`; PORTAL_HOME_UNIT names the unit whose portal this is (its name, address
    and phone head and foot every page), PORTAL_HOTLINE a hotline when the unit records none,
    PORTAL_URL the public address for canonical links and the sitemap, WEB_SECRET_KEY the forms'
    signing key (else one made once and kept in the portal's store)."""
    env = os.environ if environ is None else environ
    home_unit = env.get("PORTAL_HOME_UNIT") or DEFAULT_HOME_UNIT
    hotline = env.get("PORTAL_HOTLINE") or None

    def site() -> Site:
        unit = store.get_published(db, store.UNITS, home_unit)
        return Site(
            name=site_name(unit),
            address=(unit or {}).get("address"),
            hotline=(unit or {}).get("phone") or hotline,
            email=(unit or {}).get("email"),
            nav=NAV,
        )

    secret = env.get("WEB_SECRET_KEY")
    app.extensions["portal_web"] = {"base_url": env.get("PORTAL_URL") or None, "options": FilterOptions()}
    # Filing: INTAKE_URL and the upload limits; lookups: LOOKUP_RATE_LIMIT (portal/web/filing.py,
    # lookup.py). Before init_webui: the filing form's size limit is set before its CSRF check.
    init_filing(app, env)
    init_lookup(app, env)
    app.register_blueprint(blp)
    configure_signature_check(app, env)
    init_webui(
        app,
        site=site,
        page_blueprints=[blp.name],
        secret_key=secret or (lambda: store.shared_secret(db, "web_csrf_key")),
    )
