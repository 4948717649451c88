"""automl.config.mask_url: no part of a password or token survives, however the URL is written."""

from __future__ import annotations

import re

import pytest

from automl.config import mask_url

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@pytest.mark.parametrize(("url", "masked"), [
    ("postgresql://user:p@ss/x@host/db", "postgresql://user:***@host/db"),  # "@" then "/" in it
    ("postgresql://user:p@ss:1@host/db", "postgresql://user:***@host/db"),  # "@" then ":"
    ("postgresql://user:p@ss,@host/db", "postgresql://user:***@host/db"),
    ("postgresql://user:p@ss)@host:5432", "postgresql://user:***@host:5432"),
    ("postgresql://user:a:b@host/db", "postgresql://user:***@host/db"),  # ":" in it
    ("postgresql://me@corp.com:pw@host/db", "postgresql://me@corp.com:***@host/db"),  # e-mail user
    ("http://tok@en@mlflow:5000/api", "http://***@mlflow:5000/api"),  # "@" in a token
    ("https://user:p@ss@mlflow.example.com/api/2.0/", "https://user:***@mlflow.example.com/api/2.0/"),
    ("a postgresql://u:x@h1/db and http://v:y@h2:5000/ b", "a postgresql://u:***@h1/db and http://v:***@h2:5000/ b"),
    ("no models:/m@champion at http://127.0.0.1:5000", "no models:/m@champion at http://127.0.0.1:5000"),
    ("tracking http://127.0.0.1:5000 has no models:/m@champion", "tracking http://127.0.0.1:5000 has no models:/m@champion"),
    ("postgresql://db/x?sslmode=require&PASSWORD=p@ss", "postgresql://db/x?sslmode=require&PASSWORD=***"),
    ("postgresql://db:5432/x", "postgresql://db:5432/x"),
    ("http://u:p@ss?token=1@host/x", "http://u:***"),  # a password that reads as a query
    ("postgresql://db:5432/x?password=p@ss:1&b=2", "postgresql://db:***&b=2"),  # and the other way
])
def test_hostile_urls(url, masked):
    assert mask_url(url) == masked


SECRET = "XYZ"  # only passwords and tokens use these letters: none may be left
PASSWORD_CHARS = SECRET + "@:/ ?#%!.,;'\"()=&+~-_"
SCHEMES = st.sampled_from(["postgresql", "postgresql+psycopg", "mysql", "http", "https", "redis"])
HOSTS = st.sampled_from(["db", "127.0.0.1", "[::1]", "mlflow.example.com", "my_db"])
PORTS = st.sampled_from(["", ":5432", ":5000"])
PATHS = st.sampled_from(["", "/x", "/db?sslmode=require", "/api/2.0/", "/"])
AROUND = st.tuples(st.sampled_from(["", "error: cannot reach '", "storage ", "("]),
                   st.sampled_from(["", "': refused", " (timeout)", ": unreachable", ")", "\nnext line"]))


def _secret(chars: str):
    # Starts and ends with a secret letter, so any part of it left shows. A space followed by a
    # URI ("p x:/y") is where a password is not read further (see _NEXT_URI): not drawn.
    return st.text(chars, max_size=12).map(lambda s: f"X{s}Z").filter(
        lambda s: not re.search(r"\s+[A-Za-z][A-Za-z0-9+.-]*:/", s))


@st.composite
def urls_in_text(draw):
    scheme, host, port, path = draw(SCHEMES), draw(HOSTS), draw(PORTS), draw(PATHS)
    kind = draw(st.sampled_from(["password", "token", "query"]))
    if kind == "password":
        user = draw(st.text("abc@._-", max_size=6))
        url = f"{scheme}://{user}:{draw(_secret(PASSWORD_CHARS))}@{host}{port}{path}"
    elif kind == "token":
        url = f"{scheme}://{draw(_secret(SECRET + '@._-~'))}@{host}{port}{path}"
    else:
        key = draw(st.sampled_from(["password", "token", "api_key", "secret"]))
        url = f"{scheme}://{host}{port}/x?a=1&{key}={draw(_secret(SECRET + '@:/?#%!.()=+~-_'))}&b=2"
    before, after = draw(AROUND)
    return before + url + after


@settings(max_examples=400, deadline=None, derandomize=True)
@given(text=urls_in_text())
def test_no_part_of_a_secret_is_ever_shown(text):
    masked = mask_url(text)
    assert not set(SECRET) & set(masked), (text, masked)
    assert "***" in masked
