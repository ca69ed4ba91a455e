"""The form synthesizer: whole forms filled with real handwriting, photographed as the kit would.

Tests, the demo and the benchmarks use it; the truth (every value, every bubble) is kept.
"""
