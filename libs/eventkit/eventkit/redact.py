"""Text without personal data: what error messages, status events and logs may carry."""

from __future__ import annotations

import re

MESSAGE_LIMIT = 500

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Phone numbers, ID card numbers and the like: six or more digits, maybe spaced or dashed.
_DIGITS = re.compile(r"\+?\d(?:[\s.()/-]*\d){5,}")
# A quote opens where no letter precedes it (not the apostrophe of "can't") and closes where none
# follows it (so "'O'Brien'" goes whole); a quote left open runs to the end of the text.
_QUOTED = re.compile(r"(?<!\w)(['\"“]).*?(?:['\"”](?!\w)|$)", re.S)


def scrub(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """`text` without quoted values, e-mail addresses and long digit runs, truncated."""
    if len(text) > 4 * limit:
        # Bound the work; the token cut in two is dropped, as half a value may not match a pattern.
        head = text[: 4 * limit]
        text = head.rsplit(None, 1)[0] if head.strip() and " " in head.strip() else ""
    text = _QUOTED.sub("'…'", text)
    text = _EMAIL.sub("<email>", text)
    text = _DIGITS.sub("<number>", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# A traceback's frame line names code, not data: `  File "/path/x.py", line 12, in send`.
_FRAME = re.compile(r'\s*File "[^"\n]*", line \d+, in [\w<>.]+')


def scrub_lines(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """A traceback scrubbed line by line (its frame lines kept), so that its shape stays readable."""
    lines = []
    for line in text.splitlines():
        indent = line[: len(line) - len(line.lstrip())]
        lines.append(line if not line.strip() or _FRAME.fullmatch(line) else indent + scrub(line, limit))
    return "\n".join(lines)
