"""From decisions to the signed document's per-field evidence (protocol.document.Evidence).

The signing code calls :func:`document_fields` once the KPPS has pressed KONFIRMASI; it
never signs anything itself. A doubtful field enters the document only as ``confirmed``
(the KPPS looked and accepted the kit's value), ``chosen`` (the KPPS picked another of the
readings the form's rules allow) or ``entered`` (the KPPS gave another value); a form with a
paper mistake, a missing page or numbers that break a rule is refused.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from edge.decode.decide import DecodedForm, FieldDecision, value_p
from edge.errors import NotConfirmedError
from protocol.document import PER_TEN_THOUSAND, Evidence, evidence
from protocol.forms.rules import evaluate


def confidence(p: float) -> int:
    """A probability as an integer per ten thousand (the document holds no floats)."""
    return max(0, min(PER_TEN_THOUSAND, round(p * PER_TEN_THOUSAND)))


def evidence_for(
    decided: FieldDecision,
    *,
    confirmed: bool = False,
    entered: int | None = None,
    chosen: tuple[int, float] | None = None,
) -> tuple[int, Evidence]:
    """The value to sign for one field and how it was decided.

    read -> read; corrected -> corrected (read_as: what the boxes said); doubtful -> confirmed
    (only with ``confirmed``), chosen (with ``chosen``: the value the KPPS picked and its
    probability among the consistent readings; read_as the kit's value) or entered (with
    ``entered``; confidence 0, since the kit did not read that value, and read_as the kit's
    value). Choosing the kit's own value is confirming it.
    """
    if chosen is not None and chosen[0] != decided.value:
        if decided.decision != "doubtful":
            raise NotConfirmedError(
                f"{decided.field_id} is {decided.decision}, not doubtful: nothing to choose",
                "Angka yang dipilih tidak sah",
            )
        value, p = chosen
        return value, evidence(confidence(p), "chosen", decided.value)
    confirmed = confirmed or chosen is not None
    if entered is not None:
        read_as = decided.value
        return entered, evidence(0, "entered", read_as)
    if decided.value is None:
        raise NotConfirmedError(f"{decided.field_id} is empty: enter its value")
    conf = confidence(decided.p)
    if decided.decision == "read":
        return decided.value, evidence(conf, "read")
    if decided.decision == "corrected":
        return decided.value, evidence(conf, "corrected", decided.before)
    if not confirmed:
        raise NotConfirmedError(
            f"{decided.field_id} is doubtful ({decided.reason}): the KPPS must confirm it",
            f"{decided.name} belum dicek",
        )
    return decided.value, evidence(conf, "confirmed", decided.before if decided.changed else None)


def document_fields(
    decoded: DecodedForm,
    *,
    confirmed: Collection[str] = (),
    entered: Mapping[str, int] | None = None,
    chosen: Mapping[str, int] | None = None,
) -> tuple[dict[str, int], dict[str, Evidence]]:
    """``fields`` and ``evidence`` for the ResultDocument; refuses what may not be signed.

    ``chosen``: the value the KPPS confirmed for each doubtful field it looked at (the kit's
    own, or another reading the rules allow); the values signed must keep every rule."""
    if decoded.verdict in ("paper mistake", "incomplete"):
        raise NotConfirmedError(
            f"the form's verdict is {decoded.verdict}: {decoded.summary}", decoded.summary
        )
    entered = dict(entered or {})
    picked = {f: (v, value_p(decoded, f, v)) for f, v in (chosen or {}).items()}
    values: dict[str, int] = {}
    how: dict[str, Evidence] = {}
    for fid, decided in decoded.fields.items():
        value, ev = evidence_for(
            decided, confirmed=fid in confirmed, entered=entered.get(fid), chosen=picked.get(fid)
        )
        values[fid], how[fid] = value, ev
    report = evaluate(decoded.template, values)
    if not report.ok:  # entered values must keep the form consistent too
        raise NotConfirmedError(
            f"the values break rule(s) {report.failed_rules() or report.unchecked}",
            "Angka yang dimasukkan tidak cocok dengan jumlahnya",
        )
    return values, how
