"""Kill campaign on the journal store with ``run --workers 2``, stopped at seeded random moments
(see tests/e2e/campaign.py): a file of its own, so that two test processes run both campaigns at once."""

from tests.e2e.campaign import _campaign, _signing_key  # noqa: F401 (an autouse fixture)


def test_kill_campaign_on_the_journal_with_workers(tmp_path):
    hits = _campaign(tmp_path, ["workers"], 10,
                     ("group-term", "main-kill", "worker", "writer", "fold"), seed=7)
    assert len([h for h in hits if not h.startswith("none")]) >= 7, hits
