"""Links an officer's browser opens on another service: a citizen's upload at intake, a slip at
notify. The link carries a short-lived token that processing signs for that one path and that
officer; the service that serves the file checks it (`eventkit.auth.link_staff`). A link, not a
call between services: processing never fetches the file itself."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from eventkit.auth import LINK_AUDIENCE, Staff
from processing.identity.keys import KeySet

LINK_TTL = timedelta(minutes=10)


def signed_link(keys: KeySet, base_url: str, path: str, staff: Staff) -> str:
    """`<base_url><path>?token=…`, valid for `LINK_TTL`, for `path` only and `staff` only."""
    token = keys.issue(
        {
            "sub": staff.user_id,
            "name": staff.name,
            "roles": sorted(staff.roles),
            "units": sorted(staff.units),
            "path": path,
        },
        LINK_TTL,
        audience=LINK_AUDIENCE,
    )
    return f"{base_url.rstrip('/')}{path}?{urlencode({'token': token})}"
