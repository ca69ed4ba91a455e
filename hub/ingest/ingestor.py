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
import logging
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Literal

from hub.config import SizeLimits
from hub.errors import StoreError
from hub.ingest import verdict as v
from hub.ingest.acks import AckSigner, accepted_value
from hub.ingest.pool import JudgePool, Task
from hub.ledger import (
    BatchChains,
    ChainRow,
    CurrentChange,
    chain_position,
    clock_ahead,
    settled_successors,
)
from hub.store.documents import PageRow, StoredDocument
from hub.store.results import ResultStore, utc_text
from hub.translog import TranslogError, TransparencyLog
from hub.trust import Trust
from protocol.ids import is_training
from protocol.utctime import format_utc

log = logging.getLogger(__name__)

Kind = Literal["result", "image"]
Status = Literal["accepted", "duplicate", "rejected", "deferred"]
# Fewer results than this are judged in the calling process: a pool round trip costs
# about what judging a couple of results does.
_POOL_MIN = 4
# Called inside the transaction when the version that counts for a TPS moves: the
# incremental recapitulation's way in, so totals commit with the document or not at all.
# Hooks run in the batch's storing order, once every document and current version of the
# batch is written (so a hook that reads current_results sees where the batch ends).
# A hook may also have ``flush(store)``, called once per batch before the commit (a hook
# that batches its writes does them there), and ``discard()``, called if the batch rolls
# back (hub/recap/hook.py RecapHook).
CurrentHook = Callable[[ResultStore, CurrentChange], None]


@dataclass(frozen=True)
class Inbound:
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
        limits: SizeLimits,
        hooks: Sequence[CurrentHook] = (),
        workers: int = 0,
    ) -> None:
        """``workers``: processes that judge results (0: judge in this process)."""
        self.store = store
        self.trust = trust
        self.signer = signer
        self.log_id = log_id
        self.training_log_id = training_log_id
        self.limits = limits
        self.hooks = tuple(hooks)
        self.workers = workers
        self._logs: dict[str, TransparencyLog] = {}
        self._pool: JudgePool | None = None

    def judging_pids(self) -> list[int]:
        """The judging processes' ids (none until :meth:`warm_up` or a
        batch started them)."""
        return [] if self._pool is None else self._pool.pids()

    def warm_up(self) -> None:
        """Start the judging processes (if any) before the first batch needs them."""
        pool = self._judge_pool()
        if pool is not None:
            pool.warm_up()

    def close(self) -> None:
        """Stop the judging processes (if any were started)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def log(self, name: str) -> TransparencyLog:
        if name not in self._logs:
            self._logs[name] = TransparencyLog(self.store.log_storage(name))
        return self._logs[name]

    def ingest_result(
        self, data: bytes, kit: str, now: dt.datetime, *, source: str = "mqtt"
    ) -> Outcome:
        return self.ingest_many([Inbound("result", kit, data, source=source)], now)[0]

    def ingest_image(
        self, data: bytes, kit: str, sha256: str, now: dt.datetime, *, source: str = "mqtt"
    ) -> Outcome:
        return self.ingest_many([Inbound("image", kit, data, sha256, source)], now)[0]

    def ingest_many(self, messages: Sequence[Inbound], now: dt.datetime) -> list[Outcome]:
        """Judge, then store, log and sign acks for a batch in one transaction."""
        return self.commit(messages, self.judge(messages, now), now)

    def judge(self, messages: Sequence[Inbound], now: dt.datetime) -> Judging:
        """Start judging a batch (in the pool, if there is one) before any lock is taken.

        A caller may store the previous batch while this one is judged (the worker does);
        :meth:`commit` waits for the verdicts.
        """
        results = [(i, m) for i, m in enumerate(messages) if m.kind == "result"]
        pool = self._judge_pool() if len(results) >= _POOL_MIN else None
        if pool is None:
            return Judging([self._judge(m, now) for m in messages])
        inline: list[v.Judgement | None] = [
            None if m.kind == "result" else self._judge(m, now) for m in messages
        ]
        items = [(m.data, m.kit) for _, m in results]
        try:
            tasks = pool.submit(items, now, self.limits.max_result_bytes)
        except BrokenProcessPool:
            self._pool_broke()
            return Judging([self._judge(m, now) for m in messages])
        return Judging(inline, [i for i, _ in results], tasks, partial(self._judge_here, now))

    def _judge_here(self, now: dt.datetime, items: list[tuple[bytes, str]]) -> list[v.Judgement]:
        """A pool task's results judged in this process (Judging.verdicts)."""
        limit = self.limits.max_result_bytes
        return [v.judge_result(data, kit, self.trust, now, max_bytes=limit) for data, kit in items]

    def commit(
        self, messages: Sequence[Inbound], judging: Judging, now: dt.datetime
    ) -> list[Outcome]:
        """Store, log and sign acks for a judged batch in one transaction."""
        try:
            verdicts = judging.verdicts()
        except BrokenProcessPool:
            self._pool_broke()
            verdicts = [self._judge(m, now) for m in messages]
        try:
            with self.store.db.transaction():
                outcomes = _Transaction(self, messages, verdicts, now).run()
                for hook in self.hooks:
                    flush = getattr(hook, "flush", None)
                    if flush is not None:
                        flush(self.store)
                return outcomes
        except TranslogError as e:
            self._rolled_back()
            raise StoreError(f"the transparency log refused the batch: {e}") from e
        except BaseException:
            self._rolled_back()
            raise

    def _rolled_back(self) -> None:
        # The rolled-back appends may still be in a log's cached right border, and a
        # batching hook may still hold what the batch gave it.
        self._logs.clear()
        for hook in self.hooks:
            discard = getattr(hook, "discard", None)
            if discard is not None:
                discard()

    def _judge_pool(self) -> JudgePool | None:
        if self.workers < 1:
            return None
        if self._pool is not None and self._pool.trust is not self.trust:
            self.close()  # a new Trust (a fresh CRL, say): its processes must judge with it
        if self._pool is not None and not self._pool.intact():
            self._pool_broke()
        if self._pool is None:
            self._pool = JudgePool(self.trust, self.workers)
        return self._pool

    def _pool_broke(self) -> None:
        # A judging process died (killed, out of memory): a batch already given to the pool
        # is judged here, and the next one gets a fresh pool, so one lost process never
        # stops ingest.
        log.error("a judging process died; starting a fresh judging pool")
        self.close()

    def _judge(self, m: Inbound, now: dt.datetime) -> v.Judgement | None:
        if m.kind == "result":
            return v.judge_result(
                m.data, m.kit, self.trust, now, max_bytes=self.limits.max_result_bytes
            )
        return v.judge_image(
            m.data, m.kit, m.image_sha256 or "", max_bytes=self.limits.max_image_bytes
        )


