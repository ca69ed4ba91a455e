"""Finding and loading form templates (protocol/forms/templates/*.json) by id.

The template's SHA-256 (signed into every result document) is taken over canonical bytes of
the file's JSON, not its raw bytes, so line endings or indentation do not change it: keys
sorted, no whitespace, UTF-8, and numbers written as JSON's shortest form (an integral number
as an integer). For the values a template holds (lengths with at most a few decimals) that is
exactly RFC 8785, so another language reproduces the hash.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from protocol.forms.errors import TemplateError
from protocol.forms.rules import compile_rules
from protocol.forms.schema import Page, Template


@dataclass(frozen=True)
class LoadedTemplate:
    """A validated template with the hash that identifies its exact content."""

    template: Template
    sha256: str
    path: Path


def templates_dir() -> Path:
    return Path(str(resources.files("protocol.forms").joinpath("templates")))


def template_ids(directory: Path | None = None) -> list[str]:
    """Ids of every shipped template (the file names), sorted."""
    return sorted(p.stem for p in (directory or templates_dir()).glob("*.json"))


def _normalise(value: Any, path: str) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value) or abs(value) >= 1e15:
            raise TemplateError(f"{path}: number {value!r} is out of range")
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {k: _normalise(v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def template_bytes(data: Any) -> bytes:
    """Canonical JSON of a template's parsed content (see the module docstring)."""
    value = _normalise(data, "$")
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def parse_template(raw: bytes, *, source: str = "template") -> LoadedTemplate:
    """Validate a template's bytes; the error names the offending key or rule."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TemplateError(f"{source}: not JSON ({e})") from e
    digest = hashlib.sha256(template_bytes(data)).hexdigest()
    try:
        template = Template.model_validate(data)
    except ValidationError as e:
        raise TemplateError(f"{source}: {_explain(e)}") from e
    compile_rules(template)  # refuses rules over unknown fields
    return LoadedTemplate(template=template, sha256=digest, path=Path(source))


def _explain(error: ValidationError) -> str:
    lines = []
    for item in error.errors()[:5]:
        where = ".".join(str(p) for p in item["loc"]) or "(top)"
        if item["type"] == "extra_forbidden":
            lines.append(f"unknown key {where!r}")
        else:
            lines.append(f"{where}: {item['msg']}")
    more = error.error_count() - len(lines)
    return "; ".join(lines) + (f" (and {more} more)" if more > 0 else "")


def load_file(path: Path) -> LoadedTemplate:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise TemplateError(f"cannot read template {path}: {e.strerror}") from e
    loaded = parse_template(raw, source=str(path))
    if loaded.template.id != path.stem:
        raise TemplateError(f"{path}: holds template {loaded.template.id!r}, not {path.stem!r}")
    return LoadedTemplate(loaded.template, loaded.sha256, path)


@cache
def load(template_id: str) -> LoadedTemplate:
    """Load a shipped template by id; an unknown id lists the known ones."""
    known = template_ids()
    if template_id not in known:
        raise TemplateError(f"unknown form {template_id!r}; known forms: {', '.join(known)}")
    return load_file(templates_dir() / f"{template_id}.json")


def load_template(template_id: str) -> Template:
    return load(template_id).template


def template_sha256(template_id: str) -> str:
    return load(template_id).sha256


def load_all() -> list[LoadedTemplate]:
    return [load(i) for i in template_ids()]


def find_page_by_tag(family: str, tag_id: int) -> tuple[Template, Page]:
    """The template and page a detected tag names (tags are unique over shipped templates)."""
    for loaded in load_all():
        for page in loaded.template.pages:
            if page.tag.family == family and page.tag.id == tag_id:
                return loaded.template, page
    raise TemplateError(f"tag {family} {tag_id} names no known form page")
