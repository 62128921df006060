"""Service levels: "90 % of residents called within 20 minutes", measured and foreseen.

The share counts today's residents of a line who were called within the target among
those called plus those still waiting past it (they are late already, whenever they
are called). "About to breach": the line meets its target now, but would not if the
residents who pass the target within the next `horizon` minutes (a quarter of the
target, at least two minutes) were counted late too. Residents who left are not
counted either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from nowserving.domain.config import OfficeConfig, ServiceLevel
from nowserving.domain.state import OfficeState, Status

MIN_HORIZON_MIN = 2.0


class Level(StrEnum):
    MET = "met"
    AT_RISK = "at_risk"  # about to breach
    BREACHED = "breached"


@dataclass(frozen=True, slots=True)
class LevelCheck:
    """Where a line stands against its service level."""

    level: Level
    achieved: float  # percent called within the target so far (100 with nobody yet)
    within: int
    late: int  # called late, or waiting past the target now
    soon_late: int  # waiting, and past the target within the horizon

    def sentence(self, target: ServiceLevel, name: str) -> str:
        """For the desk's alert list ("" when the target is met). Without the day's figures,
        which move all the time: the alert changes when the level does, not every minute."""
        goal = f"{target.percent:g} % called within {target.within_minutes:g} min"
        if self.level is Level.BREACHED:
            return f"{name}: service level missed today ({goal})"
        if self.level is Level.AT_RISK:
            return f"{name}: about to miss its service level ({goal})"
        return ""


def horizon(target: ServiceLevel) -> float:
    return max(MIN_HORIZON_MIN, target.within_minutes / 4)


def assess(target: ServiceLevel, called: Iterable[float], waiting: Iterable[float]) -> LevelCheck:
    """`called`: minutes each resident called today waited; `waiting`: minutes each one
    still waiting has waited so far."""
    limit = target.within_minutes
    waits = list(called)
    ages = list(waiting)
    within = sum(1 for w in waits if w <= limit)
    late = len(waits) - within + sum(1 for age in ages if age > limit)
    soon = sum(1 for age in ages if limit - horizon(target) < age <= limit)
    achieved = 100.0 * within / (within + late) if within + late else 100.0
    if achieved < target.percent:
        level = Level.BREACHED
    elif 100.0 * within < target.percent * (within + late + soon):
        level = Level.AT_RISK
    else:
        level = Level.MET
    return LevelCheck(level, achieved, within, late, soon)


def check_line(
    state: OfficeState, config: OfficeConfig, line_id: str, now: int
) -> LevelCheck | None:
    """The line's service level from today's state at `now` (ms); None without a target.

    It reads every ticket of the day: for a periodic check, not for every view.
    """
    target = config.line(line_id).service_level
    if target is None:
        return None
    called: list[float] = []
    waiting: list[float] = []
    for ticket in state.tickets.values():
        if ticket.line != line_id:
            continue
        if ticket.status is Status.WAITING:
            waiting.append(max(0, now - ticket.issued_at) / 60_000)
        elif ticket.called_at is not None and ticket.status is not Status.LEFT:
            called.append(max(0, ticket.called_at - ticket.issued_at) / 60_000)
    return assess(target, called, waiting)
