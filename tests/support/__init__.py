"""Test doubles and data shared by the whole suite: the clock and id source (``clock``), the
recorded FreeSWITCH traffic (``transcripts``), waiting for Event Socket events (``esl``)."""

__all__ = ["clock", "esl", "transcripts"]
