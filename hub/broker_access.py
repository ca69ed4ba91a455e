"""Who may do what on the hub site's broker: the dynamic security plugin's configuration.

Mosquitto's ``acl_file`` cannot refuse a SUBSCRIBE (2.0 grants every one and only filters
what is delivered). That is harmless for an ordinary subscription but not for the hub's
shared one: a kit that joins ``$share/hub/...`` is handed its turn of every result, which
the read ACL then throws away, so the hub never sees it while the sending kit got its
PUBACK. The dynamic security plugin (shipped with Debian's mosquitto) checks a
subscription apart from delivery (``subscribePattern`` against ``publishClientReceive``),
so the right to join the hub's group is given to hub identities alone.

It has no ``%u`` substitution and asks nothing of a user name it does not know (then the
broker denies), so every kit is listed with a role of its own (``kit:<id>``): a kit the
registry does not hold can connect but may neither publish nor subscribe. Fail closed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

HUB_ROLE = "hub"
KIT_ROLE_PREFIX = "kit:"  # ids never hold ":", so no kit's role can be the hubs'

# Everything not granted below is refused, except unsubscribing (it can only take away).
_DEFAULT_ACCESS = {
    "publishClientSend": False,
    "publishClientReceive": False,
    "subscribe": False,
    "unsubscribe": True,
}


def _acl(acltype: str, topic: str) -> dict[str, Any]:
    return {"acltype": acltype, "topic": topic, "priority": 0, "allow": True}


def hub_role() -> dict[str, Any]:
    """Hub workers: read every kit's topics, in any shared group, and write acknowledgements."""
    return {
        "rolename": HUB_ROLE,
        "textdescription": "hub workers: every kit's topics, the shared groups, acks",
        "acls": [
            _acl("subscribePattern", "$share/+/tps/v1/#"),
            _acl("subscribePattern", "tps/v1/#"),
            _acl("publishClientReceive", "tps/v1/#"),
            _acl("publishClientSend", "hub/v1/+/ack"),
        ],
    }


def kit_role(kit_id: str) -> dict[str, Any]:
    """One kit: write only under its own id, subscribe to and read only its own acks.

    Kit ids never hold ``/``, ``+`` or ``#`` (protocol/ids.py), so an id cannot widen these.
    """
    return {
        "rolename": KIT_ROLE_PREFIX + kit_id,
        "acls": [
            _acl("publishClientSend", f"tps/v1/{kit_id}/#"),
            _acl("subscribePattern", f"hub/v1/{kit_id}/#"),
            _acl("publishClientReceive", f"hub/v1/{kit_id}/#"),
        ],
    }


def render_access(hub_ids: Iterable[str], kit_ids: Iterable[str]) -> str:
    """The plugin's JSON file (``plugin_opt_config_file``): roles and one client per identity.

    User names are certificate CNs (``use_identity_as_username``), so no client has a
    password: the TLS handshake is the authentication, this file only the authorization.
    """
    hubs, kits = list(hub_ids), sorted(set(kit_ids))
    clients = [_client(h, HUB_ROLE) for h in hubs] + [_client(k, KIT_ROLE_PREFIX + k) for k in kits]
    config = {
        "defaultACLAccess": _DEFAULT_ACCESS,
        "clients": clients,
        "groups": [],
        "roles": [hub_role(), *(kit_role(k) for k in kits)],
    }
    return json.dumps(config, indent=1) + "\n"


def _client(username: str, role: str) -> dict[str, Any]:
    return {"username": username, "roles": [{"rolename": role, "priority": 0}]}
