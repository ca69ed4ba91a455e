"""Safety benchmark: is any wrong number ever accepted without a flag?

    python benchmarks/safety.py --digits ../shared/data/mnist-t10k-dev/t10k-dev --skip 6000 \\
        --forms 200 --official-dpt

Forms are synthesized from handwriting the model never trained on, cycling through every
shipped template; a share of them carry a deliberate paper mistake (a total added up wrongly,
or a bubble blackened for another digit than its box). Each form is read page by page and
decoded. Reported: the share of forms accepted without a look, needing a look, and flagged
as a paper mistake; silent errors (a field whose value differs from what the paper says,
not marked doubtful, in a form not flagged as a paper mistake; the target is 0); injected
paper mistakes caught; decoding time per form (median, p95) and its ratio to the time spent
reading the same form's pages, measured in the same run on one pinned core.
``--official-dpt`` gives the kit each TPS's official voter list, as a bundle made from the
election manifest does; ``--model`` measures another digit model. The last line is one JSON
object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge.decode.decide import decode_form
from edge.decode.official import MEN, WOMEN, OfficialDpt
from edge.read.form import FormReading
from edge.read.page import PageReader
from edge.recognition.model import DigitModel
from protocol.forms.loader import load_all
from protocol.idx import load_digits
from provisioning.synth.dataset import election_for, tps_for
from provisioning.synth.forms import synthesize_form
from provisioning.synth.handwriting import DigitBank
from provisioning.synth.mistakes import wrong_bubble, wrong_sum
from provisioning.synth.values import consistent_values


def pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    cv2.setNumThreads(1)


def make_form(template, n: int, args, bank):
    """The pages of form ``n``, its values, its mistake (or None) and the TPS's official voter
    list (as KPU lists it, so as the KPPS copied it), reproducibly from the seed."""
    rng = np.random.default_rng([args.seed, n])
    tps, election = tps_for("31.71.01.1001.001", n), election_for(template, None)
    values = consistent_values(template, rng)
    dpt = OfficialDpt(values[MEN], values[WOMEN]) if MEN in values else None
    roll = rng.random()
    mistake, hook = None, None
    if roll < args.bubble_mistakes:
        hook, mistake = wrong_bubble(template, values, rng, tps=tps, election=election)
    if mistake is None and roll < args.bubble_mistakes + args.sum_mistakes:
        values, mistake = wrong_sum(template, values, rng)
    pages = []
    for page in template.pages:
        hook_here = hook if mistake is not None and page.number == mistake.page else None
        pages += synthesize_form(
            template,
            tps=tps,
            election=election,
            bank=bank,
            rng=rng,
            values=values,
            only_pages=[page.number],
            before_photo=hook_here,
        )
    return pages, values, mistake, dpt


def read_form(reader: PageReader, pages) -> tuple[FormReading, float]:
    form, seconds = FormReading(), 0.0
    for page in pages:
        frame = cv2.imdecode(np.frombuffer(page.jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
        start = time.perf_counter()
        form.add(reader.read(frame, page.jpeg))
        seconds += time.perf_counter() - start
    return form, seconds


def judge(decoded, values: dict[str, int], mistake, tally: Counter, silent: list) -> None:
    tally[decoded.verdict] += 1
    for fid, d in decoded.fields.items():
        tally["fields"] += 1
        tally[f"decision:{d.decision}"] += 1
        wrong = d.value != values[fid]
        tally["fields_wrong_after_decoding"] += wrong
        if wrong and d.decision != "doubtful" and decoded.verdict != "paper mistake":
            silent.append({"field": fid, "value": d.value, "paper": values[fid], "why": d.reason})
    if mistake is not None:
        tally[f"injected:{mistake.kind}"] += 1
        tally[f"caught:{mistake.kind}"] += decoded.verdict == "paper mistake"
        tally[f"flagged:{mistake.kind}"] += decoded.verdict != "accept"
    else:
        tally["clean"] += 1
        tally["clean_paper_mistake"] += decoded.verdict == "paper mistake"
        tally["clean_accept"] += decoded.verdict == "accept"


def pct(values, q) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--digits", required=True, help="IDX prefix of handwriting to write with")
    parser.add_argument("--skip", type=int, default=0, help="skip the first N digits (trained on)")
    parser.add_argument("--forms", type=int, default=200)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--sum-mistakes", type=float, default=0.15, help="share of forms")
    parser.add_argument("--bubble-mistakes", type=float, default=0.15, help="share of forms")
    parser.add_argument("--templates", help="comma-separated template ids (default: all real)")
    parser.add_argument(
        "--official-dpt",
        action="store_true",
        help="the kit knows each TPS's official voter list (the election manifest gives it)",
    )
    parser.add_argument("--model", help="an ONNX digit model (default: the shipped one)")
    args = parser.parse_args()

    pin_one_core()
    images, labels = load_digits(args.digits)
    bank = DigitBank(images[args.skip :], labels[args.skip :])
    templates = [t.template for t in load_all() if not t.template.example]
    if args.templates:
        templates = [t for t in templates if t.id in args.templates.split(",")]
    model = DigitModel.load(args.model, threads=1)
    model.warm_up()
    reader = PageReader(templates, model)
    tally, silent, refused = Counter(), [], []
    decode_s, read_s, ratios, searched = [], [], [], []
    t0 = time.perf_counter()
    for n in range(1, args.forms + 1):
        template = templates[(n - 1) % len(templates)]
        pages, values, mistake, dpt = make_form(template, n, args, bank)
        try:
            form, reading = read_form(reader, pages)
        except Exception as e:  # a refused synthesized page is a failure to report
            refused.append(f"form {n}: {e}")
            continue
        start = time.perf_counter()
        decoded = decode_form(form, dpt=dpt if args.official_dpt else None)
        seconds = time.perf_counter() - start
        decode_s.append(seconds)
        read_s.append(reading)
        ratios.append(seconds / reading)
        searched.append(decoded.search.nodes)
        tally["search_incomplete"] += not decoded.search.complete
        judge(decoded, values, mistake, tally, silent)
        print(
            f"\r{n}/{args.forms} forms, {time.perf_counter() - t0:.0f} s, silent {len(silent)}",
            end="",
            file=sys.stderr,
        )
    print(file=sys.stderr)
    for line in refused[:10] + [json.dumps(s) for s in silent[:20]]:
        print(line, file=sys.stderr)
    decoded_n = len(decode_s)
    injected = {k: tally[f"injected:{k}"] for k in ("sum", "bubble")}
    result = {
        "model": model.sha256[:12],
        "official_dpt": args.official_dpt,
        "forms": args.forms,
        "decoded": decoded_n,
        "refused_forms": len(refused),
        "templates": len(templates),
        "accepted_share": round(tally["accept"] / max(decoded_n, 1), 4),
        "needs_a_look_share": round(tally["needs a look"] / max(decoded_n, 1), 4),
        "paper_mistake_share": round(tally["paper mistake"] / max(decoded_n, 1), 4),
        "clean_forms": tally["clean"],
        "clean_accepted_share": round(tally["clean_accept"] / max(tally["clean"], 1), 4),
        "clean_called_paper_mistake": tally["clean_paper_mistake"],
        "silent_errors": len(silent),
        "fields": tally["fields"],
        "fields_wrong_after_decoding": tally["fields_wrong_after_decoding"],
        "decisions": {k[9:]: v for k, v in tally.items() if k.startswith("decision:")},
        "paper_mistakes_injected": injected,
        "paper_mistakes_caught": {k: tally[f"caught:{k}"] for k in injected},
        "paper_mistakes_flagged": {k: tally[f"flagged:{k}"] for k in injected},
        "search_incomplete": tally["search_incomplete"],
        "search_nodes_median": pct(searched, 50),
        "search_nodes_max": max(searched, default=0),
        "decode_ms_median": round(1000 * pct(decode_s, 50), 2),
        "decode_ms_p95": round(1000 * pct(decode_s, 95), 2),
        "read_ms_per_form_median": round(1000 * pct(read_s, 50), 1),
        "decode_over_read_median": round(pct(ratios, 50), 4),
        "decode_over_read_p95": round(pct(ratios, 95), 4),
    }
    for key, value in result.items():
        print(f"{key:>28}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
