"""Blank forms: printing (PDF) and synthesizing filled, photographed pages."""
