"""The trainer's view of a training (bimtek) election, per kit, for the session's debrief.

From the signed documents: scans (documents signed), rescans (versions beyond a kit's
first for the same TPS and form), doubts raised (fields whose evidence says the KPPS was
asked: ``confirmed`` kept the reading, ``chosen`` picked another reading the rules allow,
``entered`` changed it) and corrections (fields a
rule or the bubbles changed: ``corrected``), summed over every version.

Paper mistakes caught (the KPPS's own arithmetic errors the kit refused to sign) are not
in any signed document: the kit never signs a form that breaks a rule. That figure can
only come from the kit itself, as a counter in its status heartbeat
(tps/v1/{kit}/status, stored by :func:`hub.recap.seen.record_status`) under the key
``paper_mistakes``; until kits send it, it is reported as unknown (None), never as 0.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from hub.recap.errors import RecapError
from hub.recap.seen import latest_status
from hub.store.db import Database
from hub.trust import RegistryKit
from protocol.ids import is_training
from protocol.result import parse_bundle

DOUBT_DECISIONS = ("confirmed", "chosen", "entered")
CHANGED_DECISIONS = ("chosen", "entered")  # the KPPS changed the kit's value


@dataclass(frozen=True)
class KitDebrief:
    kit: str
    tps: str | None
    scans: int
    rescans: int
    doubts: int  # confirmed + chosen + entered
    entered: int  # of the doubts, those where the KPPS changed the value (chosen or entered)
    corrections: int
    paper_mistakes: int | None  # None: the kit has not reported the counter
    last_received: str | None

    def to_json_value(self) -> dict[str, object]:
        return asdict(self)


def debrief(
    db: Database, election: str, *, registry: Iterable[RegistryKit] = ()
) -> list[KitDebrief]:
    """One line per kit of the training election (registry kits with no scan included)."""
    if not is_training(election):
        raise RecapError(
            f"{election!r} is a real election: the debrief is for training elections "
            "(ids starting latihan-), whose results never count"
        )
    rows = db.all(
        "SELECT kit, tps, form, signed, received_at FROM documents WHERE election = ? "
        "ORDER BY kit, seq, id",
        (election,),
    )
    tallies: dict[str, _Tally] = {}
    seen_forms: set[tuple[str, str, str]] = set()
    for kit, tps, form, signed, received_at in rows:
        tally = tallies.setdefault(kit, _Tally(tps))
        tally.scans += 1
        if (kit, tps, form) in seen_forms:
            tally.rescans += 1
        seen_forms.add((kit, tps, form))
        tally.last_received = received_at
        for decision in _decisions(bytes(signed)):
            tally.doubts += decision in DOUBT_DECISIONS
            tally.entered += decision in CHANGED_DECISIONS
            tally.corrections += decision == "corrected"
    for entry in registry:
        if entry.election == election and entry.kit not in tallies:
            tallies[entry.kit] = _Tally(entry.tps)
    return [_line(db, kit, tally) for kit, tally in sorted(tallies.items())]


@dataclass
class _Tally:
    tps: str | None
    scans: int = 0
    rescans: int = 0
    doubts: int = 0
    entered: int = 0
    corrections: int = 0
    last_received: str | None = None


def _line(db: Database, kit: str, t: _Tally) -> KitDebrief:
    status = latest_status(db, kit)
    mistakes = None if status is None else status.paper_mistakes
    return KitDebrief(
        kit=kit,
        tps=t.tps,
        scans=t.scans,
        rescans=t.rescans,
        doubts=t.doubts,
        entered=t.entered,
        corrections=t.corrections,
        paper_mistakes=mistakes,
        last_received=t.last_received,
    )


def _decisions(signed: bytes) -> list[str]:
    # The signature was checked when the document was accepted; here only its evidence is
    # read back from the stored envelope's payload.
    envelope, _ = parse_bundle(signed)
    evidence = json.loads(envelope.payload).get("evidence", {})
    return [str(e.get("decision")) for e in evidence.values() if isinstance(e, dict)]
