"""Reading benchmark: forms synthesized from handwriting the model never trained on.

    python benchmarks/reading.py --digits ../shared/data/mnist-t10k-dev/t10k-dev --skip 6000 \
        --forms 100 [--fold] [--max-blur 1.5] [--templates ppwp-plano] \
        [--print kpu --kpu-pdf ../shared/data/forms-reference/C.HASIL-PPWP-2024-plano.pdf]

``--print ours`` writes on the sheet this project prints (KPU's style: checkerboard marks, no
QR code); ``--print kpu`` writes on KPU's own PDF, rasterized (PPWP plano only). ``--fold``
photographs folded, curled sheets. Prints digit, X and blank accuracy per box, field accuracy,
bubble accuracy, refused pages and forms, each whole form's verdict after decoding (accepted
without a look, needs a look, paper mistake) and silent errors (a wrong value not flagged),
per-page latency by stage (median, p95) on one pinned core, the ratio of that latency to
decoding the same 12 MP JPEG (a baseline measured in the same run), the reading process's
peak memory, and Tesseract (Debian's tesseract-ocr, digits only) on a sample of the same
boxes. The last line is one JSON object.

The work each stage does per page is counted too (``stage_work``: megapixels for the image
stages, boxes, multiply-accumulates of the digit model from its own graph, bubbles, bytes
hashed) with this machine's time per unit of it (``stage_ns_per_unit``), so a Raspberry Pi
figure can be estimated stage by stage from the Pi's own rate for each kind of work (see the
README, "Speed on the Pi"). ``--model`` reads with another model (an int8 copy, say).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.kpu_sheet import kpu_blank
from benchmarks.safety import judge
from edge.align.sample import BoxMm, sample_boxes
from edge.decode.decide import decode_form
from edge.read.form import FormReading
from edge.read.page import PageReader, box_inset
from edge.recognition.model import DigitModel
from protocol.forms import layout
from protocol.forms.loader import load_all
from protocol.idx import load_digits
from provisioning.synth.dataset import election_for, tps_for
from provisioning.synth.forms import synthesize_form
from provisioning.synth.handwriting import DigitBank

# What each stage's work is counted in (stage -> unit); see measure().
STAGE_UNITS = {
    "jpeg_decode": "MP",
    "align": "MP",
    "qr": "MP",
    "place": "fields",
    "boxes": "boxes",
    "model": "MMAC",
    "bubbles": "bubbles",
    "decode": "fields",
    "hash": "MB",
}


def model_macs(path: Path) -> int:
    """Multiply-accumulates of one box through the model, from onnxruntime's own profile of
    its graph (every Conv and Gemm with the shapes it ran at)."""
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(tmp) / "profile")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        session.run(None, {name: np.zeros((1, 1, 28, 28), np.float32)})
        events = json.loads(Path(session.end_profiling()).read_text())
    macs = 0
    for event in events:
        args = event.get("args", {})
        if event.get("cat") != "Node" or not event["name"].endswith("_kernel_time"):
            continue
        shapes = [next(iter(s.values())) for s in args.get("input_type_shape", [])]
        out = next(iter(args["output_type_shape"][0].values()))
        if args.get("op_name") == "Conv":
            macs += int(np.prod(out[1:])) * int(np.prod(shapes[1][1:]))
        elif args.get("op_name") in ("Gemm", "MatMul"):
            macs += int(np.prod(out[1:])) * shapes[0][-1]
    return macs


def pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    cv2.setNumThreads(1)


def synthesize(args, templates, bank, out: Path) -> None:
    """Write the synthesized pages to ``out`` so the reading process holds only what it reads."""
    blank = kpu_blank(args.kpu_pdf) if args.print == "kpu" else None
    for n in range(1, args.forms + 1):
        template = templates[(n - 1) % len(templates)]
        rng = np.random.default_rng([args.seed, n])
        tps = tps_for("31.71.01.1001.001", n)
        for page in synthesize_form(
            template,
            tps=tps,
            election=election_for(template, None),
            bank=bank,
            rng=rng,
            blank=blank,
            fold=args.fold,
            max_blur=args.max_blur,
        ):
            stem = out / f"{n:04d}-{page.number}"
            stem.with_suffix(".jpg").write_bytes(page.jpeg)
            stem.with_suffix(".json").write_text(json.dumps(page.truth))
        print(f"\rsynthesized {n}/{args.forms} forms", end="", file=sys.stderr)
    print(file=sys.stderr)


def tesseract_box(patch: np.ndarray, workdir: Path) -> str:
    path = workdir / "box.png"
    big = cv2.resize(patch, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(path), cv2.copyMakeBorder(big, 20, 20, 20, 20, cv2.BORDER_CONSTANT, value=255))
    done = subprocess.run(
        ["tesseract", str(path), "-", "--psm", "10", "-c", "tessedit_char_whitelist=0123456789X"],
        capture_output=True,
        text=True,
    )
    text = done.stdout.strip()
    return text[:1] if text else "blank"


def reset_peak_memory() -> None:
    """Forget the high-water mark this process inherited from its parent at fork time."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


