"""Fetching what a hub publishes for anyone to check it (hub/api/published.py), for
``tps-verify --hub URL``: plain HTTP(S) GETs with the standard library, nothing cached.

Whatever comes from the hub is checked like a file given by hand; the one thing a hub
cannot vouch for is its region's CA certificate, which tps-verify says so about.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

from protocol.errors import ProtocolError
from protocol.tiles import WITNESSED_CHECKPOINT

API = "/api/v1"
CA = f"{API}/trust/ca.cert.pem"
CRL = f"{API}/trust/crl.pem"
HUB_CERTIFICATE = f"{API}/hub-certificate"
TIMEOUT_S = 30.0
MAX_BYTES = 64 << 20  # a signed result with its evidence is kilobytes; a CRL a few MB at most


class HubFetchError(ProtocolError):
    """The hub could not be asked, or answered with an error other than "not here"."""


def signed_url(sha256: str) -> str:
    return f"{API}/documents/{sha256}/signed"


def inclusion_url(sha256: str, tree_size: int | None = None) -> str:
    at = "" if tree_size is None else f"?tree_size={tree_size}"
    return f"{API}/documents/{sha256}/inclusion{at}"


def witnessed_checkpoint_url(log_id: str) -> str:
    return f"{API}/logs/{urllib.parse.quote(log_id, safe='')}/{WITNESSED_CHECKPOINT}"


def manifest_url(election: str) -> str:
    return f"{API}/trust/manifests/{urllib.parse.quote(election, safe='')}.json"


class HubSource:
    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise HubFetchError(f"{url!r} is not a hub address such as https://hub.example")
        self.base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"

    def get(self, path: str) -> bytes | None:
        """The bytes at ``path``, or None if the hub says it has none (404)."""
        request = urllib.request.Request(self.base + path, headers={"User-Agent": "tps-verify"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:
                data = answer.read(MAX_BYTES + 1)
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise HubFetchError(f"{self.base}{path}: the hub answered {e.code} {e.reason}") from e
        except (urllib.error.URLError, OSError) as e:
            raise HubFetchError(f"{self.base}{path}: cannot reach the hub ({e})") from e
        if len(data) > MAX_BYTES:
            raise HubFetchError(f"{self.base}{path}: more than {MAX_BYTES} bytes")
        return data

    def need(self, path: str, what: str) -> bytes:
        data = self.get(path)
        if data is None:
            raise HubFetchError(f"{self.base}{path}: the hub does not publish {what}")
        return data
