"""The hub's judging processes end with the hub, even when it is killed outright."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from tests.hub.test_store_support import HubSetup, hub_setup  # noqa: F401 (fixture)

HUB = """
import json, sys, time
from pathlib import Path
from hub.ingest.pool import JudgePool
from hub.trust import Trust
from protocol import certs

d = Path(sys.argv[1])
trust = Trust(
    certs.load_certificate((d / "ca.cert.pem").read_bytes()),
    certs.load_crl((d / "crl.pem").read_bytes()),
)
pool = JudgePool(trust, workers=2)
pool.warm_up()
print(json.dumps(pool.pids()), flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has exited: only its parent's bookkeeping is left


def test_a_hub_killed_with_sigkill_leaves_no_orphan_judging_processes(hub_setup: HubSetup):  # noqa: F811
    d = hub_setup.hub_dir
    (d / "crl.pem").write_bytes(hub_setup.region.authority.crl().public_bytes(Encoding.PEM))
    root = Path(__file__).resolve().parents[2]
    hub = subprocess.Popen(
        [sys.executable, "-c", HUB, str(d)], stdout=subprocess.PIPE, text=True, cwd=root
    )
    try:
        pids = json.loads(hub.stdout.readline())
        assert len(pids) == 2 and all(_alive(p) for p in pids)  # the two judging processes
        os.kill(hub.pid, signal.SIGKILL)
        hub.wait(timeout=10)
        deadline = time.monotonic() + 20
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in pids if _alive(p)], "judging processes outlived the hub"
    finally:
        hub.kill()
        for pid in pids if "pids" in locals() else []:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
