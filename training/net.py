"""The digit-box network (torch). Imported only by the trainer: it needs the train extra.

A small VGG-style CNN on the 28x28 normalised box: convolutions with batch norm at 28, 14
and 7 px, then a fully connected head that keeps the 3x3 spatial layout (where a stroke is
matters for digits). About 6.5 M multiply-adds per box: a page of 70 boxes takes ~12 ms
on one x86 core; about 0.8 MB as ONNX. Softmax is part of the exported graph.
"""

from __future__ import annotations

from typing import Any

NUM_CLASSES = 12


def build(dropout: float = 0.3) -> Any:
    """A fresh, randomly initialised network (torch.nn.Module returning logits)."""
    from torch import nn

    def block(cin: int, cout: int) -> list[Any]:
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

    return nn.Sequential(
        *block(1, 32),
        nn.MaxPool2d(2),  # 14x14
        *block(32, 48),
        nn.MaxPool2d(2),  # 7x7
        *block(48, 64),
        *block(64, 112),
        nn.MaxPool2d(2),  # 3x3
        nn.Flatten(),
        nn.Dropout(dropout / 2),
        nn.Linear(112 * 9, 96),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(96, NUM_CLASSES),
    )


def with_softmax(model: Any) -> Any:
    """The network plus a softmax, as shipped: the ONNX model outputs probabilities."""
    from torch import nn

    return nn.Sequential(model, nn.Softmax(dim=1))
