"""The recapitulation's own failures (a HubError, so the CLI reports them plainly)."""

from hub.errors import HubError


class RecapError(HubError):
    """A recapitulation request or update cannot be honoured; the message says why."""
