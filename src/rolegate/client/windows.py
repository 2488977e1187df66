"""When cached credentials must be replaced: botocore's advisory and mandatory refresh windows, seen from the
side that produces credentials.

SDKs refresh credentials from a process or a container endpoint 15 minutes before expiry (advisory) and refuse
credentials with less than 10 minutes left (mandatory). So what we hand out keeps at least 10 minutes plus a
minute of margin (our mandatory window), and we try to renew from 15 minutes before expiry (our advisory
window). For short sessions (900 s is the minimum) a fixed 15-minute advisory window would mean "always
renew", so it shrinks to halfway between the mandatory window and the session's lifetime.
"""

from __future__ import annotations

import enum
from datetime import datetime

from rolegate.client.model import RoleSession

SDK_MANDATORY_SECONDS = 10 * 60
MANDATORY_SECONDS = SDK_MANDATORY_SECONDS + 60
ADVISORY_SECONDS = 15 * 60


class Freshness(enum.Enum):
    FRESH = "fresh"  # use as is
    ADVISORY = "advisory"  # renew if possible, else keep using
    MANDATORY = "mandatory"  # renew; unusable for SDKs


def advisory_seconds(lifetime: float) -> float:
    return max(MANDATORY_SECONDS, min(ADVISORY_SECONDS, (lifetime + MANDATORY_SECONDS) / 2))


def freshness(session: RoleSession, now: datetime) -> Freshness:
    remaining = session.remaining(now)
    if remaining < MANDATORY_SECONDS:
        return Freshness.MANDATORY
    if remaining < advisory_seconds(session.lifetime):
        return Freshness.ADVISORY
    return Freshness.FRESH


def seconds_until_advisory(session: RoleSession, now: datetime) -> float:
    """How long the session stays fresh (0 when it is already in a refresh window)."""
    return max(0.0, session.remaining(now) - advisory_seconds(session.lifetime))
