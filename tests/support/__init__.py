"""Test doubles shared by the whole suite (the clock, the id source)."""
