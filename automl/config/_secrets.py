"""Credentials in URLs never reach the terminal, tags, params or files."""

from __future__ import annotations

import re


def mask_url(url: str) -> str:
    """Hide passwords in URLs (``scheme://user:password@host``, ``?password=...``) and in any text
    that quotes one, before printing or logging it."""
    url = re.sub(r"(//[^:/@\s]*:)[^@/\s]*@", r"\1***@", url)
    return re.sub(r"((?:password|passwd|pwd)=)[^&\s]*", r"\1***", url, flags=re.IGNORECASE)
