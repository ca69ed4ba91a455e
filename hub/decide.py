"""What an operator decides, applied: a kit declared compromised, a held result released
or kept out of the totals.

Revocation alone (the CRL) acts from the revocation time: results the hub stored before it
keep counting, later ones are refused at ingest. An operator who believes a kit was in the
wrong hands may instead declare it compromised: then none of its results count, before or
after, and each TPS it reported falls back to the newest other kit's version (hub.ledger's
rule) or to none. The decision is recorded (who, when, why) and shown as an anomaly; the
recapitulation of every election the kit touched is rebuilt in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.ledger import CurrentChange, counting_version
from hub.recap import hold
from hub.recap.aggregate import PendingTotals
from hub.recap.errors import RecapError
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


def decide_held(
    store: ResultStore, document_sha256: str, release: bool, decided_by: str, reason: str, now: str
) -> bool:
    """Release a result held out of the totals (hub/recap/hold.py) into them, or keep it
    out (again, after a release); returns whether the totals moved. Only the TPS's own
    contribution moves (no rebuild): the change is one TPS's, whatever the region's size."""
    with store.db.transaction():
        doc = store.find_document(document_sha256)
        if doc is None:
            raise RecapError(f"the hub holds no document {document_sha256}")
        fields = store.document_fields(doc.id)
        if not hold.hard_limits_broken(fields):
            raise RecapError(f"document {document_sha256[:12]} breaks no hard limit: not held")
        was_held = hold.is_held(store, fields)
        kind = "result-released" if release else "result-kept-out"
        store.add_decision(kind, decided_by, reason, now, document_id=doc.id)
        words = "released into the totals" if release else "kept out of the totals"
        store.add_anomaly(
            kind,
            f"{doc.tps} {doc.form} seq {doc.seq} of kit {doc.kit} {words} by {decided_by} "
            f"at {now}: {reason}",
            now,
            kit=doc.kit,
            election=doc.election,
            tps=doc.tps,
            document_id=doc.id,
        )
        if release == (not was_held):
            return False  # it already was where the operator puts it
        if release:
            store.resolve_anomalies(doc.id, hold.HELD, now)
        else:
            hold.record(store, fields, None, True)
        current = store.current(doc.election, doc.tps, doc.form)
        if current is None or current.id != doc.id:
            return False  # not the counting version: no total holds it either way
        change = CurrentChange(
            doc.election, doc.tps, doc.form, doc.is_training, doc.id, previous_document_id=doc.id
        )
        pending = PendingTotals()
        pending.add(change, fields, fields, held=not release, old_held=was_held)
        pending.write(store)
    return True
