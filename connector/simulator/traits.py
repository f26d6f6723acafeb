"""Traits fixed when a generated loop is planned, shared by planner and renderer."""

from __future__ import annotations

from enum import IntEnum, IntFlag


class LoopFlag(IntFlag):
    """Traits of a loop fixed when it is planned."""

    NONE = 0
    DUAL = 1  # both sides represented by the brokerage, both splits filled
    NO_PROFILE_ID = 2  # the list item leaves out profileId
    NO_CLOSING_DATE = 4  # closed but nobody filled the Closing Date
    REFERRAL_ONLY = 8  # the brokerage earned a referral fee, no sale price
    CONTRACT_SHOWN = 16  # the Contract Dates section is filled in


class Stream(IntEnum):
    """Per-loop random streams, one per thing rendered, so that rendering the
    participants never shifts the details (or the reverse)."""

    IDENTITY = 0
    SUMMARY = 1
    DETAILS = 2
    PARTICIPANTS = 3
