"""The region's kits at a glance: which kit serves which TPS, its certificate serial, and
whether it is revoked. Read from the CA directory's issued certificates and CRL only, so
it needs no passphrase."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from protocol import certs
from protocol.errors import ProtocolError
from protocol.manifest import Manifest
from provisioning.authority import CERT_FILE, CRL_FILE, ISSUED_DIR
from provisioning.errors import CaStateError

COLUMNS = ("tps", "kit", "election", "serial", "not_after", "status", "desa", "kecamatan")


@dataclass(frozen=True)
class KitRecord:
    tps: str
    kit: str  # "" for a TPS of the manifest with no kit
    election: str
    serial: str  # the certificate's serial, hex, as the CRL and the registry write it
    not_after: str
    status: str  # active, revoked, or missing (a TPS of the manifest with no active kit)
    desa: str = ""
    kecamatan: str = ""


def kit_records(ca_dir: Path, manifest: Manifest | None = None) -> list[KitRecord]:
    """Every kit certificate the CA issued; with ``manifest``, its TPS's names, and a
    ``missing`` record for each of its TPS that no active kit serves."""
    try:
        ca_cert = certs.load_certificate((ca_dir / CERT_FILE).read_bytes())
        crl = certs.load_crl((ca_dir / CRL_FILE).read_bytes())
        issued = [
            certs.load_certificate(p.read_bytes())
            for p in sorted((ca_dir / ISSUED_DIR).glob("*.cert.pem"))
        ]
    except OSError as e:
        raise CaStateError(f"{ca_dir} holds no CA: {e.strerror} ({e.filename})") from e
    except ProtocolError as e:
        raise CaStateError(f"{ca_dir}: {e}") from e
    if not crl.is_signature_valid(ca_cert.public_key()):
        raise CaStateError(f"{ca_dir / CRL_FILE} is not signed by this CA")
    revoked = {entry.serial_number for entry in crl}
    records = []
    for cert in issued:
        names = certs.urns(cert)
        if "kit" not in names:
            continue
        records.append(
            KitRecord(
                tps=names.get("tps", ""),
                kit=names["kit"],
                election=names.get("election", ""),
                serial=format(cert.serial_number, "x"),
                not_after=f"{cert.not_valid_after_utc:%Y-%m-%d}",
                status="revoked" if cert.serial_number in revoked else "active",
            )
        )
    if manifest is not None:
        records = _with_manifest(records, manifest)
    return sorted(records, key=lambda r: (r.tps, r.kit))


def _with_manifest(records: list[KitRecord], manifest: Manifest) -> list[KitRecord]:
    election = manifest.election.id
    served = {r.tps for r in records if r.status == "active" and r.election == election}
    records = records + [
        KitRecord(tps, "", election, "", "", "missing") for tps in manifest.tps if tps not in served
    ]
    out = []
    for r in records:
        if r.tps in manifest.tps:
            names = manifest.names_of(r.tps)
            r = KitRecord(**{**r.__dict__, "desa": names["desa"], "kecamatan": names["kecamatan"]})
        out.append(r)
    return out


def records_csv(records: list[KitRecord]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in records:
        writer.writerow([getattr(r, c) for c in COLUMNS])
    return buffer.getvalue().encode("utf-8")
