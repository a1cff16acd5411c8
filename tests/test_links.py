"""Signed action links: bound to one incident, one responder and one action; expiring;
verifiable across a key rotation; anything else refused."""

import time

import pytest

from security.links import LinkError, LinkSigner


def test_sign_and_verify_returns_the_claim():
    claim = LinkSigner(["k1"], 3600).verify(LinkSigner(["k1"], 3600).sign("inc1", "alice", "resolve"))
    assert (claim.incident, claim.responder, claim.action) == ("inc1", "alice", "resolve")


def test_verify_tampered_token_is_refused():
    signer = LinkSigner(["k1"], 3600)
    token = signer.sign("inc1", "alice", "acknowledge")
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(LinkError, match="not valid"):
        signer.verify(flipped)


def test_verify_token_for_other_action_is_refused():
    signer = LinkSigner(["k1"], 3600)
    with pytest.raises(LinkError):
        signer.verify(signer.sign("inc1", "alice", "acknowledge"), action="resolve")


def test_verify_token_from_unknown_key_is_refused():
    token = LinkSigner(["attacker"], 3600).sign("inc1", "alice", "acknowledge")
    with pytest.raises(LinkError, match="not valid"):
        LinkSigner(["k1"], 3600).verify(token)


def test_verify_after_key_rotation_accepts_old_links():
    old = LinkSigner(["old"], 3600).sign("inc1", "alice", "acknowledge")
    rotated = LinkSigner(["new", "old"], 3600)
    assert rotated.verify(old).responder == "alice"
    assert LinkSigner(["new"], 3600).verify(rotated.sign("inc1", "bob", "resolve")).responder == "bob"


def test_verify_expired_token_says_expired(monkeypatch):
    signer = LinkSigner(["k1"], 60)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 120)
    token = signer.sign("inc1", "alice", "acknowledge")
    monkeypatch.setattr(time, "time", real)
    with pytest.raises(LinkError, match="expired"):
        signer.verify(token)


def test_feedback_links_bind_incident_and_person_and_pass_for_nothing_else():
    from security.links import FeedbackLinks

    links = FeedbackLinks(["k1"])
    claim = links.verify(links.sign("inc1", "alice"))
    assert (claim.incident, claim.person) == ("inc1", "alice")
    with pytest.raises(LinkError, match="not valid"):
        links.verify(LinkSigner(["k1"], 3600).sign("inc1", "alice", "resolve"))
    with pytest.raises(LinkError, match="not valid"):
        LinkSigner(["k1"], 3600).verify(links.sign("inc1", "alice"))
    with pytest.raises(LinkError, match="not valid"):
        FeedbackLinks(["attacker"]).verify(links.sign("inc1", "alice"))


def test_feedback_links_expire(monkeypatch):
    from security.links import FeedbackLinks

    links = FeedbackLinks(["k1"], max_age=60)
    token = links.sign("inc1", "alice")
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(LinkError, match="expired"):
        links.verify(token)
