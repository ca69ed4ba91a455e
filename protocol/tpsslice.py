"""A kit's slice of the election manifest: what its TPS is, and its official register.

``tps-provision kit bundle --manifest`` cuts it from the signed manifest and writes it into
the bundle beside kit.toml, as ``tps.json``: the election, the TPS's names (provinsi to
desa), its DPT (L and P) and the contests it votes in with their options' names, and the
SHA-256 of the manifest it was cut from. Like kit.toml it is trusted as the technician
installed it; the manifest's hash names where each figure came from.

The kit reads the register with :func:`load_official_dpt` and hands it to the decoder,
which confirms or flags the handwritten row I.A (L, P, JML) with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from protocol.canonical import canonical_bytes, parse_json
from protocol.configfile import parse_model
from protocol.errors import FieldError
from protocol.ids import check_hex64
from protocol.manifest import Election, OfficialDpt, Option, Voters
from protocol.manifest_sign import VerifiedManifest

SLICE_FILE = "tps.json"
FORMAT = "tps-slice/1"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SliceContest(_Model):
    form: str = Field(description="the form template id")
    region: str = Field(description="the region the contest covers ('' nationwide)")
    region_name: str = Field(description="its name ('Indonesia' nationwide)")
    options: list[Option]


class TpsSlice(_Model):
    format: Literal["tps-slice/1"]
    election: Election
    tps: str = Field(description="the TPS code, PP.KK.CC.DDDD.TTT")
    names: dict[str, str] = Field(description="provinsi, kabkota, kecamatan, desa -> name")
    dpt: Voters
    contests: list[SliceContest]
    manifest_sha256: str = Field(description="the signed manifest's payload hash")

    @property
    def official_dpt(self) -> OfficialDpt:
        return OfficialDpt(self.dpt.dpt_l, self.dpt.dpt_p)

    @property
    def forms(self) -> list[str]:
        return [c.form for c in self.contests]

    def to_bytes(self) -> bytes:
        return canonical_bytes(self.model_dump(mode="json"))


def slice_of(verified: VerifiedManifest, tps: str) -> TpsSlice:
    """The slice for ``tps``; FieldError if the manifest does not hold it."""
    m = verified.manifest
    value: dict[str, Any] = {
        "format": FORMAT,
        "election": m.election.model_dump(),
        "tps": tps,
        "names": m.names_of(tps),
        "dpt": m.voters(tps).model_dump(),
        "contests": [
            {
                "form": c.form,
                "region": c.region,
                "region_name": m.regions.get(c.region, "Indonesia"),
                "options": [o.model_dump() for o in c.options],
            }
            for c in m.contests_for(tps)
        ],
        "manifest_sha256": check_hex64(verified.sha256, "manifest_sha256"),
    }
    return parse_model(TpsSlice, value)


def load_tps_slice(path: Path, *, tps: str, election: str) -> TpsSlice:
    """Read a bundle's slice, which must be for this kit's TPS and election."""
    try:
        value = parse_json(path.read_bytes())
    except OSError as e:
        raise FieldError(str(path), f"cannot read: {e.strerror}") from e
    except ValueError as e:
        raise FieldError(str(path), f"not JSON: {e}") from e
    if not isinstance(value, dict):
        raise FieldError(str(path), "not a tps-slice/1 object")
    found = parse_model(TpsSlice, value)
    if (found.tps, found.election.id) != (tps, election):
        raise FieldError(
            str(path),
            f"is for TPS {found.tps} in {found.election.id}, this kit serves {tps} in {election}",
        )
    return found


def load_official_dpt(bundle_dir: Path, *, tps: str, election: str) -> OfficialDpt | None:
    """The TPS's official register from the bundle in ``bundle_dir`` (where kit.toml is);
    None for a bundle made without a manifest. FieldError if the slice is there but wrong."""
    path = bundle_dir / SLICE_FILE
    if not path.exists():
        return None
    return load_tps_slice(path, tps=tps, election=election).official_dpt
