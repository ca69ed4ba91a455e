"""Training the 12-class digit-box model (0-9, X, blank) and evaluating it.

``python -m training --help`` trains and exports edge/recognition/digits.onnx;
``python -m training.evaluate --help`` measures a model on held-out digits rendered as
camera-like boxes. Training needs the ``train`` extra (torch, onnx, mlxtend); torch is
imported only inside the training functions, so ``render`` and ``evaluate`` work without it.
"""
