"""The documentation site builds with ``--strict`` (a broken link, anchor or docstring
reference fails it), every page is in its navigation, and its front page is the README's."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def front_page(readme: str) -> str:
    """docs/index.md as it follows from README.md: the same text, links relative to docs/."""
    return readme.replace("](docs/", "](").replace(
        "The [`docs/`](docs/) folder is an MkDocs site", "This site is built with MkDocs")


def test_the_site_builds_strictly(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, env={"NO_MKDOCS_2_WARNING": "1", "PATH": ""})
    assert proc.returncode == 0, proc.stderr[-3000:]
    api = (tmp_path / "site" / "api" / "index.html").read_text()
    assert 'id="automl.retrain.Gate"' in api and 'id="automl.errors.AutomlError"' in api  # from docstrings


def test_the_front_page_is_the_readme():
    readme = (ROOT / "README.md").read_text()
    assert (ROOT / "docs" / "index.md").read_text() == front_page(readme), \
        "docs/index.md differs from README.md: regenerate it with tests/test_docs.py:front_page"
    assert len(readme.splitlines()) <= 160  # a front page; the rest lives in docs/


def test_every_link_of_the_readme_names_a_page():
    readme = (ROOT / "README.md").read_text()
    for target in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / target).exists(), target
