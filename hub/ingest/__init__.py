"""Ingest: judge a received message, store it, log it, sign the acknowledgement."""

from hub.ingest.acks import AckSigner
from hub.ingest.ingestor import Ingestor, Limits, Message, Outcome
from hub.ingest.verdict import Accepted, Rejected, judge_image, judge_result

__all__ = [
    "Accepted",
    "AckSigner",
    "Ingestor",
    "Limits",
    "Message",
    "Outcome",
    "Rejected",
    "judge_image",
    "judge_result",
]
