"""The Ingestor's hook: one call per moved counting version, inside the ingest transaction."""

from __future__ import annotations

from collections.abc import Mapping

from hub.ledger import CurrentChange
from hub.manifests import official_dpt
from hub.recap import aggregate, anomalies, hold, seen
from hub.store.results import ResultStore
from protocol.manifest_sign import VerifiedManifest


class RecapHook:
    """Keeps the recapitulation up as results are stored, one batch at a time.

    Called for every moved counting version; region totals and last-seen times are
    collected and written by :meth:`flush`, which the Ingestor calls once per batch, still
    inside the transaction (so they commit with the documents or not at all). Anomalies
    are checked and stored at once: they read the stored versions, not the totals.
    One hook per Ingestor: what it holds between a call and the flush belongs to that
    Ingestor's transaction.

    ``manifests`` (by election id, as hub/manifests.py loads them at start): each version's
    rows I.A are compared with its TPS's official DPT, from memory.
    """

    def __init__(self, manifests: Mapping[str, VerifiedManifest] | None = None) -> None:
        self._manifests: Mapping[str, VerifiedManifest] = dict(manifests or {})
        self._totals = aggregate.PendingTotals()
        self._seen = seen.PendingSeen()

    def __call__(self, store: ResultStore, change: CurrentChange) -> None:
        """Replace the TPS's contribution in every region, re-check it, note its kit as seen.

        Raises only if the guard finds a result about to cross between training and real
        totals, which rolls the batch back: better an unacknowledged result than a wrong
        total.
        """
        doc = change.document or store.document_fields(change.document_id)
        previous = change.previous_document_id
        old = None if previous is None else store.document_fields(previous)
        # The hard limits are checked once, by the anomaly check (the hot path).
        official = official_dpt(self._manifests, doc.election, doc.tps)
        held = hold.held_by(store, doc, anomalies.record(store, doc, old, official))
        old_held = old is not None and hold.is_held(store, old)
        self._totals.add(change, doc, old, held=held, old_held=old_held)
        hold.record(store, doc, old, held, previous_held=old_held)
        self._seen.add(doc.kit, doc.received_at, doc.election, doc.tps, doc.id)

    def flush(self, store: ResultStore) -> None:
        self._totals.write(store)
        self._seen.write(store.db)

    def discard(self) -> None:
        """The transaction rolled back: forget what it collected."""
        self._totals = aggregate.PendingTotals()
        self._seen = seen.PendingSeen()


def recap_hook(store: ResultStore, change: CurrentChange) -> None:
    """:class:`RecapHook` for one change, written at once (for callers without batches)."""
    hook = RecapHook()
    hook(store, change)
    hook.flush(store)
