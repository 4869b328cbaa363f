"""Test doubles and data shared by the whole suite: the clock and id source (``clock``), the
recorded FreeSWITCH traffic (``transcripts``)."""

__all__ = ["clock", "transcripts"]
