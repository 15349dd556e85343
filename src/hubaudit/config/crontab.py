"""Checking a five-field crontab line without importing the scheduler (a config read is fast).

The syntax is the one APScheduler's ``CronTrigger.from_crontab`` accepts, which runs the line
later: ``*``, ``*/n``, ``a``, ``a-b``, ``a-b/n`` and ``a/n`` in every field, separated by commas;
month names (``jan``) in the month field, weekday names (``mon-fri``) in the weekday field, and
``last`` in the day field. A test holds this check to APScheduler's.
"""

from __future__ import annotations

import re

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("weekday", 0, 6))
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ALL = re.compile(r"^\*(?:/(\d+))?$")
_RANGE = re.compile(r"^(\d+)(?:-(\d+))?(?:/(\d+))?$")
_NAMES = re.compile(r"^([a-z]+)(?:-([a-z]+))?$", re.IGNORECASE)


def crontab_problem(line: str) -> str | None:
    """Why ``line`` is not a crontab line, or ``None`` when it is one."""
    fields = line.split()
    if len(fields) != len(_FIELDS):
        return f"wrong number of fields; got {len(fields)}, expected 5"
    for text, (name, low, high) in zip(fields, _FIELDS, strict=True):
        for part in text.split(","):
            problem = _part_problem(part.strip(), name, low, high)
            if problem:
                return f"{name} field {text!r}: {problem}"
    return None


def _part_problem(part: str, name: str, low: int, high: int) -> str | None:
    every = _ALL.match(part)
    if every:
        return _step_problem(every.group(1), high - low)
    numbers = _RANGE.match(part)
    if numbers:
        first = int(numbers.group(1))
        last = int(numbers.group(2)) if numbers.group(2) is not None else None
        if not low <= first <= high or (last is not None and not low <= last <= high):
            return f"values run from {low} to {high}"
        if last is not None and first > last:
            return "a range must not start above its end"
        return _step_problem(numbers.group(3), (high if last is None else last) - first)
    names = _NAMES.match(part)
    known = {"month": _MONTHS, "weekday": _WEEKDAYS}.get(name)
    if names and known:
        first_name, last_name = (names.group(1).lower(), (names.group(2) or "").lower())
        if first_name not in known or (last_name and last_name not in known):
            return f"names are {', '.join(known)}"
        if last_name and known.index(first_name) > known.index(last_name):
            return "a range must not start above its end"
        return None
    if name == "day" and part.lower() == "last":
        return None
    return "not a value, range, step or name"


def _step_problem(step: str | None, span: int) -> str | None:
    if step is None:
        return None
    if int(step) == 0:
        return "a step must be higher than 0"
    if int(step) > span:
        return f"the step {step} is larger than the range ({span})"
    return None