class Judging:
    """A batch's verdicts, some perhaps still being judged in the pool."""

    def __init__(
        self,
        verdicts: list[v.Judgement | None],
        pending: Sequence[int] = (),
        tasks: Sequence[Task] = (),
        judge_here: Callable[[list[tuple[bytes, str]]], list[v.Judgement]] | None = None,
    ) -> None:
        self._verdicts = verdicts
        self._pending = pending
        self._tasks = tasks
        self._judge_here = judge_here
        self.judged_here = 0  # results of pool tasks judged by the caller instead

    def verdicts(self) -> list[v.Judgement | None]:
        """The pool's part, its verdicts back in their messages' places.

        Tasks the pool has not started by now are judged here, from the last back, while
        the pool works from the first on: the caller would otherwise wait idle for them
        (when judging is what limits ingest, this puts the storing process's spare time to
        use). The verdicts are the same wherever a result is judged.
        """
        if self._tasks:
            judged: list[list[v.Judgement] | None] = [None] * len(self._tasks)
            if self._judge_here is not None:
                for k in reversed(range(len(self._tasks))):
                    if self._tasks[k].future.cancel():
                        judged[k] = self._judge_here(self._tasks[k].items)
                        self.judged_here += len(self._tasks[k].items)
            verdicts = [
                verdict
                for task, here in zip(self._tasks, judged, strict=True)
                for verdict in (here if here is not None else task.future.result())
            ]
            for i, verdict in zip(self._pending, verdicts, strict=True):
                self._verdicts[i] = verdict
            self._tasks = ()
        return self._verdicts


