"""tps-verify with the hub's proofs: every added check on its own line, exit 1 on any failure,
and the original ``tps-verify SIGNED_RESULT --ca CA.pem`` unchanged."""

from __future__ import annotations

import base64
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from protocol import verify_cli
from tests.protocol.test_proofs import (
    LOG,
    TRAINING_LOG,
    World,
    consistency,
    inclusion,
    make_world,
    sign_head,
)

BIN = Path(sys.executable).parent


@dataclasses.dataclass
class Files:
    """The files a reader has: the result, the proofs from the hub, the certificates."""

    root: Path
    world: World

    def write(self, name: str, data: bytes) -> str:
        path = self.root / name
        path.write_bytes(data)
        return str(path)

    def pem(self, name: str, cert: x509.Certificate) -> str:
        return self.write(name, cert.public_bytes(Encoding.PEM))

    @property
    def ca(self) -> str:
        return self.pem("ca.pem", self.world.ca_cert)

    @property
    def hub(self) -> str:
        return self.pem("hub.pem", self.world.hub.cert)

    def result(self, index: int = 2) -> str:
        return self.write(f"result-{index}.json", self.world.results[index])

    def inclusion(self, index: int = 2, size: int = 5, log_id: str = LOG, **changes) -> str:
        doc = inclusion(self.world.hub, self.world.results[:size], index, log_id)
        return self.write("inclusion.json", dataclasses.replace(doc, **changes).to_bytes())

    def consistency(self, old: int = 3, new: int = 6, **changes) -> str:
        results = self.world.results
        doc = consistency(self.world.hub, results[:old], results[:new])
        return self.write("consistency.json", dataclasses.replace(doc, **changes).to_bytes())


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    world = make_world(tmp_path_factory.mktemp("region"))
    return Files(tmp_path_factory.mktemp("reader"), world)


def run(*args: str):
    return CliRunner().invoke(verify_cli.main, list(args))


def lines(output: str, mark: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(mark)]


def test_the_original_invocation_is_unchanged(files):
    done = run(files.result(), "--ca", files.ca)
    assert done.exit_code == 0, done.output
    assert "logged:" not in done.output and "hub certificate" not in done.output
    # VALID, never without what it did not check: no CRL, no inclusion proof.
    assert done.output.rstrip().endswith("VERDICT: VALID (not checked: kit revocation, logging)")
    assert "[--] kit revocation not checked: the kit's certificate may have been" in done.output
    assert [line.split("]")[1].strip() for line in lines(done.output, "[ok]")] == [
        "envelope",
        "certificate chain",
        "signature",
        "document",
        "binding (kit, TPS, election)",
    ]


def test_inclusion_adds_each_check(files):
    done = run(
        files.result(), "--ca", files.ca, "--inclusion", files.inclusion(), "--hub-cert", files.hub
    )
    assert done.exit_code == 0, done.output
    added = lines(done.output, "[ok]")[5:]
    assert added == [
        "[ok] hub certificate from the CA",
        "[ok] inclusion proof document",
        "[ok] inclusion proof is for this result",
        "[ok] tree head signed by hub hub-3171",
        "[ok] tree head is of log log-3171, size 5",
        "[ok] result included at leaf 2 of 5",
        "[ok] log holds this kind of result (real or training)",
    ]
    assert "logged:   leaf 2 of 5 in log log-3171" in done.output
    assert done.output.rstrip().endswith(
        "VERDICT: VALID (not checked: kit revocation, hub revocation, witnesses)"
    )


def test_inclusion_proof_for_other_result_fails(files):
    proof = files.inclusion(index=3)
    done = run(files.result(2), "--ca", files.ca, "--inclusion", proof, "--hub-cert", files.hub)
    assert done.exit_code == 1
    failed = lines(done.output, "[FAIL]")
    assert failed[0].startswith("[FAIL] inclusion proof is for this result: InclusionProofError")
    assert failed[1].startswith("[FAIL] result included at leaf 3 of 5: InclusionProofError")
    assert "VERDICT: NOT VALID" in done.output


