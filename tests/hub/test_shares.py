"""Vote shares and the voters the TPS in hold, on their own (the pages show them:
tests/hub/test_dashboard_public.py)."""

from __future__ import annotations

import pytest

from hub.recap.shares import vote_shares
from hub.recap.voters import voters_in
from protocol.forms.loader import load_template
from tests.manifests import ppwp_manifest

PPWP = load_template("ppwp-plano")


def test_shares_are_of_the_votes_the_options_got_not_of_the_forms_total():
    # V.A (valid votes) disagrees with the options' sum: the bars must add up to 100 %.
    shares = vote_shares(PPWP, {"IV.1": 30, "IV.2": 50, "IV.3": 20, "V.A": 999})
    assert [(s.number, s.votes) for s in shares] == [(1, 30), (2, 50), (3, 20)]
    assert [s.share for s in shares] == pytest.approx([0.3, 0.5, 0.2])


def test_no_votes_yet_is_no_share_not_zero_percent():
    assert [s.share for s in vote_shares(PPWP, {})] == [None, None, None]
    missing = vote_shares(PPWP, {"IV.1": 10, "IV.2": 0})
    assert [(s.votes, s.share) for s in missing] == [(10, 1.0), (0, 0.0), (None, 0.0)]
    assert vote_shares(None, {"IV.1": 1}) == []  # no template: no options to share


def test_voters_in_count_the_manifests_dpt_of_the_tps_counted():
    dpt = {"31.71.01.1001.001": (120, 131), "31.71.01.1002.001": (99, 101)}
    manifest = ppwp_manifest(dpt)
    whole = voters_in(manifest, ["31.71.01.1001.001"], "")
    assert (whole.dpt_in, whole.dpt) == (251, 451) and whole.share == pytest.approx(251 / 451)
    desa = voters_in(manifest, ["31.71.01.1001.001"], "31.71.01.1002")
    assert (desa.dpt_in, desa.dpt, desa.share) == (0, 200, 0.0)
    # A TPS the manifest lacks adds nothing: the DPT is the manifest's, never a guess.
    stranger = voters_in(manifest, ["31.71.09.9999.001"], "")
    assert stranger.dpt_in == 0