class _Transaction:
    """One transaction's work; exists only inside Ingestor.ingest_many."""

    def __init__(
        self,
        ingestor: Ingestor,
        messages: Sequence[Inbound],
        verdicts: Sequence[v.Judgement | None],
        now: dt.datetime,
    ) -> None:
        self.ing = ingestor
        self.store = ingestor.store
        self.messages = messages
        self.verdicts = verdicts
        self.now = now
        self.now_text = utc_text(now)
        self.outcomes: list[Outcome | None] = [None] * len(messages)
        self.stored: dict[str, StoredDocument] = {}  # documents stored before this batch

    def run(self) -> list[Outcome]:
        # Every stored document this batch could repeat, in one query: nothing the batch
        # writes can change what was stored before it.
        shas = [sha for verdict in self.verdicts if (sha := _named_document(verdict)) is not None]
        self.stored = self.store.find_documents(shas)
        first_of: dict[str, int] = {}  # document hash -> its first message in this batch
        repeats: list[tuple[int, int]] = []
        new: list[int] = []
        for i, (m, verdict) in enumerate(zip(self.messages, self.verdicts, strict=True)):
            if m.kind != "result":
                continue
            if isinstance(verdict, v.Accepted):
                sha = verdict.document_sha256
                stored = self.stored.get(sha)
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

    def _retry_of_accepted(self, m: Inbound, verdict: v.Rejected) -> Outcome | None:
        # A document once accepted keeps its verdict: the very same bytes sent again by
        # the same kit (a retry after a lost ack) get the stored ack, even if, say, the
        # kit was revoked since. Anything else is judged afresh.
        if verdict.document_sha256 is None or verdict.reason_code == v.TOPIC_MISMATCH:
            return None
        stored = self.stored.get(verdict.document_sha256)
        if stored is None or stored.kit != m.kit or stored.signed != m.data:
            return None
        return _duplicate(stored)

    def _accept(self, indexes: list[int]) -> None:
        # Each document is placed in its kit's chain in memory, in storing order, then all
        # are written with a few statements for the batch, not a few per document (each
        # costs SQLite a call's overhead, PostgreSQL a round trip): the chain rows read at
        # once, the documents and pages in one executemany each, the current versions
        # read at once and written in two executemany. Every document and current version
        # of the batch is stored before the first hook call.
        chains = self.store.batch_chains((d.kit, d.seq) for d in map(self._accepted, indexes))
        ids = iter(self.store.next_document_ids(len(indexes)))
        placed = [
            self._place(i, name, leaf, ack, next(ids), chains)
            for name, members in self._by_log(indexes).items()
            for i, leaf, ack in self._log_and_sign(name, members)
        ]
        pages: list[PageRow] = [
            (p.new.id, page, sha) for p in placed for page, sha in self._accepted(p.index).pages
        ]
        self.store.insert_documents([p.new for p in placed], pages)
        currents = self.store.current_versions(
            ((p.new.election, p.new.tps, p.new.form) for p in placed),
            self.store.compromised_kits(),
        )
        changes = [
            currents.advance(p.new, self._accepted(p.index).fields, self.now_text) for p in placed
        ]
        self.store.write_current(currents)
        for p, change in zip(placed, changes, strict=True):
            self.outcomes[p.index] = self._finish_accepted(p, change)

    def _by_log(self, indexes: list[int]) -> dict[str, list[int]]:
        by_log: dict[str, list[int]] = {}
        for i in indexes:
            training = is_training(self._accepted(i).election)
            name = self.ing.training_log_id if training else self.ing.log_id
            by_log.setdefault(name, []).append(i)
        return by_log

    def _log_and_sign(self, name: str, members: list[int]) -> list[tuple[int, int, bytes]]:
        """Append one log's documents, sign its tree head and their acks: (message index,
        log index, ack) in storing order."""
        log = self.ing.log(name)
        # Chain order within the batch: a kit's earlier seq first, so fewer false gaps. The
        # leaves follow the same order as the document ids, so the version rule's order
        # (protocol/versions.py) is the log's order, which a recount reads from the log.
        members = sorted(members, key=self._seq_key)
        leaves = log.append_many([self.messages[i].data for i in members])
        log.sign_tree_head(self.ing.signer.key, name, self.now)
        size = log.size
        # The batch's one signature: its checkpoint, which every accepted ack carries with
        # its own inclusion proof (protocol/ack.py, tps-batched-ack/1).
        signed_checkpoint = log.checkpoint(size)
        assert signed_checkpoint is not None  # just signed
        ordered = list(zip(members, leaves, strict=True))
        proofs = log.inclusion_proofs([leaf for _, leaf in ordered], size)
        at = format_utc(self.now)
        values = [
            accepted_value(
                self.ing.signer.hub_id,
                kit=self._accepted(i).kit,
                seq=self._accepted(i).seq,
                document_sha256=self._accepted(i).document_sha256,
                at=at,
                log_index=leaf,
                proof=proof,
                checkpoint=signed_checkpoint,
            )
            for (i, leaf), proof in zip(ordered, proofs, strict=True)
        ]
        acks = self.ing.signer.batched(values)
        return [(i, leaf, ack) for (i, leaf), ack in zip(ordered, acks, strict=True)]

    def _accepted(self, i: int) -> v.Accepted:
        verdict = self.verdicts[i]
        assert isinstance(verdict, v.Accepted)
        return verdict

    def _seq_key(self, i: int) -> tuple[str, int]:
        verdict = self.verdicts[i]
        assert isinstance(verdict, v.Accepted)
        return verdict.kit, verdict.seq

    def _place(
        self, i: int, log_name: str, leaf: int, ack: bytes, document_id: int, chains: BatchChains
    ) -> _Placed:
        """Find a document's place in its kit's chain as the batch has it so far; the batch
        sees it there from now on."""
        m, doc = self.messages[i], self._accepted(i)
        sha = doc.document_sha256
        neighbours = chains.neighbours(doc.kit, doc.seq)
        status, anomalies = chain_position(doc.kit, doc.seq, sha, doc.prev_sha256, neighbours)
        ahead = clock_ahead(doc.captured_at, self.now, self.ing.limits.clock_skew_s)
        if ahead is not None:
            anomalies.append(("clock-ahead", f"kit {doc.kit} seq {doc.seq}: {ahead}"))
        settled = settled_successors(doc.seq, sha, neighbours)
        chains.add(doc.kit, ChainRow(document_id, doc.seq, sha, doc.prev_sha256, status))
        chains.settle(doc.kit, settled)
        new = StoredDocument(
            id=document_id,
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
            fields=doc.fields_json,
            signed=m.data,
            cert_serial=format(doc.cert_serial, "x"),
            chain_status=status,
            log_name=log_name,
            log_index=leaf,
            ack=ack,
            source=m.source,
            received_at=self.now_text,
        )
        return _Placed(i, new, anomalies, settled)

    def _finish_accepted(self, p: _Placed, change: CurrentChange | None) -> Outcome:
        """What follows a stored document, in storing order: its chain anomalies, the
        successors it settles, the hooks if it moved its TPS's current version."""
        new = p.new
        for kind, detail in p.anomalies:
            self.store.add_anomaly(
                kind,
                detail,
                self.now_text,
                kit=new.kit,
                election=new.election,
                tps=new.tps,
                document_id=new.id,
            )
        self.store.store_settled(new.kit, new.seq, new.document_sha256, self.now_text, p.settled)
        if change is not None:
            for hook in self.ing.hooks:
                hook(self.store, change)
        return Outcome(
            "result",
            "accepted",
            self.messages[p.index].kit,
            ack=new.ack,
            document_sha256=new.document_sha256,
            seq=new.seq,
            log_index=new.log_index,
            current=change is not None,
            anomalies=tuple(kind for kind, _ in p.anomalies),
        )

    def _reject(self, m: Inbound, verdict: v.Rejected) -> Outcome:
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

    def _image(self, m: Inbound, verdict: v.Judgement | None) -> Outcome:
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


@dataclass(frozen=True)
class _Placed:
    """An accepted document placed in its kit's chain, about to be stored."""

    index: int  # its message in the batch
    new: StoredDocument
    anomalies: list[tuple[str, str]]  # (kind, detail) its chain position shows
    settled: list[ChainRow]  # stored successors whose gap it settles


def _named_document(verdict: v.Judgement | None) -> str | None:
    if isinstance(verdict, v.Accepted):
        return verdict.document_sha256
    if isinstance(verdict, v.Rejected):
        return verdict.document_sha256
    return None


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
