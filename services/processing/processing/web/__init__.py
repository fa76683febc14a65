"""The staff console: server-rendered pages for officers, on the portal's look (libs/webui).

Officers sign in here (processing owns staff identity); each page reads and changes dossiers
through processing's own service layer, as the JSON API does, with the same checks of role and
unit. Pages live under `/console`; the JSON API stays under `/api/v1`.
"""

from __future__ import annotations

from flask import Flask, g

from eventkit.auth import Roles
from eventkit.mongo import Db, shared_secret
from processing.config import ProcessingConfig
from processing.identity import store as identity_store
from processing.web import admin as _admin  # noqa: F401
from processing.web import admin_accounts as _admin_accounts  # noqa: F401
from processing.web import admin_calendar as _admin_calendar  # noqa: F401
from processing.web import admin_catalogue as _admin_catalogue  # noqa: F401
from processing.web import counter as _counter  # noqa: F401
from processing.web import dossier as _dossier  # noqa: F401
from processing.web import home as _home  # noqa: F401  (its routes join `blp`)
from processing.web import leader as _leader  # noqa: F401
from processing.web import oidc as _oidc  # noqa: F401
from processing.web import queue as _queue  # noqa: F401
from processing.web import second_factor as _second_factor  # noqa: F401
from processing.web import signin as _signin  # noqa: F401
from processing.web.pages import blp
from webui import NavItem, Site, init_webui

SITE_NAME = "Một cửa – trang làm việc của cán bộ"
# (label, endpoint, roles that see it; empty: every officer)
NAV: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("Trang chính", "console.home", frozenset()),
    ("Hồ sơ", "console.queue", frozenset({Roles.RECEPTIONIST, Roles.SPECIALIST, Roles.LEADER})),
    ("Tiếp nhận tại quầy", "console.counter_procedures", frozenset({Roles.RECEPTIONIST})),
    ("Thống kê", "console.leader_stats", frozenset({Roles.LEADER, Roles.ADMIN})),
    ("Quản trị", "console.admin_home", frozenset({Roles.ADMIN})),
)


def nav_for(roles: frozenset[str]) -> tuple[NavItem, ...]:
    return tuple(NavItem(label, endpoint) for label, endpoint, wanted in NAV if not wanted or roles & wanted)


def register_web(app: Flask, db: Db, config: ProcessingConfig) -> None:
    """The console's pages; WEB_SECRET_KEY signs their forms (else a key kept in the store)."""
    app.register_blueprint(blp)

    def site() -> Site:
        staff = g.get("staff")
        roles = staff.roles if staff is not None else frozenset()
        return Site(name=SITE_NAME, home_url="/console/", nav=nav_for(roles & Roles.STAFF) if staff else ())

    init_webui(
        app,
        site=site,
        page_blueprints=[blp.name],
        secret_key=config.web_secret_key
        or (lambda: shared_secret(db[identity_store.SETTINGS], "web_csrf_key")),
        max_age=0,
    )
