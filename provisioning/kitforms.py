"""Which forms a kit scans, and its slice of the election manifest.

With the region's manifest, a kit scans the forms of the contests its TPS votes in (each
contest's form, over the region it covers); a form asked for by name must be one of them.
Without one, a form asked for must at least be a form this software ships: a typo is
refused here, at the technician's table, not found by the kit on election morning.
"""

from __future__ import annotations

from collections.abc import Sequence

from protocol.errors import ProtocolError
from protocol.forms.loader import load
from protocol.manifest_sign import VerifiedManifest
from protocol.tpsslice import TpsSlice, slice_of
from provisioning.errors import EnrolmentError


def choose_forms(
    tps: str,
    election: str,
    requested: Sequence[str],
    manifest: VerifiedManifest | None,
) -> tuple[list[str], TpsSlice | None]:
    """The kit's form ids and, with a manifest, its slice; EnrolmentError saying why not."""
    for form in requested:
        try:
            load(form)
        except ProtocolError as e:
            raise EnrolmentError(str(e)) from e
    if manifest is None:
        if not requested:
            raise EnrolmentError("give --form (one or more), or --manifest to take them from it")
        return list(requested), None
    if manifest.manifest.election.id != election:
        raise EnrolmentError(
            f"the kit is enrolled for {election}, the manifest is of "
            f"{manifest.manifest.election.id}"
        )
    try:
        cut = slice_of(manifest, tps)
    except ProtocolError as e:
        raise EnrolmentError(f"TPS {tps} is not in the manifest: {e}") from e
    if not cut.forms:
        raise EnrolmentError(f"no contest of the manifest covers TPS {tps}")
    extra = [f for f in requested if f not in cut.forms]
    if extra:
        raise EnrolmentError(
            f"TPS {tps} votes with {', '.join(cut.forms)} by the manifest, not {', '.join(extra)}"
        )
    return list(requested) or cut.forms, cut
