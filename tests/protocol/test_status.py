"""The kit status message: what the kit writes is what the hub reads, byte for byte."""

from __future__ import annotations

import json

import pytest

from edge.outbox.records import OutboxStats
from edge.uplink import status
from protocol.status import MAX_BYTES, StatusError, parse_status

VERSIONS = status.Versions("0.1.0", "ab" * 32)


def test_online_status_reads_back_as_written():
    stats = OutboxStats(7, 2, 1, 3, 95.5, 4096, 10_000)
    sent = status.online("kit-3171011001001-1", VERSIONS, stats, 10**9, 1_700_000_000)
    wire = json.loads(sent.encode())
    assert wire == {
        "format": "tps-status/1",
        "kit": "kit-3171011001001-1",
        "state": "online",
        "at": "2023-11-14T22:13:20Z",
        "software": "0.1.0",
        "model": "ab" * 32,
        "queue": {
            "pending_documents": 2,
            "unsent_documents": 1,
            "pending_images": 3,
            "pending_bytes": 4096,
            "last_seq": 7,
            "oldest_pending_age_s": 95,
        },
        "disk_free_bytes": 10**9,
    }
    assert parse_status(sent.encode()) == sent


def test_last_will_has_no_time_and_later_counters_are_kept():
    will = status.offline("kit-a", VERSIONS, "connection lost")
    assert "at" not in json.loads(will.encode())
    newer = {**json.loads(will.encode()), "paper_mistakes": 2, "prints": 4}
    read = parse_status(json.dumps(newer))
    assert read.paper_mistakes == 2 and read.to_json_value()["prints"] == 4


@pytest.mark.parametrize(
    "payload",
    [b"\xff not json", b"[]", b'{"state": "online"}', b"{" + b" " * MAX_BYTES + b"}"],
)
def test_what_is_not_a_status_is_refused(payload):
    with pytest.raises(StatusError):
        parse_status(payload)
