"""Calls that business systems place through the API: click-to-call and callbacks."""
