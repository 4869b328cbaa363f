"""Signing webhook deliveries: HMAC-SHA256 over the try's timestamp and the exact body.

Each try carries ``X-Dialer-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``; the MAC is
over the bytes ``<t>.<body>`` (the timestamp in decimal, a full stop, then the request body
exactly as received), keyed with the webhook's secret (its UTF-8 bytes, ``whsec_`` prefix
included). A receiver recomputes it, compares in constant time, and refuses a timestamp
further than its tolerance from its own clock (replays). Every try is signed afresh, so a
retry made hours later carries a current timestamp. docs/api/webhooks.md shows the check.

A secret is made here (`new_secret`) or given by the operator (`check_secret`); it is kept
as given, since the dialer needs it to sign. Pure, apart from `new_secret`'s randomness.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = [
    "SIGNATURE_HEADER",
    "TOLERANCE_S",
    "check_secret",
    "new_secret",
    "sign",
    "signature_header",
    "verify",
]

SIGNATURE_HEADER = "X-Dialer-Signature"
SECRET_PREFIX = "whsec_"
MIN_SECRET_CHARS = 16
MAX_SECRET_CHARS = 200
TOLERANCE_S = 300
"""How far from a receiver's clock a timestamp may be in the documented check (5 minutes)."""


def new_secret() -> str:
    """A fresh secret: ``whsec_`` and 32 random bytes in URL-safe base64 (43 characters)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def check_secret(secret: str) -> str:
    """``secret`` when it is printable ASCII without spaces, 16 to 200 characters (what a
    header-safe shell argument holds); ``ValueError`` saying why otherwise."""
    if not MIN_SECRET_CHARS <= len(secret) <= MAX_SECRET_CHARS:
        raise ValueError(f"a webhook secret is {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} characters")
    if not all("!" <= c <= "~" for c in secret):
        raise ValueError("a webhook secret is printable ASCII without spaces")
    return secret


def sign(secret: str, timestamp_s: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``<timestamp_s>.<body>`` keyed with ``secret``."""
    message = str(timestamp_s).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp_s: int, body: bytes) -> str:
    """The ``X-Dialer-Signature`` value of a try made at ``timestamp_s`` (Unix seconds)."""
    return f"t={timestamp_s},v1={sign(secret, timestamp_s, body)}"


def verify(
    secret: str, header: str, body: bytes, now_s: int, tolerance_s: int = TOLERANCE_S
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` at a time within ``tolerance_s``
    of ``now_s``: the receiver's check, as docs/api/webhooks.md writes it."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        fields.setdefault(name, []).append(value)
    stamps = fields.get("t", [])
    if len(stamps) != 1 or not stamps[0].isascii() or not stamps[0].isdigit():
        return False
    timestamp_s = int(stamps[0])
    if abs(now_s - timestamp_s) > tolerance_s:
        return False
    expected = sign(secret, timestamp_s, body)
    return any(hmac.compare_digest(expected, given) for given in fields.get("v1", []))