def test_truncated_inclusion_proof_fails(files):
    doc = inclusion(files.world.hub, files.world.results[:5], 2)
    proof = files.inclusion(proof=doc.proof[:-1])
    done = run(files.result(), "--ca", files.ca, "--inclusion", proof, "--hub-cert", files.hub)
    assert done.exit_code == 1
    assert lines(done.output, "[FAIL]") == [
        "[FAIL] result included at leaf 2 of 5: InclusionProofError: the proof stops before "
        "the root of a tree of 5 leaves (2 hashes given for leaf 2)"
    ]


def test_tree_head_signed_by_other_hub_fails(files):
    other = files.pem("other-hub.pem", files.world.other_hub.cert)
    done = run(
        files.result(), "--ca", files.ca, "--inclusion", files.inclusion(), "--hub-cert", other
    )
    assert done.exit_code == 1
    (failed,) = lines(done.output, "[FAIL]")
    assert failed.startswith("[FAIL] tree head signed by hub hub-3171-b: UnknownKeyError")


def test_kit_certificate_is_no_hub_certificate(files):
    kit = files.pem("kit.pem", files.world.kit.certificate)
    done = run(
        files.result(), "--ca", files.ca, "--inclusion", files.inclusion(), "--hub-cert", kit
    )
    assert done.exit_code == 1
    (failed,) = lines(done.output, "[FAIL]")
    assert failed.startswith("[FAIL] hub certificate from the CA: CertificateProfileError")
    assert "tree head" not in done.output  # nothing an untrusted certificate signed is shown


def test_log_pinning_refuses_another_log(files):
    args = [files.result(), "--ca", files.ca, "--inclusion", files.inclusion()]
    args += ["--hub-cert", files.hub]
    assert run(*args).exit_code == 0
    done = run(*args, "--log", TRAINING_LOG)
    assert done.exit_code == 1
    (failed,) = lines(done.output, "[FAIL]")
    assert failed.startswith("[FAIL] tree head is of log log-3171, size 5: TreeHeadError")


def test_malformed_proof_document_names_the_field(files):
    value = json.loads(Path(files.inclusion()).read_bytes())
    proof = files.write("odd.json", json.dumps({**value, "note": "trust me"}).encode())
    done = run(files.result(), "--ca", files.ca, "--inclusion", proof, "--hub-cert", files.hub)
    assert done.exit_code == 1
    assert lines(done.output, "[FAIL]") == [
        "[FAIL] inclusion proof document: ProofDocumentError: inclusion proof: note: unknown field"
    ]


def test_consistency_alone(files):
    done = run("--consistency", files.consistency(), "--hub-cert", files.hub, "--ca", files.ca)
    assert done.exit_code == 0, done.output
    assert lines(done.output, "[ok]") == [
        "[ok] hub certificate from the CA",
        "[ok] consistency proof document",
        "[ok] old tree head signed by hub hub-3171",
        "[ok] new tree head signed by hub hub-3171",
        "[ok] tree heads are of log log-3171, sizes 3 and 6",
        "[ok] head of size 6 not dated before the head of size 3",
        "[ok] log at size 6 extends the log at size 3 (not rewritten)",
    ]
    assert "log:      log-3171 from size 3" in done.output
    # Without a CRL the hub's certificate may be revoked, and without a kept head the hub
    # chose where the proof starts: a VALID says both.
    assert done.output.rstrip().endswith("VERDICT: VALID (not checked: hub revocation, kept head)")
    assert "[--] kept head not checked: that the proof starts from a tree head you kept" in (
        done.output
    )


def test_rejects_real_result_proved_only_in_the_training_log(files):
    """A hub could satisfy the receipt holder while keeping a real result out of the log
    that auditors follow."""
    proof = files.inclusion(log_id=TRAINING_LOG)
    done = run(files.result(), "--ca", files.ca, "--inclusion", proof, "--hub-cert", files.hub)
    assert done.exit_code == 1
    (failed,) = lines(done.output, "[FAIL]")
    assert failed.startswith("[FAIL] log holds this kind of result (real or training)")
    assert "a real result (pemilu-2024) proved in log 'log-3171-latihan'" in failed


