"""Drawing a letter: the common heading of Circular 01/2018/TT-VPCP, then the template's blocks.

Every page is drawn with reportlab's canvas in Be Vietnam Pro (the font ships in the
`fontpkg-be-vietnam-pro` wheel). The heading: on the left the parent body and the unit in upper
case, the number line ("Số: …") under them; on the right the national motto and the place-and-date
line; below, the form's title with its sub-lines and, at the right, a QR code of the portal's
lookup URL drawn as vector squares (segno). Blocks, each a dict with `kind`:

- `text`: `text` (placeholders, `\\n` breaks a line), `style` (normal / bold / italic / bold_italic
  / small / note), `align` (left / center / right), `indent` (pt), `when` (a field: drawn only if
  it has a value), `space_before` (pt);
- `list`: one `text` per item of the list field `items` (`{#}` its number, `{item}` the item of a
  list of sentences, or the item's own fields);
- `table`: rows from the list field `items`; `columns` of {`title`, `width` (share of the line),
  `value`, `align`}; the header is drawn again on each new page; `row_height` (pt) at least;
- `signatures`: columns side by side of {`title`, `note`, `name`}, with room to sign;
- `space`: `height` (pt).

Long texts wrap at spaces; a block that reaches the bottom margin continues on a new page. Every
string is NFC before it is drawn; `Rendered.lines` lists them in drawing order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from typing import Any

import fontpkg_be_vietnam_pro
import segno
from reportlab.lib.pagesizes import A4, A5, landscape
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from notify.letters.data import fill, long_date, nfc, present
from notify.letters.registry import Template

MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO_LINE_2 = "Độc lập - Tự do - Hạnh phúc"
QR_CAPTION = "Tra cứu hồ sơ"
FONTS = {
    "normal": ("BeVietnamPro", "BeVietnamPro-Regular.ttf"),
    "bold": ("BeVietnamPro-Bold", "BeVietnamPro-Bold.ttf"),
    "italic": ("BeVietnamPro-Italic", "BeVietnamPro-Italic.ttf"),
    "bold_italic": ("BeVietnamPro-BoldItalic", "BeVietnamPro-BoldItalic.ttf"),
}
# style: (font, size relative to the page's body size)
STYLES = {
    "normal": ("normal", 1.0),
    "bold": ("bold", 1.0),
    "italic": ("italic", 1.0),
    "bold_italic": ("bold_italic", 1.0),
    "small": ("normal", 0.85),
    "note": ("italic", 0.85),
    "title": ("bold", 1.2),
}
LEADING = 1.35
# page: (size, margins left, right, top, bottom in pt, body font size, QR side)
PAGES = {
    ("A5", "portrait"): (A5, (34.0, 28.0, 24.0, 24.0), 8.5, 62.0),
    ("A4", "portrait"): (A4, (57.0, 42.0, 42.0, 42.0), 10.0, 72.0),
    ("A4", "landscape"): (landscape(A4), (42.0, 34.0, 34.0, 34.0), 8.5, 66.0),
}
SIGNING_ROOM = 36.0
CELL_PAD = 2.5


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    lines: tuple[str, ...]  # every string drawn, NFC, in drawing order
    template_id: str
    version: str
    pages: int


@cache
def _font(style: str) -> str:
    name, file = FONTS[style]
    pdfmetrics.registerFont(TTFont(name, str(fontpkg_be_vietnam_pro.ROOT / "files" / file)))
    return name


def render(template: Template, values: Mapping[str, Any]) -> Rendered:
    """Draw `template` with `values` (already checked by data.validate)."""
    return _Letter(template, values).draw()


def _fitting(text: str, style: str, size: float, width: float, smallest: float = 5.5) -> float:
    """The size at most `size` at which the longest word of `text` fits `width` (a dossier code in a
    narrow column stays whole); words still too long at `smallest` are cut by _break_long."""
    face = _font(style)
    longest = max(text.split(), key=lambda word: pdfmetrics.stringWidth(word, face, size), default="")
    while size > smallest and pdfmetrics.stringWidth(longest, face, size) > width:
        size -= 0.25
    return size


def _break_long(line: str, face: str, size: float, width: float) -> list[str]:
    """A line wider than `width` (one word longer than the column) cut between characters."""
    out: list[str] = []
    while pdfmetrics.stringWidth(line, face, size) > width and len(line) > 1:
        cut = len(line) - 1
        while cut > 1 and pdfmetrics.stringWidth(line[:cut], face, size) > width:
            cut -= 1
        out.append(line[:cut])
        line = line[cut:].lstrip()
    return [*out, line] if line else out


class _Letter:
    def __init__(self, template: Template, values: Mapping[str, Any]) -> None:
        self.t, self.values = template, values
        (self.width, self.height), margins, self.size, self.qr_side = PAGES[
            (template.page, template.orientation)
        ]
        self.left, right, self.top, self.bottom = margins
        self.right = self.width - right
        self.out = BytesIO()
        # invariant: no creation time or random id in the file, so the same data gives the same bytes.
        self.c = Canvas(self.out, pagesize=(self.width, self.height), invariant=True, pageCompression=1)
        self.y = self.height - self.top
        self.lines: list[str] = []
        self.pages = 1
        self.on_new_page: Callable[[], None] | None = None

    # Drawing primitives -------------------------------------------------------------------------

    def fill(
        self, text: str, values: Mapping[str, Any] | None = None, fields: Mapping[str, Any] | None = None
    ) -> str:
        return fill(
            text, self.values if values is None else values, self.t.fields if fields is None else fields
        )

    def font(self, style: str) -> tuple[str, float]:
        face, scale = STYLES[style]
        return _font(face), self.size * scale

    def draw(self) -> Rendered:
        self.c.setTitle(nfc(self.t.name))
        self.c.setSubject(f"{self.t.id} {self.t.version} ({self.t.rule_set})")
        self.c.setAuthor(nfc(str(self.values.get("unit", {}).get("name", ""))))
        self.c.setCreator("MotCua notify")
        self.heading()
        for block in self.t.body:
            if block.get("when") and not present(self.values, block["when"]):
                continue
            getattr(self, f"block_{block['kind']}")(block)
        self.c.showPage()
        self.c.save()
        return Rendered(self.out.getvalue(), tuple(self.lines), self.t.id, self.t.version, self.pages)

    def string(
        self, x: float, y: float, text: str, style: str, align: str = "left", size: float | None = None
    ) -> None:
        text = nfc(text)
        if not text:
            return
        face, default = self.font(style)
        size = size or default
        self.c.setFont(face, size)
        if align == "center":
            self.c.drawCentredString(x, y, text)
        elif align == "right":
            self.c.drawRightString(x, y, text)
        else:
            self.c.drawString(x, y, text)
        self.lines.append(text)

    def wrap(self, text: str, style: str, width: float, size: float | None = None) -> list[str]:
        face, default = self.font(style)
        size = size or default
        out: list[str] = []
        for part in nfc(text).split("\n"):
            for line in simpleSplit(part, face, size, width) if part.strip() else []:
                out += _break_long(line, face, size, width)
        return out

    def new_page(self) -> None:
        self.c.showPage()
        self.pages += 1
        self.y = self.height - self.top
        if self.on_new_page:
            self.on_new_page()

    def ensure(self, height: float) -> None:
        if self.y - height < self.bottom:
            self.new_page()

    def column(
        self,
        text: str,
        style: str,
        x0: float,
        x1: float,
        y: float,
        align: str = "center",
        size: float | None = None,
    ) -> float:
        """Wrapped lines between x0 and x1 from baseline y down; the y below the last line."""
        _, default = self.font(style)
        size = size or default
        x = {"left": x0, "center": (x0 + x1) / 2, "right": x1}[align]
        for line in self.wrap(text, style, x1 - x0, size):
            self.string(x, y, line, style, align, size)
            y -= size * LEADING
        return y

    # The common heading ------------------------------------------------------------------------

    def heading(self) -> None:
        unit = self.values["unit"]
        span = self.right - self.left
        split = self.left + span * 0.45
        top = self.y - self.size
        small = self.size * 0.92
        y = self.column(unit["parent_name"].upper(), "normal", self.left, split, top, size=small)
        y = self.column(unit["name"].upper(), "bold", self.left, split, y, size=small)
        self.rule((self.left + split) / 2, y + small * (LEADING - 0.55), (split - self.left) * 0.35)
        if self.t.heading.get("number", True):
            y = self.column(f"Số: {self.values['number']}", "normal", self.left, split, y - small * 0.5)
        face, _ = self.font("bold")
        motto_size = self.size
        while pdfmetrics.stringWidth(MOTTO, face, motto_size) > self.right - split and motto_size > 6:
            motto_size -= 0.25
        middle = (split + self.right) / 2
        self.string(middle, top, MOTTO, "bold", "center", motto_size)
        ry = top - motto_size * LEADING
        self.string(middle, ry, MOTTO_LINE_2, "bold", "center", motto_size)
        self.rule(middle, ry - motto_size * 0.45, pdfmetrics.stringWidth(MOTTO_LINE_2, face, motto_size))
        ry -= motto_size * LEADING * 1.4
        place_date = f"{self.values['place']}, {long_date(self.values['date'])}"
        ry = self.column(place_date, "italic", split, self.right, ry)
        self.y = min(y, ry) - self.size * 0.6
        self.title_band()

    def rule(self, middle: float, y: float, length: float) -> None:
        self.c.setLineWidth(0.6)
        self.c.line(middle - length / 2, y, middle + length / 2, y)

    def title_band(self) -> None:
        side = self.qr_side
        gap = side * 0.2
        x0, x1 = self.left + side + gap, self.right - side - gap
        top = self.y
        y = self.column(self.fill(self.t.name), "title", x0, x1, top - self.size * 1.3)
        for line in self.t.heading.get("lines", []):
            y = self.column(self.fill(line), "normal", x0, x1, y)
        self.qr(self.values["lookup_url"], self.right - side, top - side, side)
        caption = top - side - self.size * 0.95
        self.string(self.right - side / 2, caption, QR_CAPTION, "small", "center", self.size * 0.75)
        self.y = min(y, caption - self.size * 0.5) - self.size * 0.4

    def qr(self, url: str, x: float, y: float, side: float) -> None:
        """`url` as a QR code whose lower-left corner is (x, y): one filled path of dark modules."""
        rows = [list(row) for row in segno.make(url, error="m", micro=False).matrix_iter(scale=1, border=0)]
        module = side / len(rows)
        path = self.c.beginPath()
        for r, row in enumerate(rows):
            c = 0
            while c < len(row):
                if not row[c]:
                    c += 1
                    continue
                start = c
                while c < len(row) and row[c]:
                    c += 1
                # A hair of overlap keeps rasterisers from leaving seams between modules.
                top = y + side - r * module
                path.rect(x + start * module, top - module - 0.02, (c - start) * module + 0.02, module + 0.02)
        self.c.setFillGray(0)
        self.c.drawPath(path, stroke=0, fill=1)

    # Blocks ------------------------------------------------------------------------------------

    def paragraph(self, text: str, style: str, align: str, indent: float) -> None:
        face, size = self.font(style)
        x0 = self.left + indent
        x = {"left": x0, "center": (x0 + self.right) / 2, "right": self.right}[align]
        for line in self.wrap(text, style, self.right - x0):
            self.ensure(size * LEADING)
            self.y -= size * LEADING
            self.string(x, self.y, line, style, align)

    def block_text(self, block: dict[str, Any]) -> None:
        self.y -= block.get("space_before", 0)
        self.paragraph(
            self.fill(block["text"]),
            block.get("style", "normal"),
            block.get("align", "left"),
            block.get("indent", 0),
        )

    def block_space(self, block: dict[str, Any]) -> None:
        self.y -= block.get("height", self.size)

    def _items(self, block: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        spec = self.t.fields[block["items"]]
        items: Any = self.values
        for part in block["items"].split("."):
            items = items.get(part, {}) if isinstance(items, Mapping) else {}
        rows = [{**item, "#": n} for n, item in enumerate(items or [], start=1)]
        return rows, spec.get("items", {})

    def block_list(self, block: dict[str, Any]) -> None:
        rows, fields = self._items(block)
        self.y -= block.get("space_before", 0)
        for row in rows:
            text = self.fill(block["text"], row, fields)
            self.paragraph(text, block.get("style", "normal"), "left", block.get("indent", 0))

    def block_table(self, block: dict[str, Any]) -> None:
        rows, fields = self._items(block)
        span = self.right - self.left
        columns = block["columns"]
        edges = [self.left]
        for column in columns:
            edges.append(edges[-1] + span * column["width"])
        _, size = self.font("small")
        leading = size * LEADING

        def cells(texts: list[str], style: str) -> list[tuple[list[str], float]]:
            out = []
            for n, text in enumerate(texts):
                width = edges[n + 1] - edges[n] - 2 * CELL_PAD
                fitted = _fitting(text, STYLES[style][0], size, width)
                out.append((self.wrap(text, style, width, fitted), fitted))
            return out

        def row(texts: list[tuple[list[str], float]], style: str, minimum: float = 0) -> None:
            height = max(minimum, max(len(lines) * cell * LEADING for lines, cell in texts) + 2 * CELL_PAD)
            self.ensure(height)
            top = self.y
            self.c.setLineWidth(0.5)
            self.c.rect(edges[0], top - height, edges[-1] - edges[0], height)
            for edge in edges[1:-1]:
                self.c.line(edge, top, edge, top - height)
            for n, (lines, cell) in enumerate(texts):
                align = columns[n].get("align", "center" if style == "bold" else "left")
                x = {
                    "left": edges[n] + CELL_PAD,
                    "center": (edges[n] + edges[n + 1]) / 2,
                    "right": edges[n + 1] - CELL_PAD,
                }[align]
                y = top - CELL_PAD - cell
                for line in lines:
                    self.string(x, y, line, style, align, cell)
                    y -= cell * LEADING
            self.y = top - height

        header = cells([self.fill(column["title"]) for column in columns], "bold")
        # Below the descenders of the line above, then the block's own space.
        self.y -= size * 0.35 + block.get("space_before", 2)
        # The header must not be left alone at the foot of a page.
        self.ensure((max(len(lines) for lines, _ in header) + 1) * leading + 4 * CELL_PAD)
        row(header, "bold")
        self.on_new_page = lambda: row(header, "bold")
        for item in rows:
            row(
                cells([self.fill(c["value"], item, fields) for c in columns], "small"),
                "small",
                block.get("row_height", 0),
            )
        self.on_new_page = None

    def block_signatures(self, block: dict[str, Any]) -> None:
        signatures = block["signatures"]
        self.y -= block.get("space_before", self.size)
        span = (self.right - self.left) / len(signatures)
        prepared = []
        for n, signature in enumerate(signatures):
            x0 = self.left + n * span
            parts = [
                (self.fill(signature.get(key, "")), style)
                for key, style in (("title", "bold"), ("note", "note"))
            ]
            prepared.append((x0, parts, self.fill(signature.get("name", ""))))
        lines = max(
            sum(len(self.wrap(text, style, span - 6)) for text, style in parts) for _, parts, _ in prepared
        )
        self.ensure(lines * self.size * LEADING + SIGNING_ROOM + self.size * 2)
        top = self.y - self.size
        bottom = top
        for x0, parts, name in prepared:
            y = top
            for text, style in parts:
                y = self.column(text, style, x0 + 3, x0 + span - 3, y)
            y = self.column(name, "bold", x0 + 3, x0 + span - 3, y - SIGNING_ROOM)
            bottom = min(bottom, y)
        self.y = bottom
