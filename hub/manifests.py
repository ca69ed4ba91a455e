"""The region's signed election manifests, as the hub loads them at start (hub.toml
``[paths] manifests``): checked against the region's CA like every kit's result, so a name
or a register on the dashboard is exactly what the region's CA signed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path

from hub.errors import ConfigError
from protocol import certs
from protocol.errors import ProtocolError
from protocol.forms.loader import load_template
from protocol.manifest import Manifest, OfficialDpt
from protocol.manifest_sign import VerifiedManifest, verify_manifest
from protocol.tps import within


def load_manifests(
    paths: Iterable[Path], ca_path: Path, at: dt.datetime
) -> dict[str, VerifiedManifest]:
    """Each manifest by its election id, checked against the CA certificate at
    ``ca_path``; ConfigError naming the file that fails."""
    return {e: verified for e, (verified, _) in load_manifest_files(paths, ca_path, at).items()}


def load_manifest_files(
    paths: Iterable[Path], ca_path: Path, at: dt.datetime
) -> dict[str, tuple[VerifiedManifest, Path]]:
    """As :func:`load_manifests`, with the file each came from (the hub publishes it)."""
    found: dict[str, tuple[VerifiedManifest, Path]] = {}
    paths = list(paths)
    if not paths:
        return found
    try:
        ca_cert = certs.load_certificate(ca_path.read_bytes())
    except (OSError, ProtocolError) as e:
        raise ConfigError("paths.ca_certificate", f"cannot read {ca_path}: {e}") from e
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as e:
            raise ConfigError("paths.manifests", f"cannot read {path}: {e.strerror}") from e
        try:
            verified = verify_manifest(data, ca_cert, at=at, load_template=load_template)
        except ProtocolError as e:
            raise ConfigError("paths.manifests", f"{path}: {type(e).__name__}: {e}") from e
        election = verified.manifest.election.id
        if election in found:
            raise ConfigError("paths.manifests", f"{path}: a second manifest of {election}")
        found[election] = (verified, path)
    return found


def official_dpt(
    manifests: Mapping[str, VerifiedManifest], election: str, tps: str
) -> OfficialDpt | None:
    """The TPS's official register by its election's manifest; None where the hub holds no
    manifest of that election or the manifest does not list the TPS. Two dictionary
    lookups: the ingest path calls it for every counting version."""
    verified = manifests.get(election)
    if verified is None or tps not in verified.manifest.tps:
        return None
    return verified.manifest.official_dpt(tps)


def candidate_names(manifest: Manifest, form: str, region: str) -> dict[int, str]:
    """Each option's names (the pair joined with " / ") by ballot number, of the contest
    on ``form`` that covers ``region`` (a region or TPS code; "" the whole election); {}
    if the manifest has none."""
    for contest in manifest.contests:
        if contest.form != form:
            continue
        if not contest.region or within(contest.region, region) or within(region, contest.region):
            return {o.number: " / ".join(o.names) for o in contest.options}
    return {}
