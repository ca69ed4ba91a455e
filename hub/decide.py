"""What an operator decides, applied: a kit declared compromised.

Revocation alone (the CRL) acts from the revocation time: results the hub stored before it
keep counting, later ones are refused at ingest. An operator who believes a kit was in the
wrong hands may instead declare it compromised: then none of its results count, before or
after, and each TPS it reported falls back to the newest other kit's version (hub.ledger's
rule) or to none. The decision is recorded (who, when, why) and shown as an anomaly; the
recapitulation of every election the kit touched is rebuilt in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.ledger import counting_version
from hub.recap.rebuild import rebuild
from hub.store.results import ResultStore


@dataclass(frozen=True)
class Fallback:
    """One TPS form whose counting version a declaration moved."""

    election: str
    tps: str
    form: str
    previous_document_id: int
    document_id: int | None  # None: no other kit's version, the TPS has no count


def declare_compromised(
    store: ResultStore, kit: str, decided_by: str, reason: str, now: str
) -> list[Fallback]:
    """Record ``kit`` as compromised and move every counting version off it."""
    moved: list[Fallback] = []
    with store.db.transaction():
        store.add_decision("kit-compromised", decided_by, reason, now, kit=kit)
        store.add_anomaly(
            "kit-compromised",
            f"kit {kit} declared compromised by {decided_by} at {now}: {reason}; "
            "none of its results count",
            now,
            kit=kit,
        )
        excluded = store.compromised_kits()
        for key in store.forms_of_kit(kit):
            current = store.current(*key)
            if current is None or current.kit not in excluded:
                continue
            best = counting_version(store.versions(*key), excluded)
            store.set_counting(key, best, now)
            moved.append(Fallback(*key, current.id, None if best is None else best.id))
        for election in sorted({f.election for f in moved}):
            rebuild(store, election)
    return moved
