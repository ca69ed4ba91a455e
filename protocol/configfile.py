"""Reading one role's TOML configuration file into its pydantic model, strictly.

The kit's kit.toml and the hub's hub.toml are read the same way: unknown keys refused, and
the first problem reported as a FieldError that names the key, so a typo stops the service
at start-up with a message instead of silently taking a default on election night.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from protocol.errors import FieldError

M = TypeVar("M", bound=BaseModel)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise FieldError(str(path), "no such configuration file") from e
    except tomllib.TOMLDecodeError as e:
        raise FieldError(str(path), f"not valid TOML: {e}") from e


def parse_model(model: type[M], data: dict[str, Any]) -> M:
    """Validate ``data``; raise FieldError naming the first bad key."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        cause = first.get("ctx", {}).get("error")
        if isinstance(cause, FieldError):
            raise FieldError(cause.field, cause.reason) from e
        where = ".".join(str(p) for p in first["loc"])
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise FieldError(where, message) from e
