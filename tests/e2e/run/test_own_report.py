"""Each study's report is its own: named after its summary, not one report.html per folder."""

from __future__ import annotations

import json


def test_studies_sharing_a_summary_folder_keep_their_own_report(run_cli, workdir):
    """The README's quick start and worked example both write their summary into mlruns/: the
    second run's report must not replace the first's."""
    names = ("iris-alpha-study", "iris-beta-study")
    for name in names:
        result = run_cli("--data", "demo:iris", "--study-name", name, "--summary-json",
                         str(workdir / "mlruns" / f"{name}.json"))
        assert result.exit_code == 0, result.output
    for name, other in (names, names[::-1]):
        summary = json.loads((workdir / "mlruns" / f"{name}.json").read_text())
        report = workdir / "mlruns" / f"{name}.report.html"
        assert summary["report"] == str(report)
        assert name in report.read_text() and other not in report.read_text()
    assert not (workdir / "mlruns" / "report.html").exists()
