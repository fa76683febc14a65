"""The console's first page: what the signed-in officer can do, by role."""

from __future__ import annotations

from processing.web.pages import blp, officer, page
from processing.web.queue import QUEUE_ROLES, queue_page


@blp.get("/")
def home() -> tuple[str, int]:
    # Officers who handle dossiers land on their work queue; other accounts on this summary.
    if officer().has_any_role(QUEUE_ROLES):
        return queue_page(greeting=True)
    return page("console/home.html", roles=sorted(officer().roles), units=sorted(officer().units))
