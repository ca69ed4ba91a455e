"""Anomalies the recapitulation finds in the version that counts for a TPS.

The kit never signs a result that breaks its form's arithmetic, but the hub re-checks with
its own copy of the template: a kit with a tampered template, a bug, or a template the hub
does not know must show up here rather than in a published total. Kinds: those of one
version's numbers on their own (``rule-broken``, ``no-template``, ``template-mismatch``,
``votes-above-registered``, ``votes-above-cap``: protocol/limits.py, which a monitor's
recount runs too), and:

- ``changed-after-first-report``: the counting version's numbers differ from the first
  version the hub received for that TPS (the SIREKAP failure: numbers corrected after
  publication), with every changed field named;
- ``dpt-differs-from-manifest``: rows I.A (men, women, total) differ from the TPS's official
  DPT in the election's signed manifest, each differing row named with both numbers (and
  V.C named too where it is above the official DPT plus its reserve ballots). A misread or a
  copying mistake to look at, not a hard limit: the kit signs what the paper says.

``votes-above-registered`` stays on the form's own I.A.JML, also where a manifest gives the
official DPT: it is a hard limit that holds a result out of the totals (hub/recap/hold.py),
and whether a result is held must be decidable from the signed document alone, by every
reader of it (the API, the totals' rebuild, an operator's release), none of which loads
manifests. Where the form's DPT is the official one the two bounds are the same; where it
is not, ``dpt-differs-from-manifest`` is raised and names the votes above the official
bound, so a DPT written larger to make room for more votes is seen either way.

They go into the hub's ``anomalies`` table beside the ingest's chain anomalies, attached to
the document they were found in. When a newer version replaces it, that document's open
recap anomalies are resolved (they no longer describe what counts) and the new version is
checked afresh. A kit silent for too long is not stored: it depends on when one asks
(hub/recap/seen.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hub.ledger import DocumentFields
from hub.store.db import Database
from hub.store.results import ResultStore
from protocol.limits import (
    DPT,
    NO_TEMPLATE,
    RULE_BROKEN,
    TEMPLATE_MISMATCH,
    TOTAL,
    VOTES_ABOVE_CAP,
    VOTES_ABOVE_REGISTERED,
    check_numbers,
    template_for,
    with_reserve,
)
from protocol.manifest import OfficialDpt

CHANGED = "changed-after-first-report"
DPT_DIFFERS = "dpt-differs-from-manifest"
RECAP_KINDS = (
    RULE_BROKEN,
    NO_TEMPLATE,
    TEMPLATE_MISMATCH,
    VOTES_ABOVE_REGISTERED,
    VOTES_ABOVE_CAP,
    CHANGED,
    DPT_DIFFERS,
)


def differs_from_official(form: str, fields: Mapping[str, int], official: OfficialDpt) -> list[str]:
    """What of one version's numbers disagrees with the TPS's official register:
    ``row form-number (manifest official-number)`` for each row I.A the version carries with
    another number, and V.C where it is above the official DPT plus reserve and the form's
    own DPT is not the official one (else votes-above-registered says it already)."""
    found = [
        f"{row} {fields[row]} (manifest {value})"
        for row, value in official.form_rows().items()
        if row in fields and fields[row] != value
    ]
    template = template_for(form)
    if TOTAL in fields and template is not None and fields.get(DPT) != official.total:
        bound = with_reserve(official.total, template.reserve_permille)
        if fields[TOTAL] > bound:
            found.append(
                f"{TOTAL} {fields[TOTAL]} above the manifest's {official.total} registered "
                f"voters plus {bound - official.total} reserve ballots"
            )
    return found


def changed_fields(first: Mapping[str, int], current: Mapping[str, int]) -> list[str]:
    """``field first->current`` for every field whose number differs (or appears/goes)."""
    out = []
    for f in sorted(set(first) | set(current)):
        a, b = first.get(f), current.get(f)
        if a != b:
            out.append(f"{f} {'-' if a is None else a}->{'-' if b is None else b}")
    return out


def record(
    store: ResultStore,
    doc: DocumentFields,
    previous: DocumentFields | None,
    official: OfficialDpt | None = None,
) -> list[str]:
    """Check the new counting version ``doc`` (against ``official``, its TPS's register by
    the election's manifest, where the hub holds one); resolve what the replaced one
    (``previous``) had. Returns the kinds recorded."""
    db = store.db
    now = doc.received_at
    found = check_numbers(doc.form, doc.fields)
    if official is not None:
        differences = differs_from_official(doc.form, doc.fields, official)
        if differences:
            detail = (
                f"{doc.tps} {doc.form}: seq {doc.seq} of kit {doc.kit} differs from the "
                f"official DPT in {doc.election}'s manifest: " + ", ".join(differences)
            )
            found.append((DPT_DIFFERS, detail))
    if previous is not None:
        marks = ", ".join("?" * len(RECAP_KINDS))
        db.execute(
            "UPDATE anomalies SET resolved_at = ? WHERE document_id = ? "
            f"AND resolved_at IS NULL AND kind IN ({marks})",
            (now, previous.id, *RECAP_KINDS),
        )
        first_id = store.first_document_id(doc.election, doc.tps, doc.form)
        if first_id is not None and first_id != doc.id:
            first = previous if previous.id == first_id else store.document_fields(first_id)
            changes = changed_fields(first.fields, doc.fields)
            if changes:
                detail = (
                    f"{doc.tps} {doc.form}: seq {doc.seq} of kit {doc.kit} differs from the "
                    f"first report (seq {first.seq} of kit {first.kit}): " + ", ".join(changes)
                )
                found.append((CHANGED, detail))
    for kind, detail in found:
        store.add_anomaly(
            kind, detail, now, kit=doc.kit, election=doc.election, tps=doc.tps, document_id=doc.id
        )
    return [kind for kind, _ in found]


@dataclass(frozen=True)
class AnomalyRow:
    id: int
    kind: str
    kit: str | None
    election: str | None
    tps: str | None
    document_id: int | None
    detail: str
    detected_at: str
    resolved_at: str | None


def list_anomalies(
    db: Database, *, election: str | None = None, open_only: bool = True
) -> list[AnomalyRow]:
    """Every stored anomaly (the ingest's chain ones and the recap's), oldest first."""
    where, params = [], []
    if open_only:
        where.append("resolved_at IS NULL")
    if election is not None:
        where.append("election = ?")
        params.append(election)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    rows = db.all(
        "SELECT id, kind, kit, election, tps, document_id, detail, detected_at, resolved_at "
        f"FROM anomalies{clause} ORDER BY id",
        params,
    )
    return [
        AnomalyRow(int(r[0]), r[1], r[2], r[3], r[4], None if r[5] is None else int(r[5]), *r[6:])
        for r in rows
    ]