def peak_memory_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values, q):
    return float(np.percentile(values, q)) if values else float("nan")


def measure(folder: str, tesseract_boxes: int, model_path: str | None = None) -> dict:
    """Read every page in ``folder`` on one pinned core; runs in its own process."""
    reset_peak_memory()
    pin_one_core()
    templates = [t.template for t in load_all() if not t.template.example]
    model = DigitModel.load(Path(model_path) if model_path else None, threads=1)
    model.warm_up()
    box_macs = model_macs(model.path)
    work: dict[str, list[float]] = {}
    reader = PageReader(templates, model)
    boxes, fields, bubbles, refused = Counter(), Counter(), Counter(), []
    stage_times: dict[str, list[float]] = {}
    totals, decode_times, tess_sample = [], [], []
    verdicts, silent, refused_forms = Counter(), [], set()
    for form_pages in _forms(Path(folder)):
        form, values = FormReading(), {}
        for jpg in form_pages:
            data = jpg.read_bytes()
            truth = json.loads(jpg.with_suffix(".json").read_text())
            values |= truth["fields"]
            start = time.perf_counter()
            frame = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
            decoded = time.perf_counter()
            try:
                reading = reader.read(frame, data)
            except Exception as e:  # a refusal of a synthesized page is a failure to report
                refused.append(f"{jpg.name}: {e}")
                refused_forms.add(jpg.name[:4])
                continue
            totals.append(time.perf_counter() - decoded)
            decode_times.append(decoded - start)
            for stage, seconds in reading.timings.items():
                stage_times.setdefault(stage, []).append(seconds)
            count(reading, truth, boxes, fields, bubbles)
            for stage, units in page_work(frame, data, reading, box_macs).items():
                work.setdefault(stage, []).append(units)
            form.add(reading)
            if len(tess_sample) < tesseract_boxes:  # keep small patches, never whole frames
                tess_sample.extend(
                    digit_patches(frame, reading, truth)[: tesseract_boxes - len(tess_sample)]
                )
        if form.complete:
            judge(decode_form(form), values, None, verdicts, silent)
    rss = peak_memory_mb()  # before Tesseract runs
    return {
        "refused": refused,
        "refused_forms": len(refused_forms),
        "verdicts": dict(verdicts),
        "silent": silent,
        "boxes": {f"{k}|{ok}": v for (k, ok), v in boxes.items()},
        "fields": dict(fields),
        "bubbles": {f"{k}|{ok}": v for (k, ok), v in bubbles.items()},
        "totals": totals,
        "decode": decode_times,
        "stages": stage_times,
        "work": work,
        "box_macs": box_macs,
        "peak_rss_mb": rss,
        "model_bytes": model.path.stat().st_size,
        "model_sha256": model.sha256,
        "tesseract": run_tesseract(tess_sample),
    }


def page_work(frame, data: bytes, reading, box_macs: int) -> dict[str, float]:
    """What each stage of one page worked through, in STAGE_UNITS."""
    megapixels = frame.size / 1e6
    specs = [fr.spec for fr in reading.fields.values()]
    n_boxes = sum(len(s.boxes) for s in specs)
    n_bubbles = sum(len(fr.bubbles) * 10 for fr in reading.fields.values())
    return {
        "jpeg_decode": megapixels,
        "align": megapixels,
        "qr": megapixels if reading.qr is not None else 0.0,
        "place": len(specs),
        "boxes": n_boxes,
        "model": n_boxes * box_macs / 1e6,
        "bubbles": n_bubbles,
        "decode": len(specs),
        "hash": len(data) / 1e6,
    }


