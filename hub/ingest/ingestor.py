"""Ingest: judge received messages, then store, log and acknowledge them in one transaction.

For a batch of messages (one MQTT delivery window, or one file of a USB import):

1. judge each (hub/ingest/verdict.py), before any lock is taken;
2. in one serialized write transaction: skip documents already stored (same hash: the
   stored ack is returned again), append the new ones to the transparency log (the real
   or the training log), sign one tree head per log, store each document with its chain
   position, its signed ack and its effect on the TPS's current version; store every
   rejection with its reason; store images a document of the same kit names;
3. commit. Only the caller publishes acks, and only after this returns: an ack is never
   sent for anything not durably stored and logged.

If the database fails, the whole batch rolls back and the caller must not acknowledge
the messages (MQTT will deliver them again).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from hub.errors import StoreError
from hub.ingest import verdict as v
from hub.ingest.acks import AckSigner
from hub.store.results import CurrentChange, NewDocument, ResultStore, StoredDocument, utc_text
from hub.translog import TranslogError, TransparencyLog
from hub.trust import Trust
from protocol.canonical import canonical_bytes
from protocol.ids import is_training

Kind = Literal["result", "image"]
Status = Literal["accepted", "duplicate", "rejected", "deferred"]
# Called inside the transaction when the version that counts for a TPS moves: the
# incremental recapitulation's way in, so totals commit with the document or not at all.
CurrentHook = Callable[[ResultStore, CurrentChange], None]


@dataclass(frozen=True)
class Limits:
    max_result_bytes: int
    max_image_bytes: int
    rejected_raw_bytes: int


@dataclass(frozen=True)
class Message:
    kind: Kind
    kit: str  # the kit id in the topic (or the export's manifest): who gets the ack
    data: bytes
    image_sha256: str | None = None  # from the image topic
    source: str = "mqtt"


@dataclass(frozen=True)
class Outcome:
    """What became of one message. Publish ``ack`` (if any) to hub/v1/{kit}/ack."""

    kind: Kind
    status: Status  # deferred: the hub could not judge (its own trust); nothing to send
    kit: str
    ack: bytes | None = None
    document_sha256: str | None = None
    seq: int | None = None
    reason_code: str = ""
    reason: str = ""
    log_index: int | None = None
    current: bool = False  # this document is now the version that counts
    anomalies: tuple[str, ...] = field(default=())


class Ingestor:
    def __init__(
        self,
        store: ResultStore,
        trust: Trust,
        signer: AckSigner,
        *,
        log_id: str,
        training_log_id: str,
        limits: Limits,
        hooks: Sequence[CurrentHook] = (),
    ) -> None:
        self.store = store
        self.trust = trust
        self.signer = signer
        self.log_id = log_id
        self.training_log_id = training_log_id
        self.limits = limits
        self.hooks = tuple(hooks)
        self._logs: dict[str, TransparencyLog] = {}

    def log(self, name: str) -> TransparencyLog:
        if name not in self._logs:
            self._logs[name] = TransparencyLog(self.store.log_storage(name))
        return self._logs[name]

    def ingest_result(
        self, data: bytes, kit: str, now: dt.datetime, *, source: str = "mqtt"
    ) -> Outcome:
        return self.ingest_many([Message("result", kit, data, source=source)], now)[0]

    def ingest_image(
        self, data: bytes, kit: str, sha256: str, now: dt.datetime, *, source: str = "mqtt"
    ) -> Outcome:
        return self.ingest_many([Message("image", kit, data, sha256, source)], now)[0]

    def ingest_many(self, messages: Sequence[Message], now: dt.datetime) -> list[Outcome]:
        """Judge, then store, log and sign acks for a batch in one transaction."""
        verdicts = [self._judge(m, now) for m in messages]
        try:
            with self.store.db.transaction():
                return _Batch(self, messages, verdicts, now).run()
        except TranslogError as e:
            self._logs.clear()
            raise StoreError(f"the transparency log refused the batch: {e}") from e
        except BaseException:
            # The rolled-back appends may still be in a log's cached right border.
            self._logs.clear()
            raise

    def _judge(self, m: Message, now: dt.datetime) -> v.Verdict | None:
        if m.kind == "result":
            return v.judge_result(
                m.data, m.kit, self.trust, now, max_bytes=self.limits.max_result_bytes
            )
        return v.judge_image(
            m.data, m.kit, m.image_sha256 or "", max_bytes=self.limits.max_image_bytes
        )


class _Batch:
    """One transaction's work; exists only inside Ingestor.ingest_many."""

    def __init__(
        self,
        ingestor: Ingestor,
        messages: Sequence[Message],
        verdicts: Sequence[v.Verdict | None],
        now: dt.datetime,
    ) -> None:
        self.ing = ingestor
        self.store = ingestor.store
        self.messages = messages
        self.verdicts = verdicts
        self.now = now
        self.now_text = utc_text(now)
        self.outcomes: list[Outcome | None] = [None] * len(messages)

    def run(self) -> list[Outcome]:
        first_of: dict[str, int] = {}  # document hash -> its first message in this batch
        repeats: list[tuple[int, int]] = []
        new: list[int] = []
        for i, (m, verdict) in enumerate(zip(self.messages, self.verdicts, strict=True)):
            if m.kind != "result":
                continue
            if isinstance(verdict, v.Accepted):
                sha = verdict.verified.document_sha256
                stored = self.store.find_document(sha)
                if stored is not None and stored.kit == m.kit:
                    self.outcomes[i] = _duplicate(stored)
                elif sha in first_of:
                    repeats.append((i, first_of[sha]))
                else:
                    first_of[sha] = i
                    new.append(i)
            else:
                assert isinstance(verdict, v.Rejected)
                self.outcomes[i] = self._retry_of_accepted(m, verdict) or self._reject(m, verdict)
        self._accept(new)
        for i, first in repeats:
            done = self.outcomes[first]
            assert done is not None
            self.outcomes[i] = replace(done, status="duplicate", current=False, anomalies=())
        for i, m in enumerate(self.messages):
            if m.kind == "image":
                self.outcomes[i] = self._image(m, self.verdicts[i])
        assert all(o is not None for o in self.outcomes)
        return [o for o in self.outcomes if o is not None]

    def _retry_of_accepted(self, m: Message, verdict: v.Rejected) -> Outcome | None:
        # A document once accepted keeps its verdict: the very same bytes sent again by
        # the same kit (a retry after a lost ack) get the stored ack, even if, say, the
        # kit was revoked since. Anything else is judged afresh.
        if verdict.document_sha256 is None or verdict.reason_code == v.TOPIC_MISMATCH:
            return None
        stored = self.store.find_document(verdict.document_sha256)
        if stored is None or stored.kit != m.kit or stored.signed != m.data:
            return None
        return _duplicate(stored)

    def _accept(self, indexes: list[int]) -> None:
        by_log: dict[str, list[int]] = {}
        for i in indexes:
            verdict = self.verdicts[i]
            assert isinstance(verdict, v.Accepted)
            training = is_training(verdict.verified.document.election)
            name = self.ing.training_log_id if training else self.ing.log_id
            by_log.setdefault(name, []).append(i)
        for name, members in by_log.items():
            log = self.ing.log(name)
            leaves = log.append_many([self.messages[i].data for i in members])
            head = log.sign_tree_head(self.ing.signer.key, name, self.now)
            size = log.size
            # Chain order within the batch: a kit's earlier seq first, so fewer false gaps.
            ordered = sorted(zip(members, leaves, strict=True), key=lambda p: self._seq_key(p[0]))
            for i, leaf in ordered:
                proof = log.inclusion_proof(leaf, size)
                self.outcomes[i] = self._store_accepted(i, name, leaf, proof, head)

    def _seq_key(self, i: int) -> tuple[str, int]:
        verdict = self.verdicts[i]
        assert isinstance(verdict, v.Accepted)
        return verdict.verified.document.kit, verdict.verified.document.seq

    def _store_accepted(
        self, i: int, log_name: str, leaf: int, proof: list[bytes], head: bytes
    ) -> Outcome:
        m, verdict = self.messages[i], self.verdicts[i]
        assert isinstance(verdict, v.Accepted)
        doc, sha = verdict.verified.document, verdict.verified.document_sha256
        ack = self.ing.signer.accepted(
            kit=doc.kit,
            seq=doc.seq,
            document_sha256=sha,
            now=self.now,
            log_index=leaf,
            proof=proof,
            tree_head=head,
        )
        status, anomalies = self.store.chain_position(doc.kit, doc.seq, sha, doc.prev_sha256)
        new = NewDocument(
            document_sha256=sha,
            kit=doc.kit,
            seq=doc.seq,
            election=doc.election,
            is_training=is_training(doc.election),
            tps=doc.tps,
            form=doc.form,
            form_version=doc.form_version,
            captured_at=doc.captured_at,
            prev_sha256=doc.prev_sha256,
            fields=canonical_bytes(dict(doc.fields)).decode("utf-8"),
            signed=m.data,
            cert_serial=format(verdict.verified.certificate.serial_number, "x"),
            chain_status=status,
            log_name=log_name,
            log_index=leaf,
            ack=ack,
            source=m.source,
            received_at=self.now_text,
            pages=tuple((p.page, p.sha256) for p in doc.pages),
        )
        document_id = self.store.insert_document(new)
        for kind, detail in anomalies:
            self.store.add_anomaly(
                kind,
                detail,
                self.now_text,
                kit=doc.kit,
                election=doc.election,
                tps=doc.tps,
                document_id=document_id,
            )
        self.store.settle_successors(doc.kit, doc.seq, sha, self.now_text)
        change = self.store.advance_current(document_id, new, self.now_text)
        if change is not None:
            for hook in self.ing.hooks:
                hook(self.store, change)
        return Outcome(
            "result",
            "accepted",
            m.kit,
            ack=ack,
            document_sha256=sha,
            seq=doc.seq,
            log_index=leaf,
            current=change is not None,
            anomalies=tuple(kind for kind, _ in anomalies),
        )

    def _reject(self, m: Message, verdict: v.Rejected) -> Outcome:
        cap = self.ing.limits.rejected_raw_bytes
        row = self.store.record_rejection(
            kind=m.kind,
            topic_kit=m.kit,
            message_sha256=verdict.message_sha256,
            document_sha256=verdict.document_sha256,
            seq=verdict.seq,
            reason_code=verdict.reason_code,
            reason=verdict.reason,
            raw=m.data[:cap],
            raw_size=len(m.data),
            source=m.source,
            now=self.now_text,
        )
        ack = row.ack
        if verdict.ackable and m.kind == "result" and ack is None:
            ack = self.ing.signer.rejected(
                kit=m.kit,
                seq=verdict.seq,
                document_sha256=verdict.ack_document_sha256,
                reason_code=verdict.reason_code,
                reason=verdict.reason,
                now=self.now,
            )
            self.store.set_rejection_ack(row.id, ack)
        return Outcome(
            m.kind,
            "deferred" if verdict.reason_code == v.HUB_TRUST else "rejected",
            m.kit,
            ack=ack if verdict.ackable else None,
            document_sha256=verdict.document_sha256,
            seq=verdict.seq,
            reason_code=verdict.reason_code,
            reason=verdict.reason,
        )

    def _image(self, m: Message, verdict: v.Verdict | None) -> Outcome:
        if isinstance(verdict, v.Rejected):
            return self._reject(m, verdict)
        sha = m.image_sha256 or ""
        if not self.store.image_named_by(m.kit, sha):
            return self._reject(
                m,
                v.Rejected(
                    v.UNKNOWN_IMAGE,
                    f"no stored document of kit {m.kit} names image {sha}",
                    sha,
                    None,
                    None,
                    ackable=False,
                ),
            )
        stored = self.store.insert_image(sha, m.kit, m.data, m.source, self.now_text)
        return Outcome("image", "accepted" if stored else "duplicate", m.kit, document_sha256=sha)


def _duplicate(stored: StoredDocument) -> Outcome:
    return Outcome(
        "result",
        "duplicate",
        stored.kit,
        ack=stored.ack,
        document_sha256=stored.document_sha256,
        seq=stored.seq,
        log_index=stored.log_index,
    )
