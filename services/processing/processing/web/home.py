"""The console's first page: what the signed-in officer can do, by role."""

from __future__ import annotations

from processing.web.pages import blp, officer, page


@blp.get("/")
def home() -> tuple[str, int]:
    return page("console/home.html", roles=sorted(officer().roles), units=sorted(officer().units))