def stage_costs(m: dict) -> tuple[dict, dict]:
    """Median work per page and this machine's nanoseconds per unit of it, per stage."""
    times = dict(m["stages"], jpeg_decode=m["decode"])
    work, per_unit = {}, {}
    for stage, unit in STAGE_UNITS.items():
        units = m["work"].get(stage, [])
        if not units or not times.get(stage) or pct(units, 50) == 0:
            continue
        work[stage] = f"{pct(units, 50):.4g} {unit}"
        per_unit[stage] = f"{1e9 * sum(times[stage]) / sum(units):.4g} ns/{unit}"
    return work, per_unit


def _forms(folder: Path) -> list[list[Path]]:
    """The pages in ``folder`` (NNNN-p.jpg) grouped by form, in order."""
    forms: dict[str, list[Path]] = {}
    for jpg in sorted(folder.glob("*.jpg")):
        forms.setdefault(jpg.name[:4], []).append(jpg)
    return list(forms.values())


def count(reading, truth, boxes, fields, bubbles) -> None:
    for field_id, fr in reading.fields.items():
        fields["right" if fr.number.value == truth["fields"][field_id] else "wrong"] += 1
        for true_box, top in zip(truth["boxes"][field_id], fr.number.boxes, strict=True):
            kind = true_box if true_box in ("X", "blank") else "digit"
            boxes[(kind, top[0][0] == true_box)] += 1
        for true_col, read_col in zip(truth["bubbles"].get(field_id, []), fr.bubbles, strict=False):
            if true_col["style"] != "none":
                bubbles[(true_col["style"], read_col.digit == true_col["filled"])] += 1


def digit_patches(frame, reading, truth) -> list[tuple[np.ndarray, str]]:
    """The page's digit boxes exactly as the model saw them, with the true digit."""
    specs = [fr.spec for fr in reading.fields.values()]
    inset = box_inset(reading.template.page(reading.page).box_style)
    rects = [BoxMm(**layout.box_interior(b, inset).model_dump()) for s in specs for b in s.boxes]
    answers = [b for s in specs for b in truth["boxes"][s.id]]
    patches = sample_boxes(frame, reading.alignment, rects)
    return [(p, a) for p, a in zip(patches, answers, strict=True) if a not in ("X", "blank")]


def run_tesseract(sample: list[tuple[np.ndarray, str]]) -> dict:
    if shutil.which("tesseract") is None:
        return {"available": False}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        right = sum(tesseract_box(patch, Path(tmp)) == answer for patch, answer in sample)
    return {
        "available": True,
        "digit_boxes": len(sample),
        "digit_accuracy": round(right / max(len(sample), 1), 4),
        "seconds_per_box": round((time.perf_counter() - t0) / max(len(sample), 1), 4),
    }


