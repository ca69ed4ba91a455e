"""certs.verify_anchored (the hub's path: the CA's and CRL's signatures checked once) gives
the same identity, or the same error, as certs.verify_issued, at every step that can fail."""

import datetime as dt

import pytest

from protocol import certs
from protocol.errors import ProtocolError
from provisioning import authority as ca
from tests.conftest import PASSPHRASE

NOW = dt.datetime.now(dt.UTC)
TPS = "31.71.01.1001.001"


def _outcome(verify, *args, **kwargs):
    try:
        return verify(*args, **kwargs)
    except ProtocolError as e:
        return type(e).__name__, str(e)


def _both(cert, ca_cert, crl, at, role="kit"):
    anchor = certs.anchor(ca_cert, crl, NOW)  # made once, as the hub makes it
    full = _outcome(certs.verify_issued, cert, ca_cert, role=role, at=at, crl=crl)
    anchored = _outcome(certs.verify_anchored, cert, anchor, role=role, at=at)
    return full, anchored


def test_a_good_kit_gets_the_same_identity(region):
    kit = region.kit(TPS)
    full, anchored = _both(kit.certificate, region.authority.cert, region.authority.crl(), NOW)
    assert isinstance(full, certs.Identity)
    assert anchored == full


@pytest.mark.parametrize(
    "at",
    [
        NOW + dt.timedelta(days=400),  # the kit's certificate (and the CA) expired
        NOW + dt.timedelta(days=60),  # the CRL's next update has passed
        NOW - dt.timedelta(days=3),  # before any of them was valid
    ],
)
def test_time_is_checked_on_every_use(region, at):
    kit = region.kit(TPS)
    full, anchored = _both(kit.certificate, region.authority.cert, region.authority.crl(), at)
    assert isinstance(full, tuple)
    assert anchored == full


def test_a_revoked_kit_is_refused_the_same_way(region):
    kit = region.kit(TPS)
    ca.revoke(region.authority, kit.kit_id)
    full, anchored = _both(kit.certificate, region.authority.cert, region.authority.crl(), NOW)
    assert full[0] == "RevokedError"
    assert anchored == full


def test_another_cas_kit_and_the_wrong_role_are_refused_the_same_way(region, tmp_path):
    other = ca.init_ca(
        tmp_path / "other-ca", region="31.71", name="Forger", passphrase=PASSPHRASE, days=30
    )
    kit = region.kit(TPS)
    for cert, role in ((kit.certificate, "hub"), (kit.certificate, "broker")):
        full, anchored = _both(cert, region.authority.cert, region.authority.crl(), NOW, role)
        assert isinstance(full, tuple)
        assert anchored == full
    full, anchored = _both(kit.certificate, other.cert, other.crl(), NOW)
    assert full[0] == "UntrustedIssuerError"
    assert anchored == full


def test_no_anchor_for_a_crl_the_ca_did_not_sign(region, tmp_path):
    other = ca.init_ca(
        tmp_path / "other-ca", region="31.71", name="Forger", passphrase=PASSPHRASE, days=30
    )
    with pytest.raises(ProtocolError, match="revocation list"):
        certs.anchor(region.authority.cert, other.crl(), NOW)
