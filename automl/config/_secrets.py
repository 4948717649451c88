"""Credentials in URLs never reach the terminal, tags, params or files."""

from __future__ import annotations

import re

# scheme://user:password@host or scheme://token@host. The password may hold "/", spaces or "@":
# it runs to the last "@" that is followed by something shaped like a host and where it ends.
_USERINFO = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:@\s/]*)(?P<pw>:.*?)?"
    r"@(?=(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)(?::\d+)?(?:[/?#\s'\",;:)]|$))")
_QUERY = re.compile(r"((?:password|passwd|pwd|token|access_token|api_key|apikey|secret)=)[^&\s'\"]*",
                    re.IGNORECASE)


def _hide(match: re.Match) -> str:
    if match.group("pw") is None:  # a lone user part is often a token (https://TOKEN@host)
        return f"{match.group('scheme')}***@" if match.group("user") else match.group(0)
    return f"{match.group('scheme')}{match.group('user')}:***@"


def mask_url(url: str) -> str:
    """Hide passwords and tokens in URLs (``scheme://user:password@host``,
    ``scheme://token@host``, ``?password=...``) and in any text that quotes one, before printing
    or logging it."""
    return _QUERY.sub(r"\1***", _USERINFO.sub(_hide, url))