def kept_head(files: Files, size: int) -> str:
    """A tree head as a reader saved it from GET /api/v1/logs/LOG/tree-head."""
    signed = sign_head(files.world.hub, files.world.results[:size])
    saved = {"log_id": LOG, "tree_size": size, "tree_head": base64.b64encode(signed).decode()}
    return files.write(f"kept-{size}.json", json.dumps(saved).encode())


def test_consistency_from_the_kept_head(files):
    args = ["--consistency", files.consistency(), "--hub-cert", files.hub, "--ca", files.ca]
    done = run(*args, "--old-tree-head", kept_head(files, 3))
    assert done.exit_code == 0, done.output
    assert lines(done.output, "[ok]")[-2:] == [
        "[ok] kept tree head signed by hub hub-3171",
        "[ok] the proof starts from the tree head you kept",
    ]
    assert done.output.rstrip().endswith("VERDICT: VALID (not checked: hub revocation)")


def test_rejects_consistency_from_a_head_the_hub_picked(files):
    """A hub showing one reader another view proves consistency from a head of its own
    choosing; the head the reader kept pins where the proof must start."""
    args = ["--consistency", files.consistency(), "--hub-cert", files.hub, "--ca", files.ca]
    done = run(*args, "--old-tree-head", kept_head(files, 4))
    assert done.exit_code == 1
    (failed,) = lines(done.output, "[FAIL]")
    assert failed.startswith("[FAIL] the proof starts from the tree head you kept")
    assert "size 3" in failed and "size 4" in failed


def test_consistency_of_a_rewritten_log_fails(files):
    results = files.world.results
    rewritten = [results[0], results[7], *results[2:6]]
    proof = files.consistency(new_tree_head=sign_head(files.world.hub, rewritten))
    done = run("--consistency", proof, "--hub-cert", files.hub, "--ca", files.ca)
    assert done.exit_code == 1
    (failed,) = lines(done.output, "[FAIL]")
    assert failed.startswith(
        "[FAIL] log at size 6 extends the log at size 3 (not rewritten): ConsistencyProofError"
    )


def test_json_output_with_both_proofs(files):
    done = run(
        files.result(),
        "--ca",
        files.ca,
        "--inclusion",
        files.inclusion(),
        "--consistency",
        files.consistency(old=5, new=8),
        "--hub-cert",
        files.hub,
        "--json",
    )
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert report["valid"] is True and report["hub"] == "hub-3171"
    assert report["inclusion"]["leaf_index"] == 2 and report["inclusion"]["tree_size"] == 5
    assert report["inclusion"]["log_id"] == LOG
    sizes = [report["consistency"][k]["tree_size"] for k in ("old", "new")]
    assert sizes == [5, 8]
    assert len(report["checks"]) == 5 + 1 + 6 + 6 and all(c["ok"] for c in report["checks"])


def test_json_output_without_proofs_has_empty_proof_facts(files):
    report = json.loads(run(files.result(), "--ca", files.ca, "--json").output)
    assert (report["hub"], report["inclusion"], report["consistency"]) == (None, None, None)


def crl(files: Files) -> str:
    return str(files.world.authority.directory / "crl.pem")


def manifest(files: Files) -> str:
    from tests.manifests import signed_manifest

    return files.write("election.json", signed_manifest(files.world.authority))


