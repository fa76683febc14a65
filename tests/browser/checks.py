"""What the browser tests check on every page: axe-core's serious and critical violations, and
that a 360 px phone shows the page without scrolling sideways."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PHONE = {"width": 360, "height": 740}


def serious_violations(page: Any, axe_source: Path, artifacts: Path, name: str) -> list[Any]:
    """axe-core run on the page (its context must bypass the page's CSP to inject it); every
    violation kept in `<name>-axe.json`, the serious and critical ones returned."""
    page.add_script_tag(path=str(axe_source))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    (artifacts / f"{name}-axe.json").write_text(
        json.dumps(result["violations"], ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def shows_on_a_phone(browser: Any, url: str, artifacts: Path, name: str) -> None:
    """Open `url` 360 px wide: it must not scroll sideways; its screenshot is `<name>-360.png`."""
    context = browser.new_context(viewport=PHONE, locale="vi-VN", device_scale_factor=1)
    try:
        page = context.new_page()
        page.goto(url)
        width = page_width(page)
        assert width <= PHONE["width"], f"{name} scrolls sideways: {width}px"
        page.screenshot(path=str(artifacts / f"{name}-360.png"), full_page=True)
    finally:
        context.close()


def page_width(page: Any) -> int:
    """How wide the page lays out: more than the viewport means it scrolls sideways."""
    return int(page.evaluate("document.documentElement.scrollWidth"))
