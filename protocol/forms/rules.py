"""The arithmetic rules of a form, as data: parsed into relations and evaluated on values.

A rule is a sum of field ids compared with another sum (``=`` or ``<=``), or a cap on every
value (the TPS size plus its reserve ballots). Text rules (``"V.C = V.A + V.B"``) are parsed by
a tiny tokenizer, never by ``eval``. A rule whose fields are not all read yet is reported as
unchecked, not as passed, so a caller judges a form only once all its pages are in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from protocol.forms.errors import TemplateError
from protocol.forms.schema import Rule, Template, Terms

_TOKEN = re.compile(r"\s*(<=|=|\+|[A-Za-z0-9][A-Za-z0-9._-]*)")
_OPS = ("<=", "=")


@dataclass(frozen=True)
class Relation:
    """``sum(lhs) op sum(rhs)``, or ``value <= limit`` for a cap (rhs empty, limit set)."""

    rule_id: str
    op: str
    lhs: tuple[str, ...]
    rhs: tuple[str, ...] = ()
    limit: int | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        return self.lhs + self.rhs

    def text(self) -> str:
        right = str(self.limit) if self.limit is not None else " + ".join(self.rhs)
        return f"{' + '.join(self.lhs)} {self.op} {right}"

    def sides(self, values: Mapping[str, int]) -> tuple[int, int]:
        get = values.__getitem__
        left = sum(map(get, self.lhs))
        right = self.limit if self.limit is not None else sum(map(get, self.rhs))
        return left, right

    def holds(self, values: Mapping[str, int]) -> bool:
        left, right = self.sides(values)
        return left == right if self.op == "=" else left <= right


@dataclass(frozen=True)
class Violation:
    """A relation that the values break, with the numbers involved."""

    rule_id: str
    relation: str
    left: int
    right: int
    values: dict[str, int]

    @property
    def message(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.values.items())
        return f"{self.rule_id}: {self.relation} fails ({self.left} vs {self.right}; {shown})"


@dataclass
class RuleReport:
    """The outcome of evaluating every rule: what failed and what could not be checked yet."""

    violations: list[Violation] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every rule was checked and none failed."""
        return not self.violations and not self.unchecked

    def failed_rules(self) -> list[str]:
        return sorted({v.rule_id for v in self.violations})


def parse_expr(text: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """Parse ``"a + b = c"`` or ``"a <= b + c"`` into (op, lhs ids, rhs ids)."""
    tokens = _tokens(text)
    ops = [i for i, t in enumerate(tokens) if t in _OPS]
    if len(ops) != 1:
        raise TemplateError(f"rule {text!r}: needs exactly one '=' or '<='")
    at = ops[0]
    return tokens[at], _sum(tokens[:at], text), _sum(tokens[at + 1 :], text)


def _tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(text.rstrip()):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise TemplateError(f"rule {text!r}: cannot read {text[pos:]!r}")
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


def _sum(tokens: list[str], text: str) -> tuple[str, ...]:
    # A sum alternates id, '+', id...: anything else is a malformed rule.
    ids = tokens[0::2]
    pluses = tokens[1::2]
    if not ids or any(p != "+" for p in pluses) or any(i in ("+", *_OPS) for i in ids):
        raise TemplateError(f"rule {text!r}: each side must be field ids joined by '+'")
    if len(tokens) % 2 == 0:
        raise TemplateError(f"rule {text!r}: a side ends with '+'")
    return tuple(ids)


def _as_ids(terms: Terms) -> tuple[str, ...]:
    return (terms,) if isinstance(terms, str) else tuple(terms)


def compile_rule(rule: Rule, template: Template) -> list[Relation]:
    """The relations one rule stands for (a cap gives one per field)."""
    if rule.cap is not None:
        names = [f.id for _, f in template.fields()] if rule.cap == "*" else rule.cap
        return [Relation(rule.id, "<=", (n,), limit=template.cap) for n in names]
    if rule.expr is not None:
        op, lhs, rhs = parse_expr(rule.expr)
    elif rule.eq is not None:
        op, lhs, rhs = "=", _as_ids(rule.eq[0]), _as_ids(rule.eq[1])
    else:
        assert rule.le is not None  # the schema guarantees exactly one kind
        op, lhs, rhs = "<=", _as_ids(rule.le[0]), _as_ids(rule.le[1])
    return [Relation(rule.id, op, lhs, rhs)]


def compile_rules(template: Template) -> list[Relation]:
    """Every relation of the template; refuses a rule that names an unknown field."""
    known = {f.id for _, f in template.fields()}
    relations = [r for rule in template.rules for r in compile_rule(rule, template)]
    for rel in relations:
        unknown = [f for f in rel.fields if f not in known]
        if unknown:
            raise TemplateError(
                f"{template.id}: rule {rel.rule_id} names unknown field(s) {unknown}"
            )
        repeated = sorted({f for f in rel.fields if rel.fields.count(f) > 1})
        if repeated:
            # A field named twice (``a + b = a + c``) cancels or doubles: the decoder's
            # pinning and people reading the rule would both misjudge what it checks.
            raise TemplateError(
                f"{template.id}: rule {rel.rule_id} names {repeated} more than once: "
                "write each field once"
            )
    return relations


def evaluate(template: Template, values: Mapping[str, int]) -> RuleReport:
    """Check every rule against ``values`` (field id -> number); missing fields leave a rule
    unchecked. Each failure names its rule id and the numbers on both sides."""
    relations = compile_rules(template)
    unchecked = [r.rule_id for r in relations if any(f not in values for f in r.fields)]
    return RuleReport(broken(relations, values), list(dict.fromkeys(unchecked)))


def broken(relations: Iterable[Relation], values: Mapping[str, int]) -> list[Violation]:
    """The relations ``values`` break, in order; one over a missing field is not checked.

    The one check of a form's numbers: the kit's :func:`evaluate` and the hub's
    recapitulation (for every document it stores, with relations it compiled once) both
    run it, so it is written for speed.
    """
    found = []
    get = values.__getitem__
    for rel in relations:
        try:
            left = sum(map(get, rel.lhs))
            right = rel.limit if rel.limit is not None else sum(map(get, rel.rhs))
        except KeyError:
            continue
        if left == right if rel.op == "=" else left <= right:
            continue
        shown = {f: values[f] for f in rel.fields}
        found.append(Violation(rel.rule_id, rel.text(), left, right, shown))
    return found
