"""The ledger's rules on their own: no database, no signatures."""

from __future__ import annotations

from hub.ledger import (
    BatchChains,
    ChainRow,
    CurrentVersions,
    StoredDocument,
    chain_position,
    settled_successors,
    supersedes,
)
from protocol.document import GENESIS


def Doc(document_id: int, kit: str, seq: int, captured_at: str) -> StoredDocument:
    return StoredDocument(
        document_id,
        f"{document_id:064x}",
        kit,
        seq,
        "pemilu-uji",
        False,
        "31.71.01.1001.001",
        "ppwp-plano",
        1,
        captured_at,
        GENESIS,
        "{}",
        b"",
        "1",
        "ok",
        "log",
        document_id,
        b"",
        "test",
        "2024-02-14T20:00:00.000000Z",
    )


def test_a_rescan_counts_by_seq_and_another_kit_by_capture_time():
    first = Doc(1, "kit-a", 2, "2024-02-14T19:00:00Z")
    assert supersedes(Doc(2, "kit-a", 3, "2024-02-14T18:00:00Z"), first)  # seq, not clock
    assert not supersedes(Doc(3, "kit-a", 1, "2024-02-14T21:00:00Z"), first)
    assert supersedes(Doc(4, "kit-b", 1, "2024-02-14T19:30:00Z"), first)  # a replacement kit
    assert not supersedes(Doc(5, "kit-b", 9, "2024-02-14T18:30:00Z"), first)


def test_current_versions_move_only_for_a_newer_version_whatever_the_arrival_order():
    versions = CurrentVersions([])
    newer, older = Doc(1, "kit-a", 2, "2024-02-14T19:00:00Z"), Doc(2, "kit-a", 1, "x")
    change = versions.advance(newer, {"V.A": 3}, "now")
    assert change is not None and change.previous_document_id is None
    assert change.document is not None and change.document.fields == {"V.A": 3}
    assert versions.advance(older, {}, "now") is None
    new, stored = versions.take_changed()
    assert [(r.document_id, r.versions) for r in new] == [(1, 2)] and stored == []
    assert versions.take_changed() == ([], [])


def test_chain_gaps_forks_and_late_predecessors():
    sha = {n: f"{n:064x}" for n in range(1, 5)}
    assert chain_position("kit-a", 1, sha[1], GENESIS, []) == ("ok", [])
    status, anomalies = chain_position("kit-a", 3, sha[3], sha[2], [])
    assert status == "gap" and [kind for kind, _ in anomalies] == ["chain-gap"]
    chains = BatchChains([("kit-a", ChainRow(7, 3, sha[3], sha[2], "gap"))])
    neighbours = chains.neighbours("kit-a", 2)
    assert chain_position("kit-a", 2, sha[2], sha[1], neighbours)[0] == "gap"
    assert [r.chain_status for r in settled_successors(2, sha[2], neighbours)] == ["ok"]
    assert [r.chain_status for r in settled_successors(2, sha[4], neighbours)] == ["fork"]