def summarise(args, m: dict) -> dict:
    boxes = Counter({tuple(k.split("|")): v for k, v in m["boxes"].items()})
    bubbles = Counter({tuple(k.split("|")): v for k, v in m["bubbles"].items()})

    def acc(kind):
        ok, bad = boxes[(kind, "True")], boxes[(kind, "False")]
        return round(ok / max(ok + bad, 1), 5), ok + bad

    digit_acc, digit_n = acc("digit")
    x_acc, x_n = acc("X")
    blank_acc, blank_n = acc("blank")
    fields = m["fields"]
    n_fields = sum(fields.values())
    bubble_n = sum(bubbles.values())
    bubble_ok = sum(v for (_, ok), v in bubbles.items() if ok == "True")
    totals, decode = m["totals"], m["decode"]
    verdicts = m["verdicts"]
    decoded = verdicts.get("clean", 0)
    return {
        "print": args.print,
        "fold": args.fold,
        "max_blur": args.max_blur,
        "forms": args.forms,
        "pages": len(totals) + len(m["refused"]),
        "refused_pages": len(m["refused"]),
        "refused_forms": m["refused_forms"],
        "decoded_forms": decoded,
        "accepted_share": round(verdicts.get("accept", 0) / max(decoded, 1), 4),
        "needs_a_look_share": round(verdicts.get("needs a look", 0) / max(decoded, 1), 4),
        "paper_mistake_share": round(verdicts.get("paper mistake", 0) / max(decoded, 1), 4),
        "silent_errors": len(m["silent"]),
        "fields_wrong_after_decoding": verdicts.get("fields_wrong_after_decoding", 0),
        "digit_accuracy": digit_acc,
        "digit_boxes": digit_n,
        "x_accuracy": x_acc,
        "x_boxes": x_n,
        "blank_accuracy": blank_acc,
        "blank_boxes": blank_n,
        "field_accuracy": round(fields.get("right", 0) / max(n_fields, 1), 5),
        "fields": n_fields,
        "bubble_accuracy": round(bubble_ok / max(bubble_n, 1), 5),
        "bubbles": bubble_n,
        "bubble_accuracy_by_style": {
            style: round(
                bubbles[(style, "True")]
                / max(bubbles[(style, "True")] + bubbles[(style, "False")], 1),
                4,
            )
            for style in ("good", "sloppy", "faint", "missing")
        },
        "page_ms_median": round(1000 * pct(totals, 50), 1),
        "page_ms_p95": round(1000 * pct(totals, 95), 1),
        "stage_ms_median": {k: round(1000 * pct(v, 50), 2) for k, v in m["stages"].items()},
        "stage_ms_p95": {k: round(1000 * pct(v, 95), 2) for k, v in m["stages"].items()},
        "stage_work": stage_costs(m)[0],
        "stage_ns_per_unit": stage_costs(m)[1],
        "model_macs_per_box": m["box_macs"],
        "jpeg_decode_ms_median": round(1000 * pct(decode, 50), 1),
        "page_over_jpeg_decode": round(pct(totals, 50) / pct(decode, 50), 3),
        "peak_rss_mb": round(m["peak_rss_mb"], 1),
        "model_bytes": m["model_bytes"],
        "model_sha256": m["model_sha256"],
        "tesseract": m["tesseract"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--digits", required=True, help="IDX prefix of handwriting to write with")
    parser.add_argument("--skip", type=int, default=0, help="skip the first N digits (trained on)")
    parser.add_argument("--forms", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--tesseract-boxes", type=int, default=300)
    parser.add_argument(
        "--print",
        choices=["ours", "kpu"],
        default="ours",
        help="write on our print (KPU's style) or on KPU's own PDF (needs --kpu-pdf; PPWP)",
    )
    parser.add_argument("--kpu-pdf", type=Path, help="KPU's C.HASIL-PPWP-2024-plano.pdf")
    parser.add_argument("--fold", action="store_true", help="photograph folded, curled sheets")
    parser.add_argument("--max-blur", type=float, default=1.2, help="largest blur sigma, px")
    parser.add_argument("--templates", help="comma-separated template ids (default: all real)")
    parser.add_argument("--model", help="an ONNX digit model (default: the shipped one)")
    args = parser.parse_args()
    if args.print == "kpu" and args.kpu_pdf is None:
        parser.error("--print kpu needs --kpu-pdf PATH (KPU's PPWP plano PDF)")

    images, labels = load_digits(args.digits)
    bank = DigitBank(images[args.skip :], labels[args.skip :])
    templates = [t.template for t in load_all() if not t.template.example]
    if args.print == "kpu":
        templates = [t for t in templates if t.id == "ppwp-plano"]
    elif args.templates:
        templates = [t for t in templates if t.id in args.templates.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        synthesize(args, templates, bank, Path(folder))
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            measured = pool.apply(measure, (folder, args.tesseract_boxes, args.model))
    for line in measured["refused"][:10]:
        print("refused:", line, file=sys.stderr)
    for error in measured["silent"][:10]:
        print("silent error:", json.dumps(error), file=sys.stderr)
    result = summarise(args, measured)
    for key, value in result.items():
        print(f"{key:>26}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
