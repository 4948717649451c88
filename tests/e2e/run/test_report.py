"""report.html opens in a real headless Chromium without console messages, with every section,
self-contained (no network), and text from the data shown, never run as markup."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from automl.artifacts import REPORT_SECTIONS
from automl.run import run_experiment

HOSTILE = '<script>console.error("from a column")</script>'


def test_the_report_opens_with_every_section_and_no_console_message(config, workdir, messy_frame, open_page):
    data = messy_frame.rename(columns={"num": HOSTILE})
    data.to_csv(workdir / "messy.csv", index=False)
    summary = run_experiment(config(data=str(workdir / "messy.csv"), target="label", n_trials=4,
                                    summary_json=str(workdir / "out" / "s.json")))
    page = Path(summary["report"])
    assert page == workdir / "out" / "s.report.html"  # named after the summary
    dom, console = open_page(page)
    assert console == [], console
    for section in REPORT_SECTIONS:
        assert f'<section id="{section}">' in dom, section
    assert "&lt;script&gt;console.error" in dom and HOSTILE not in dom  # shown, not run
    images = re.findall(r'<img [^>]*src="([^"]*)"', dom)
    assert images and all(src.startswith("data:image/png;base64,") for src in images)
    assert not re.search(r'(src|href)="(https?:|//)', dom)  # nothing to fetch: opens offline
    assert "<td>const</td>" in dom and "constant" in dom  # the unused column, and why
