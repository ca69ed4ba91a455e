"""The kit's uplink: signed results from the outbox to the hub over MQTT, verdicts back.

Typical use on the kit::

    settings = settings_from_config(config, config_dir)
    uplink = Uplink(settings, outbox, software_version="0.1.0", model_version=model_sha,
                    on_event=lights.show)
    uplink.start()          # its own thread; uplink.wake() after each outbox.seal()
    ...
    uplink.stop()           # retained offline status, DISCONNECT

See client.py for the rules it keeps and why.
"""

from edge.uplink.acks import AckRefused, AppliedVerdict, apply_ack
from edge.uplink.backoff import Backoff
from edge.uplink.client import ClientFactory, Uplink, paho_client
from edge.uplink.events import EventKind, EventSink, UplinkEvent
from edge.uplink.settings import UplinkSettings, settings_from_config
from edge.uplink.status import Versions

__all__ = [
    "AckRefused",
    "AppliedVerdict",
    "Backoff",
    "ClientFactory",
    "EventKind",
    "EventSink",
    "Uplink",
    "UplinkEvent",
    "UplinkSettings",
    "Versions",
    "apply_ack",
    "paho_client",
    "settings_from_config",
]
