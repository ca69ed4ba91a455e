"""Enrolling kits: the kit makes its key, the CA binds it to one TPS and one election.

``enrol_kit`` works on a kit directory (what goes onto that kit's SD card): the key is made
there by the kit's own key code (protocol.keys) and only its CSR is read back. Everything is
written in a staging directory and renamed into place at the end, so a failure leaves nothing
half-written.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from protocol import certs, keys
from protocol import tps as tps_codes
from protocol.errors import ProtocolError
from protocol.ids import check_id
from provisioning.authority import Authority, issue
from provisioning.errors import EnrolmentError, ProvisioningError
from provisioning.files import publish_dir, write_atomic

KEY_FILE = "kit.key.pem"
CSR_FILE = "kit.csr.pem"
CERT_FILE = "kit.cert.pem"
DEFAULT_DAYS = 400


@dataclass(frozen=True)
class EnrolledKit:
    kit_id: str
    tps: str
    election: str
    directory: Path | None
    certificate: x509.Certificate


def active_kits(authority: Authority) -> dict[tuple[str, str], str]:
    """(TPS, election) -> kit id for every issued, unrevoked kit certificate."""
    revoked = {entry.serial_number for entry in authority.crl()}
    found = {}
    for cert in authority.issued():
        names = certs.urns(cert)
        if "kit" in names and cert.serial_number not in revoked:
            found[(names.get("tps", ""), names.get("election", ""))] = names["kit"]
    return found


def next_kit_id(authority: Authority, tps: str) -> str:
    """``kit-<13 digits>-<n>``: a replacement kit for the same TPS gets the next n."""
    digits = tps_codes.parse(tps).digits
    n = 1
    while authority.issued_path(f"kit-{digits}-{n}").exists():
        n += 1
    return f"kit-{digits}-{n}"


Holders = dict[tuple[str, str], str]  # (TPS, election) -> its active kit, as active_kits


def _check_request(
    authority: Authority, tps: str, election: str, holders: Holders | None = None
) -> str:
    try:
        code = str(tps_codes.parse(tps))
        check_id(election, "election")
    except ProtocolError as e:
        raise EnrolmentError(str(e)) from e
    if not code.startswith(authority.region + "."):
        raise EnrolmentError(f"TPS {code} is outside this CA's region {authority.region}")
    holder = (active_kits(authority) if holders is None else holders).get((code, election))
    if holder is not None:
        raise EnrolmentError(
            f"TPS {code} already has kit {holder} for {election}; "
            f"revoke it first (tps-provision revoke {holder}) to enrol a replacement"
        )
    return code


def sign_request(
    authority: Authority,
    csr: x509.CertificateSigningRequest,
    *,
    tps: str,
    election: str,
    kit_id: str | None = None,
    days: int = DEFAULT_DAYS,
    holders: Holders | None = None,
) -> EnrolledKit:
    """Certify a kit's own CSR for one TPS and election (the path for a real kit)."""
    code = _check_request(authority, tps, election, holders)
    if not csr.is_signature_valid:
        raise EnrolmentError("the CSR's signature does not verify: it was altered or corrupted")
    kit_id = check_id(kit_id, "kit id") if kit_id else next_kit_id(authority, code)
    public_key = csr.public_key()
    try:
        cert = issue(
            authority, public_key, role="kit", name=kit_id, days=days, tps=code, election=election
        )
    except ProvisioningError as e:
        raise EnrolmentError(str(e)) from e
    return EnrolledKit(kit_id, code, election, None, cert)


def enrol_kit(
    authority: Authority,
    *,
    tps: str,
    election: str,
    out: Path,
    days: int = DEFAULT_DAYS,
    holders: Holders | None = None,
) -> EnrolledKit:
    """Make a kit directory ``out/<kit id>/`` with a fresh key, its CSR and its certificate.

    ``holders``: :func:`active_kits` read once by a caller enrolling many, kept up to date
    here (reading every issued certificate per kit made a region's enrolment quadratic)."""
    code = _check_request(authority, tps, election, holders)
    kit_id = next_kit_id(authority, code)
    final = out / kit_id
    if final.exists():
        raise EnrolmentError(f"{final} already exists; move it away or choose another --out")
    try:
        staging = Path(tempfile.mkdtemp(dir=out, prefix=f".{kit_id}."))
    except OSError as e:
        raise EnrolmentError(f"cannot write in {out}: {e.strerror}") from e
    try:
        key = keys.write_new_key(staging / KEY_FILE)
        csr = keys.make_csr(key, kit_id)
        write_atomic(staging / CSR_FILE, csr.public_bytes(Encoding.PEM))
        enrolled = sign_request(
            authority, csr, tps=code, election=election, kit_id=kit_id, days=days, holders=holders
        )
        write_atomic(staging / CERT_FILE, enrolled.certificate.public_bytes(Encoding.PEM))
        publish_dir(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if holders is not None:
        holders[(code, election)] = kit_id
    return EnrolledKit(kit_id, code, election, final, enrolled.certificate)
