"""Results held out of the published totals: "perlu verifikasi".

A kit never signs numbers that break its form's hard limits (a broken sum, a number above
the TPS's size, more votes than registered voters and reserve ballots), so a document that
does is a tampered template, a bug or an attack, and publishing its numbers first and
correcting them later is the SIREKAP failure this hub exists to prevent. Such a result is
stored, logged and acknowledged like any other, and becomes its TPS's counting version, but
the recapitulation adds nothing of it (neither its numbers nor its TPS to the count) until
an operator releases it (`tps-hub hold --release`); an operator may also confirm that it
stays out (`--keep-out`). Both are recorded with who, when and why. A newer version that
keeps within the limits simply replaces it.

What a hard limit is, and whether a version breaks one, is judged from the signed document
and the form template alone (protocol/limits.py), so a monitor's recount judges the same
holds without the hub's word; an operator's decisions are published (``GET
/api/v1/decisions``) for it to apply.
"""

from __future__ import annotations

from hub.ledger import DocumentFields
from hub.store.results import ResultStore
from protocol import limits

HELD = "held-for-verification"  # the anomaly kind; the public label is "perlu verifikasi"
LABEL = "perlu verifikasi"


def hard_limits_broken(doc: DocumentFields) -> list[str]:
    """What of ``doc``'s numbers breaks a hard limit (empty: nothing)."""
    return limits.hard_limits_broken(doc.form, doc.fields)


def is_held(store: ResultStore, doc: DocumentFields) -> bool:
    """Whether ``doc`` is kept out of the totals: it breaks a hard limit and no operator
    released it (the store is asked only then: nearly every document keeps the limits)."""
    return bool(hard_limits_broken(doc)) and not store.released(doc.id)


def held_by(store: ResultStore, doc: DocumentFields, kinds: list[str]) -> bool:
    """:func:`is_held` from the anomaly kinds the recapitulation just found in ``doc``."""
    return not limits.HARD_LIMITS.isdisjoint(kinds) and not store.released(doc.id)


def record(
    store: ResultStore,
    doc: DocumentFields,
    previous: DocumentFields | None,
    held: bool,
    *,
    previous_held: bool = True,
) -> None:
    """Show the new counting version as held (an open anomaly, what the dashboard, the API
    and the CSV list as "perlu verifikasi"); the replaced version no longer is (a write
    only when it was held: ``previous_held``, if the caller knows it)."""
    if previous is not None and previous_held:
        store.resolve_anomalies(previous.id, HELD, doc.received_at)
    if held:
        detail = (
            f"{LABEL}: {doc.tps} {doc.form} seq {doc.seq} of kit {doc.kit} is held out of "
            "the totals until an operator decides: " + "; ".join(hard_limits_broken(doc))
        )
        store.add_anomaly(
            HELD,
            detail,
            doc.received_at,
            kit=doc.kit,
            election=doc.election,
            tps=doc.tps,
            document_id=doc.id,
        )


def held_tps(store: ResultStore, election: str, form: str, region: str = "") -> list[str]:
    """The TPS of ``region`` (a code prefix; "" for all) whose counting version of ``form``
    is held, in code order."""
    rows = store.db.all(
        "SELECT DISTINCT a.tps FROM anomalies AS a JOIN current_results AS c "
        "ON c.document_id = a.document_id "
        "WHERE a.kind = ? AND a.resolved_at IS NULL AND c.election = ? AND c.form = ? "
        "ORDER BY a.tps",
        (HELD, election, form),
    )
    return [str(r[0]) for r in rows if not region or str(r[0]).startswith(region + ".")]
