"""A bundle made from its fixed frame is the JSON of the whole, byte for byte."""

from __future__ import annotations

import json

from protocol import ack, bundle, dsse, result
from tests.conftest import kit_key, make_document


def test_framed_bundle_is_the_sorted_compact_json_of_the_whole(region):
    kit = region.kit("31.71.01.1001.001")
    key = kit_key(kit)
    for bundle_format, payload_type, payload in (
        (result.BUNDLE_FORMAT, result.PAYLOAD_TYPE, make_document(kit).canonical()),
        (ack.BUNDLE_FORMAT, ack.PAYLOAD_TYPE, b'{"a":"\\u00e9 \\"quoted\\""}'),
    ):
        framed = bundle.BundleSigner(bundle_format, payload_type, key, kit.certificate)
        whole = {
            "format": bundle_format,
            # Ed25519 signatures are deterministic: the same key signs the same bytes alike.
            "envelope": dsse.sign(payload_type, payload, key).to_json_value(),
            "certificate": kit.certificate.public_bytes(bundle.Encoding.PEM).decode("ascii"),
        }
        expected = json.dumps(whole, separators=(",", ":"), sort_keys=True).encode()
        assert framed.sign(payload) == expected
        assert bundle.parse_bundle(expected, bundle_format)[0].payload == payload
