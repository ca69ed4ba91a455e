"""Ingest: judge a received message, store it, log it, sign the acknowledgement."""

from hub.ingest.acks import AckSigner
from hub.ingest.ingestor import Inbound, Ingestor, Outcome
from hub.ingest.verdict import Accepted, Rejected, judge_image, judge_result

__all__ = [
    "Accepted",
    "AckSigner",
    "Inbound",
    "Ingestor",
    "Outcome",
    "Rejected",
    "judge_image",
    "judge_result",
]
