"""Digit-box recognition on the kit: box normalisation and the 12-class ONNX model.

``normalise`` turns a box crop into model input; ``model.DigitModel`` classifies a page's
boxes in one onnxruntime call. Import the submodules directly: this package imports nothing.
"""
