"""Election manifests for tests: made with the technician's own code, with region names
from a small table instead of Kemendagri's list."""

from __future__ import annotations

from pathlib import Path

from protocol.forms.loader import load_template
from protocol.manifest import Manifest, Voters
from protocol.manifest_sign import sign_manifest
from provisioning.authority import Authority
from provisioning.election import build_manifest, election_of, read_contests

NAMES = {
    "31": "Daerah Khusus Ibukota Jakarta",
    "31.71": "Kota Administrasi Jakarta Pusat",
    "31.71.01": "Gambir",
    "31.71.01.1001": "Gambir",
    "31.71.01.1002": "Cideng",
    "31.71.02": "Sawah Besar",
    "31.71.02.1001": "Pasar Baru",
    "31.71.02.2001": "Desa Contoh",  # not Kemendagri's: the hub tests' own TPS
}
FIXTURES = Path(__file__).parent / "fixtures" / "election"
PPWP_CONTESTS = FIXTURES / "ppwp.toml"


class TableNames:
    """RegionNames over a dict."""

    source = "test table"

    def __init__(self, names: dict[str, str] | None = None) -> None:
        self.names = NAMES if names is None else names

    def name(self, code: str) -> str | None:
        return self.names.get(code)


def ppwp_manifest(
    tps: dict[str, tuple[int, int]] | None = None,
    *,
    region: str = "31.71",
    election: str = "pemilu-2024",
) -> Manifest:
    """A PPWP manifest for ``tps`` (code -> DPT L, P) in region 31.71."""
    voters = tps or {"31.71.01.1001.001": (120, 131), "31.71.01.1002.001": (99, 101)}
    return build_manifest(
        election_of(election, "Pemilihan Umum Tahun 2024", "2024-02-14"),
        region,
        read_contests(PPWP_CONTESTS, load_template),
        {code: Voters(dpt_l=l, dpt_p=p) for code, (l, p) in voters.items()},  # noqa: E741
        TableNames(),
        load_template,
    )


def signed_manifest(authority: Authority, manifest: Manifest | None = None) -> bytes:
    return sign_manifest(manifest or ppwp_manifest(), authority.key, authority.cert)
