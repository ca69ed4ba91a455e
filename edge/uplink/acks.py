"""The hub's signed verdicts, checked before the outbox hears of them.

An ack that does not verify changes nothing: it is logged and dropped, never allowed to
delete or finalise a document. Anyone who can get a message onto hub/v1/{kit}/ack (a broken
ACL, a compromised broker) could otherwise make a kit forget a result the hub never had.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from cryptography import x509

from edge.errors import EdgeError
from edge.outbox import AckOutcome, Outbox, OutboxError, UnknownDocumentError
from protocol.ack import check_published, verify_ack
from protocol.errors import ProtocolError

log = logging.getLogger(__name__)


class AckRefused(EdgeError):
    """The message on the ack topic is not a verdict this kit can rely on."""


@dataclass(frozen=True)
class AppliedVerdict:
    seq: int
    document_sha256: str
    accepted: bool
    reason: str | None  # "reason_code: message" for a rejection
    outcome: AckOutcome


def apply_ack(
    outbox: Outbox,
    data: bytes,
    *,
    kit_id: str,
    ca_cert: x509.Certificate,
    at: dt.datetime,
    crl: x509.CertificateRevocationList | None = None,
    log_id: str | None = None,
) -> AppliedVerdict:
    """Verify ``data`` against the region CA and the stored signed bytes, then record it.
    With ``log_id``, an accepted verdict must prove the result in that log (the one the
    kit's results count in), not in another log a hub of the region signs.

    Raises :class:`AckRefused` (nothing recorded) when it does not verify.
    """
    try:
        # Is it the hub's at all? Only then is its seq worth looking up.
        verified = verify_ack(data, ca_cert, at=at, crl=crl, log_id=log_id)
    except (ProtocolError, ValueError) as e:
        raise AckRefused(f"not a valid signed ack: {e}") from e
    ack = verified.ack
    if ack.kit != kit_id:
        raise AckRefused(f"ack is for kit {ack.kit}, not this kit ({kit_id})")
    try:
        entry = outbox.get(ack.seq)
    except UnknownDocumentError as e:
        raise AckRefused(f"ack names seq {ack.seq}, which this outbox does not hold") from e
    try:
        # About exactly the bytes this kit published, and (accepted) proved to be in the
        # hub's transparency log under the tree head the same hub signed.
        check_published(verified, entry.signed)
    except (ProtocolError, ValueError) as e:
        raise AckRefused(f"ack does not hold for seq {entry.seq}: {e}") from e
    accepted = ack.verdict == "accepted"
    reason = None if accepted else f"{ack.reason_code}: {ack.reason}".rstrip(": ")
    try:
        outcome = outbox.acknowledge(entry.sha256, accepted, reason, ack=data)
    except OutboxError:
        log.exception("could not record the hub's verdict on seq %d; it will be re-sent", entry.seq)
        raise
    return AppliedVerdict(entry.seq, entry.sha256, accepted, reason, outcome)
