"""What the hub needs to know a region's kits: the CA, the revocation list, every kit."""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding

from protocol import certs
from protocol.utctime import format_utc
from provisioning.authority import Authority

REGISTRY_FORMAT = "tps-registry/1"


def export_registry(authority: Authority) -> dict[str, Any]:
    crl = authority.crl()
    revoked = {entry.serial_number for entry in crl}
    kits, hubs = [], []
    for cert in authority.issued():
        names = certs.urns(cert)
        entry = {
            "serial": format(cert.serial_number, "x"),
            "not_after": format_utc(cert.not_valid_after_utc),
            "revoked": cert.serial_number in revoked,
            "certificate": cert.public_bytes(Encoding.PEM).decode("ascii"),
        }
        if "kit" in names:
            kits.append(
                {"kit": names["kit"], "tps": names["tps"], "election": names["election"], **entry}
            )
        elif "hub" in names:
            hubs.append({"hub": names["hub"], **entry})
    return {
        "format": REGISTRY_FORMAT,
        "region": authority.region,
        "ca_certificate": authority.cert.public_bytes(Encoding.PEM).decode("ascii"),
        "crl": crl.public_bytes(Encoding.PEM).decode("ascii"),
        "kits": sorted(kits, key=lambda k: (k["tps"], k["kit"])),
        "hubs": hubs,
    }


def registry_bytes(authority: Authority) -> bytes:
    return json.dumps(export_registry(authority), indent=2, sort_keys=True).encode() + b"\n"
