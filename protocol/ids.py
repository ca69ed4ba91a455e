"""Identifiers that travel in documents, certificates and MQTT topics.

Kit and election ids appear inside MQTT topic names and file names, so they are restricted
to lower-case letters, digits and dashes: never ``/``, ``+`` or ``#``.
"""

from __future__ import annotations

import re

from protocol.errors import FieldError

_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,62}[a-z0-9])$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_FIELD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$")

# A training (bimtek) election is marked by its id, so the certificate that binds the
# election binds the mode too: a kit cannot be switched between training and real.
TRAINING_PREFIX = "latihan-"


def check_id(value: str, field: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise FieldError(
            field,
            f"{value!r} is not a valid id: 3-64 lower-case letters, digits and dashes, "
            "starting and ending with a letter or digit",
        )
    return value


def check_hex64(value: str, field: str) -> str:
    if not isinstance(value, str) or not _HEX64.match(value):
        raise FieldError(field, f"{value!r} is not a SHA-256 hex digest (64 lower-case hex)")
    return value


def check_field_id(value: str, field: str) -> str:
    if not isinstance(value, str) or not _FIELD.match(value):
        raise FieldError(field, f"{value!r} is not a form field id")
    return value


def is_training(election: str) -> bool:
    """True for a bimtek (training) election: its results never count in a real total."""
    return election.startswith(TRAINING_PREFIX)


# A hub logs training results apart, in '<log_id>-latihan', so a verifier can tell a real
# result proved only in the training log (kept out of the log auditors follow).
TRAINING_LOG_SUFFIX = "-latihan"


def is_training_log(log_id: str) -> bool:
    return log_id.endswith(TRAINING_LOG_SUFFIX)


def log_of(log_id: str, election: str) -> str:
    """The log a hub whose log is ``log_id`` puts ``election``'s results in."""
    return log_id + TRAINING_LOG_SUFFIX if is_training(election) else log_id
