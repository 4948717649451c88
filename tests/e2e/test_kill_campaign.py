"""Kill campaign on the embedded store: ``run`` and ``retrain`` (which moves the registry alias)
stopped at seeded random moments (see tests/e2e/campaign.py)."""

from tests.e2e.campaign import _campaign, _signing_key  # noqa: F401 (an autouse fixture)


def test_kill_campaign_on_the_embedded_store(tmp_path):
    hits = _campaign(tmp_path, ["run", "run", "retrain"], 14,
                     ("group-term", "main-term", "main-kill", "writer", "fold"), seed=13)
    assert len([h for h in hits if not h.startswith("none")]) >= 10, hits
