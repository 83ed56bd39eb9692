"""The codes a session's check-in screen shows: six digits that change every ``STEP`` seconds, derived from the
session's secret (an HMAC of the step number, as TOTP does, RFC 6238), so a photo of the screen sent to
someone outside the room stops working within a minute.

A code is accepted during its own step and the next one (``GRACE_STEPS``), so a learner who scans just
before it changes still gets in. Codes of up to ``RECOGNISED_STEPS`` ago are recognised as expired, to tell
the learner to look at the screen again rather than that they mistyped.
"""

import hashlib
import hmac
from datetime import datetime
from enum import Enum

STEP = 30  # seconds each code is shown
GRACE_STEPS = 1  # a code is still accepted this many steps after it left the screen
RECOGNISED_STEPS = 20  # older codes (ten minutes) are told apart from wrong ones
DIGITS = 6


class Verdict(Enum):
    CURRENT = "current"
    EXPIRED = "expired"
    WRONG = "wrong"


def step_of(at: datetime) -> int:
    return int(at.timestamp()) // STEP


def code_for(secret: str, step: int) -> str:
    digest = hmac.new(secret.encode(), step.to_bytes(8, "big"), hashlib.sha256).digest()
    offset = digest[-1] & 0x0F  # dynamic truncation, RFC 4226 section 5.3
    number = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return f"{number % 10**DIGITS:0{DIGITS}d}"


def current_code(secret: str, at: datetime) -> str:
    return code_for(secret, step_of(at))


def seconds_left(at: datetime) -> int:
    """Until the code on the screen changes."""
    return STEP - int(at.timestamp()) % STEP


def normalise(code: str) -> str:
    """What the learner typed, without spaces or dashes ("123 456", "123-456")."""
    return "".join(ch for ch in code if ch.isalnum()).upper()


def judge(secret: str, code: str, at: datetime) -> Verdict:
    code = normalise(code)
    if not code.isascii():  # compare_digest takes ASCII text only; no code has anything else
        return Verdict.WRONG
    now = step_of(at)
    for step in range(now, now - GRACE_STEPS - 1, -1):
        if hmac.compare_digest(code, code_for(secret, step)):
            return Verdict.CURRENT
    for step in range(now - GRACE_STEPS - 1, now - RECOGNISED_STEPS - 1, -1):
        if hmac.compare_digest(code, code_for(secret, step)):
            return Verdict.EXPIRED
    return Verdict.WRONG