# Every way tps-verify can say VALID, and what each leaves unchecked: none may say VALID
# without naming exactly these, in its verdict, its [--] lines and its JSON.
VALID_PATHS = [
    ("result", ["{result}"], ["kit revocation", "logging"]),
    ("result, CRL", ["{result}", "--crl", "{crl}"], ["logging"]),
    (
        "result, inclusion",
        ["{result}", "--inclusion", "{inclusion}", "--hub-cert", "{hub}"],
        ["kit revocation", "hub revocation", "witnesses"],
    ),
    (
        # A bare VALID for a result needs witnesses too: tests/hub/test_published.py.
        "result, inclusion, CRL",
        ["{result}", "--inclusion", "{inclusion}", "--hub-cert", "{hub}", "--crl", "{crl}"],
        ["witnesses"],
    ),
    (
        "consistency",
        ["--consistency", "{consistency}", "--hub-cert", "{hub}"],
        ["hub revocation", "kept head"],
    ),
    (
        "consistency, CRL",
        ["--consistency", "{consistency}", "--hub-cert", "{hub}", "--crl", "{crl}"],
        ["kept head"],
    ),
    (
        "consistency, kept head",
        ["--consistency", "{consistency}", "--hub-cert", "{hub}", "--old-tree-head", "{kept}"],
        ["hub revocation"],
    ),
    (
        "consistency, kept head, CRL",
        [
            "--consistency",
            "{consistency}",
            "--hub-cert",
            "{hub}",
            "--old-tree-head",
            "{kept}",
            "--crl",
            "{crl}",
        ],
        [],
    ),
    ("manifest", ["{manifest}"], ["latest version"]),
    ("manifest, CRL", ["{manifest}", "--crl", "{crl}"], ["latest version"]),
]


@pytest.mark.parametrize(
    ("args", "missing"), [p[1:] for p in VALID_PATHS], ids=[p[0] for p in VALID_PATHS]
)
def test_no_valid_verdict_leaves_out_what_was_not_checked(files, args, missing):
    paths = {
        "result": files.result(),
        "inclusion": files.inclusion(),
        "consistency": files.consistency(),
        "hub": files.hub,
        "crl": crl(files),
        "kept": kept_head(files, 3),
        "manifest": manifest(files),
    }
    given = [a.format(**paths) for a in args] + ["--ca", files.ca]
    done = run(*given)
    assert done.exit_code == 0, done.output
    verdict = done.output.rstrip().splitlines()[-1]
    suffix = f" (not checked: {', '.join(missing)})" if missing else ""
    assert verdict == "VERDICT: VALID" + suffix
    assert [line.split(" not checked:")[0][5:] for line in lines(done.output, "[--]")] == missing
    as_json = json.loads(run(*given, "--json").output)
    assert as_json["valid"] is True
    assert [m["check"] for m in as_json["not_checked"]] == missing
    assert all(m["why"] for m in as_json["not_checked"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give a SIGNED_RESULT"),
        (["--inclusion", "{inclusion}", "--hub-cert", "{hub}"], "give it too"),
        (["{result}", "--inclusion", "{inclusion}"], "give --hub-cert"),
        (["--consistency", "{consistency}"], "give --hub-cert"),
    ],
)
def test_usage_errors_say_what_is_missing(files, args, message):
    paths = {
        "result": files.result(),
        "inclusion": files.inclusion(),
        "consistency": files.consistency(),
        "hub": files.hub,
    }
    done = run(*[a.format(**paths) for a in args], "--ca", files.ca)
    assert done.exit_code == 2 and message in done.output


def test_help_reads_naturally(files):
    done = run("--help")
    assert "Usage: tps-verify [OPTIONS] [SIGNED_RESULT]" in done.output.replace(
        "main", "tps-verify"
    )
    for option in ("--inclusion PROOF.json", "--consistency PROOF.json", "--hub-cert", "--log"):
        assert option in done.output


def test_installed_command(files):
    done = subprocess.run(
        [
            str(BIN / "tps-verify"),
            files.result(),
            "--ca",
            files.ca,
            "--inclusion",
            files.inclusion(),
            "--hub-cert",
            files.hub,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[ok] result included at leaf 2 of 5" in done.stdout


@pytest.mark.parametrize(
    ("witness_args", "said"),
    [
        (["--witness", "bogus"], "--witness: verifier key 'bogus' is not <name>+<key id>+<key>"),
        (["--witnesses-required", "1"], "counts the --witness keys: name them"),
    ],
)
def test_witnesses_named_wrongly_are_a_usage_error_not_a_traceback(witness_args, said):
    done = run("--hub", "http://127.0.0.1:1", *witness_args, "0" * 64)
    assert done.exit_code == 2, done.output
    assert said in done.output
