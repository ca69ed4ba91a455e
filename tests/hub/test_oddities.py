"""Oddities found at query time: page images that never arrive, kits and TPS the registry
does not know (and completeness that never passes 100 %), through the real ingest path."""

from __future__ import annotations

import datetime as dt
import hashlib

from hub.recap import recap_hook
from hub.recap.completeness import ratio
from hub.recap.oddities import missing_images, unregistered
from hub.trust import RegistryKit
from tests.hub import test_store_support as support
from tests.hub.test_recap import ELECTION, TPS, full_form
from tests.hub.test_store_support import signed, utcnow

backend, store, hub_setup = support.backend, support.store, support.hub_setup


def test_a_page_image_that_never_arrives_is_flagged_after_the_stated_time(hub_setup, store):
    kit = hub_setup.region.kit(TPS[0])
    image = b"page 2 photo"
    sha = hashlib.sha256(image).hexdigest()
    never = hashlib.sha256(b"page 1 photo, never sent").hexdigest()
    pages = [{"page": 1, "sha256": never}, {"page": 2, "sha256": sha}]
    ingestor = hub_setup.ingestor(store, hooks=[recap_hook])
    received = utcnow()
    ingestor.ingest_result(signed(kit, pages=pages, **full_form(1)), kit.kit_id, received)
    assert ingestor.ingest_image(image, kit.kit_id, sha, received).status == "accepted"
    hour = dt.timedelta(hours=1)
    assert missing_images(store.db, received + dt.timedelta(minutes=59), hour) == []
    (missing,) = missing_images(store.db, received + dt.timedelta(minutes=61), hour)
    assert (missing.tps, missing.page, missing.sha256, missing.kit) == (
        TPS[0],
        1,
        never,
        kit.kit_id,
    )
    assert missing_images(store.db, received + 2 * hour, hour, election="pemilu-2029") == []


def test_a_kit_enrolled_after_the_registry_export_is_flagged_and_completeness_stays_100(
    hub_setup, store
):
    listed = hub_setup.region.kit(TPS[0])
    registry = [RegistryKit(listed.kit_id, TPS[0], ELECTION, 1, False)]  # exported now
    late = hub_setup.region.kit(TPS[1])  # enrolled after the export
    ingestor = hub_setup.ingestor(store, hooks=[recap_hook])
    for kit, seed in ((listed, 1), (late, 2)):
        assert ingestor.ingest_result(signed(kit, **full_form(seed)), kit.kit_id, utcnow()).current
    (odd,) = unregistered(store.db, registry)
    assert (odd.kit, odd.tps, odd.reason) == (late.kit_id, TPS[1], "kit")
    # Listed, but for a TPS the registry does not expect (a registry out of date).
    moved = [RegistryKit(listed.kit_id, TPS[2], ELECTION, 1, False)]
    assert sorted((u.kit, u.reason) for u in unregistered(store.db, moved)) == sorted(
        [(late.kit_id, "kit"), (listed.kit_id, "tps")]
    )
    assert unregistered(store.db, []) == []  # no registry: nothing to compare with
    assert ratio(2, 1) == 1.0  # 2 reported of 1 expected never shows 200 %
