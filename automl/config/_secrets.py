"""Credentials in URLs never reach the terminal, tags, params or files."""

from __future__ import annotations

import re

# Where the host part of a URL starts: a host name or [IPv6], an optional port, then the end of
# the authority (a path, query or fragment, the end of the text, or what ends a URL in prose).
_HOST = r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%-]+)(?::\d*)?(?:[/?#\s'\",;:)\]>]|$)"
# A later URL or URI on the same line ("... at http://...", "models:/m@champion"): a password is
# not read across it.
_NEXT_URI = r"\s+[A-Za-z][A-Za-z0-9+.-]*:/"
# scheme://user:password@host or scheme://token@host. Unencoded, a password may hold "@", ":",
# "/" and spaces, a user name "@" (an e-mail address): the userinfo ends at the LAST "@" that is
# followed by a host, so no part of the secret is taken for the host.
_USERINFO = re.compile(
    rf"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^\s:/?#\[\]]*)"
    rf"(?P<pw>:(?:(?!{_NEXT_URI})[^\n])*)?@(?={_HOST})")
_QUERY = re.compile(r"((?:password|passwd|pwd|token|access_token|api_key|apikey|secret)=)([^&\s'\"]*)",
                    re.IGNORECASE)


def _secret_spans(text: str) -> list[tuple[int, int]]:
    """Where passwords and tokens are in ``text``, found by each rule in the text as given (a
    password may look like a query, a query value like a password: both are hidden)."""
    spans = []
    for match in _USERINFO.finditer(text):
        if match.group("pw") is not None:
            spans.append((match.start("pw") + 1, match.end("pw")))
        elif match.group("user"):  # a lone user part is often a token (https://TOKEN@host)
            spans.append(match.span("user"))
    return spans + [match.span(2) for match in _QUERY.finditer(text)]


def mask_url(url: str) -> str:
    """Hide passwords and tokens in URLs (``scheme://user:password@host``,
    ``scheme://token@host``, ``?password=...``) and in any text that quotes one, before printing
    or logging it. When it is unclear where a password ends, more is hidden, never less."""
    out, shown_to = [], 0
    for start, end in sorted(_secret_spans(url)):
        if start >= shown_to:
            out += [url[shown_to:start], "***"]
        shown_to = max(shown_to, end)
    return "".join(out) + url[shown_to:]
