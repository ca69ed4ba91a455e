"""The hub's exception tree: one root (HubError) so a caller can catch everything the hub
raises for its own reasons; one subclass per cause so a message can say what to do.

A rejected document is not an exception here: it is an outcome that is stored and
acknowledged (hub/ingest/). These are the hub's own failures.
"""


class HubError(Exception):
    """Root of every error raised by hub/ (the transparency log keeps its own TranslogError)."""


class ConfigError(HubError, ValueError):
    """hub.toml, or a file it names, is missing or invalid; ``key`` names where."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.reason = message


class TrustError(HubError):
    """The hub's own trusted material (CA certificate, CRL, registry) cannot be used now.

    Not a verdict on any document: while it lasts the hub refuses to judge, and sends no
    acknowledgement, because a kit treats a rejection as final."""


class StoreError(HubError):
    """The database failed or refused an operation; the batch was rolled back."""


class MigrationError(StoreError):
    """The database's schema cannot be brought to the version this hub needs."""


class ExportFormatError(HubError):
    """A directory given to ``tps-hub import`` is not a kit's USB export."""
