"""Prefect 1.x schedules, read from their serialized JSON (``ScheduleSchema``).

A schedule's clocks (``IntervalClock``, ``CronClock``, ``DatesClock``, ``RRuleClock``)
emit events; events that pass the ``filters`` (all), ``or_filters`` (any) and
``not_filters`` (none) are moved by the ``adjustments``; ``next(n)`` gives the first
``n``, as Prefect's ``Schedule.next(n, return_events=True)`` does, with each clock's
``parameter_defaults`` and ``labels``. Times keep the time zone of the clock's start
date (UTC without one); daylight-saving rules follow Prefect's: a wall-clock step of
a day or more stays at the same local time, shorter steps are absolute.

Anything the server cannot reproduce (an unknown clock type, filter or adjustment, an
interval under a minute, an unreadable cron or rrule) is refused by
``parse_schedule`` with a ``BAD_USER_INPUT`` error that names it. Prefect itself is
never imported: croniter and python-dateutil do the calendar work.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, timezone, tzinfo
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from dateutil import rrule

from ._errors import APIError

__all__ = ["ClockEvent", "Schedule", "ScheduleError", "check_schedule", "parse_schedule"]

MAX_CHECKED_EVENTS = 10_000
"""``Schedule.next`` gives up after this many candidate events, as Prefect's does."""
MAX_CRON_ITERATIONS = 1000
DEFAULT_INTERVAL_START = datetime(2019, 1, 1, tzinfo=UTC)
DEFAULT_RRULE_START = datetime(2018, 6, 20, tzinfo=UTC)
MIN_INTERVAL = timedelta(minutes=1)

Filter = Callable[[datetime], bool]
Adjustment = Callable[[datetime], datetime]


class ScheduleError(APIError):
    """A serialized schedule this server cannot read or reproduce (``BAD_USER_INPUT``)."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"unsupported schedule: {problem}")


@dataclass(frozen=True)
class ClockEvent:
    """One time a schedule fires, with what its clock gives the run."""

    start_time: datetime
    parameter_defaults: Mapping[str, Any] = field(default_factory=dict)
    labels: list[str] | None = None


# -- time arithmetic as Prefect's (pendulum's) -----------------------------------------


def _localize(naive: datetime, zone: tzinfo | None) -> datetime:
    """A wall-clock time in ``zone``; a time skipped by a DST change moves forward,
    an ambiguous one takes its later instance (pendulum's ``POST_TRANSITION``)."""
    if zone is None or zone is UTC:
        return naive.replace(tzinfo=zone or UTC)
    later = naive.replace(tzinfo=zone, fold=1)
    earlier = naive.replace(tzinfo=zone, fold=0)
    if later.utcoffset() == earlier.utcoffset():
        return earlier
    if _round_trips(earlier) and _round_trips(later):
        return later
    return earlier.astimezone(UTC).astimezone(zone)


def _round_trips(moment: datetime) -> bool:
    return moment.astimezone(UTC).astimezone(moment.tzinfo).replace(tzinfo=None, fold=0) == (
        moment.replace(tzinfo=None, fold=0)
    )


def _add(moment: datetime, delta: timedelta) -> datetime:
    """pendulum's ``moment + delta`` (and ``add(days=..., seconds=...)``): with whole
    days, the step is taken on the wall clock; without, it is absolute."""
    if delta.days:
        naive = moment.replace(tzinfo=None) + delta
        return _localize(naive, moment.tzinfo)
    return (moment.astimezone(UTC) + delta).astimezone(moment.tzinfo)


# -- reading serialized values ----------------------------------------------------------

_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


def _zone(name: Any) -> tzinfo:
    if not isinstance(name, str):
        raise ScheduleError(f"a time zone must be a name, not {name!r}")
    if name.upper() in {"UTC", "Z"}:
        return UTC
    offset = _OFFSET.match(name)
    if offset:
        sign = -1 if offset.group(1) == "-" else 1
        minutes = int(offset.group(2)) * 60 + int(offset.group(3))
        return timezone(timedelta(minutes=sign * minutes))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ScheduleError(f"unknown time zone {name!r}") from err


def _iso(value: Any, what: str) -> datetime:
    if not isinstance(value, str):
        raise ScheduleError(f"{what} must be an ISO-8601 string, not {value!r}")
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as err:
        raise ScheduleError(f"{what} {value!r} is not an ISO-8601 timestamp") from err


def _datetime_tz(value: Any, what: str) -> datetime | None:
    """Prefect's ``DateTimeTZ``: ``{"dt": naive ISO time, "tz": zone name}``."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or "dt" not in value:
        raise ScheduleError(f"{what} must be {{'dt': ..., 'tz': ...}}, not {value!r}")
    moment = _iso(value["dt"], what)
    zone = _zone(value.get("tz") or "UTC")
    if moment.tzinfo is not None:
        return moment.astimezone(zone)
    return _localize(moment, zone)


def _aware(moment: datetime) -> datetime:
    """pendulum's reading of a time without an offset: UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _labels(value: Any, what: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(label, str) for label in value):
        raise ScheduleError(f"{what} labels must be a list of strings")
    return list(value)


def _parameter_defaults(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ScheduleError(f"{what} parameter_defaults must be a JSON object")
    return dict(value)


# -- clocks -----------------------------------------------------------------------------


@dataclass
class Clock:
    start_date: datetime | None
    end_date: datetime | None
    parameter_defaults: dict[str, Any]
    labels: list[str] | None

    def events(self, after: datetime | None, now: datetime) -> Iterator[ClockEvent]:
        raise NotImplementedError

    def _event(self, start_time: datetime) -> ClockEvent:
        return ClockEvent(start_time, self.parameter_defaults, self.labels)

    def _ended(self, moment: datetime) -> bool:
        return self.end_date is not None and moment > self.end_date


@dataclass
class IntervalClock(Clock):
    interval: timedelta = MIN_INTERVAL

    def events(self, after: datetime | None, now: datetime) -> Iterator[ClockEvent]:
        after = _aware(after) if after is not None else now
        start = self.start_date or DEFAULT_INTERVAL_START
        skip = (after - start).total_seconds() / self.interval.total_seconds()
        if skip < 0:
            skip = 0
        elif int(skip) == skip:
            skip += 1
        else:
            skip = int(skip + 1)
        offset = self.interval * skip
        while True:
            next_date = _add(start, offset)
            if next_date < after:
                offset += self.interval
                continue
            if self._ended(next_date):
                return
            yield self._event(next_date)
            offset += self.interval


@dataclass
class CronClock(Clock):
    cron: str = "* * * * *"
    day_or: bool = True

    def events(self, after: datetime | None, now: datetime) -> Iterator[ClockEvent]:
        zone = self.start_date.tzinfo if self.start_date is not None else UTC
        after = (_aware(after) if after is not None else now).astimezone(zone)
        if self.start_date is not None:
            after = max(after, self.start_date - timedelta(seconds=1))
        begin = after
        if begin.microsecond:
            begin = begin.replace(microsecond=0) + timedelta(seconds=1)
        cron = croniter(self.cron, begin, day_or=self.day_or)
        seen: set[datetime] = set()
        for _ in range(MAX_CRON_ITERATIONS):
            next_date = cron.get_next(datetime)
            stuck = 0
            while next_date == after or next_date in seen:
                next_date = cron.get_next(datetime)
                stuck += 1
                if stuck == 3:
                    cron = croniter(self.cron, next_date, day_or=self.day_or)
                    next_date = cron.get_next(datetime)
                    if next_date in seen:
                        return
            if self._ended(next_date):
                return
            seen.add(next_date)
            yield self._event(next_date)


@dataclass
class DatesClock(Clock):
    dates: list[datetime] = field(default_factory=list)

    def events(self, after: datetime | None, now: datetime) -> Iterator[ClockEvent]:
        after = _aware(after) if after is not None else now
        for moment in sorted(self.dates):
            if moment > after:
                yield self._event(moment)


@dataclass
class RRuleClock(Clock):
    rule: rrule.rrulebase | None = None

    def events(self, after: datetime | None, now: datetime) -> Iterator[ClockEvent]:
        assert self.rule is not None, "parse_schedule sets the rule"
        include_after = after is None
        moment = now if after is None else after
        if self.start_date is not None and moment < self.start_date:
            moment = self.start_date
            include_after = True
        first: datetime = next(iter(self.rule), moment)
        if moment.tzinfo is not None and first.tzinfo is None:
            moment = moment.replace(tzinfo=None)
        if moment.tzinfo is None and first.tzinfo is not None:
            moment = moment.replace(tzinfo=first.tzinfo)
        for found in self.rule.xafter(moment, inc=include_after):
            start = _aware(found)
            if self._ended(start):
                return
            yield self._event(start)


class _Common(NamedTuple):
    parameter_defaults: dict[str, Any]
    labels: list[str] | None


def _clock(serialized: Any, index: int) -> Clock:
    what = f"clock {index}"
    if not isinstance(serialized, Mapping):
        raise ScheduleError(f"{what} must be a JSON object")
    kind = serialized.get("type")
    common = _Common(
        _parameter_defaults(serialized.get("parameter_defaults"), what),
        _labels(serialized.get("labels"), what),
    )
    if kind == "DatesClock":
        dates = serialized.get("dates")
        if not isinstance(dates, list) or not dates:
            raise ScheduleError(f"{what}: a DatesClock needs a non-empty list of dates")
        moments = [_datetime_tz(d, f"{what} date") for d in dates]
        checked = [m for m in moments if m is not None]
        if len(checked) != len(moments):
            raise ScheduleError(f"{what}: a DatesClock's dates must not be null")
        return DatesClock(min(checked), max(checked), dates=checked, **common._asdict())
    start = _datetime_tz(serialized.get("start_date"), f"{what} start_date")
    end = _datetime_tz(serialized.get("end_date"), f"{what} end_date")
    if kind == "IntervalClock":
        interval = serialized.get("interval")
        if not isinstance(interval, int | float) or isinstance(interval, bool):
            raise ScheduleError(f"{what}: an IntervalClock's interval must be microseconds")
        step = timedelta(microseconds=interval)
        if step < MIN_INTERVAL:
            raise ScheduleError(f"{what}: an interval can not be less than one minute")
        return IntervalClock(start, end, interval=step, **common._asdict())
    if kind == "CronClock":
        cron = serialized.get("cron")
        if not isinstance(cron, str) or not croniter.is_valid(cron):
            raise ScheduleError(f"{what}: invalid cron string {cron!r}")
        day_or = serialized.get("day_or")
        return CronClock(
            start,
            end,
            cron=cron,
            day_or=True if day_or is None else bool(day_or),
            **common._asdict(),
        )
    if kind == "RRuleClock":
        return RRuleClock(
            start, end, rule=_rrule(serialized.get("rrule_obj"), what), **common._asdict()
        )
    raise ScheduleError(
        f"{what} has type {kind!r}; supported: IntervalClock, CronClock, DatesClock, RRuleClock"
    )


def _rrule(serialized: Any, what: str) -> rrule.rrulebase:
    if not isinstance(serialized, Mapping):
        raise ScheduleError(f"{what}: rrule_obj must be a JSON object")
    kind = serialized.get("type")
    if kind == "rrule":
        return _single_rrule(serialized, what)
    if kind == "rruleset":
        rules = rrule.rruleset()
        for rule in serialized.get("_rrule") or []:
            rules.rrule(_single_rrule(rule, what))
        for moment in serialized.get("_rdate") or []:
            rules.rdate(_iso(moment, f"{what} _rdate"))
        for rule in serialized.get("_exrule") or []:
            rules.exrule(_single_rrule(rule, what))
        for moment in serialized.get("_exdate") or []:
            rules.exdate(_iso(moment, f"{what} _exdate"))
        return rules
    raise ScheduleError(f"{what}: rrule_obj has type {kind!r}; supported: rrule, rruleset")


def _single_rrule(serialized: Any, what: str) -> rrule.rrule:
    if not isinstance(serialized, Mapping) or not isinstance(serialized.get("rr"), str):
        raise ScheduleError(f"{what}: an rrule needs its 'rr' string")
    try:
        rule = rrule.rrulestr(serialized["rr"])
    except (ValueError, TypeError) as err:
        raise ScheduleError(f"{what}: invalid rrule {serialized['rr']!r}: {err}") from err
    if not isinstance(rule, rrule.rrule):
        raise ScheduleError(f"{what}: 'rr' must hold one rule")
    dtstart = serialized.get("_dtstart")
    changes: dict[str, Any] = {
        "dtstart": DEFAULT_RRULE_START if dtstart is None else _iso(dtstart, f"{what} _dtstart")
    }
    if "_until" in serialized:
        until = serialized["_until"]
        changes["until"] = None if until is None else _iso(until, f"{what} _until")
    try:
        replaced: rrule.rrule = rule.replace(**changes)
    except (ValueError, TypeError) as err:
        raise ScheduleError(f"{what}: invalid rrule dates: {err}") from err
    return replaced


# -- filters and adjustments ------------------------------------------------------------


def _kwarg(value: Any) -> Any:
    """A filter's argument as Prefect encodes it (``//datetime:``, ``//time:``, ...)."""
    if isinstance(value, str):
        if value.startswith("//datetime:"):
            return _aware(_iso(value.split("//datetime:", 1)[1], "a filter's datetime"))
        if value.startswith("//time:"):
            return time.fromisoformat(value.split("//time:", 1)[1]).replace(tzinfo=None)
        if value.startswith("//timedelta:"):
            return timedelta(seconds=float(value.split("//timedelta:", 1)[1]))
    return value


def _is_weekday(moment: datetime) -> bool:
    return moment.weekday() < 5


def _between_dates(start_month: int, start_day: int, end_month: int, end_day: int) -> Filter:
    def check(moment: datetime) -> bool:
        day = (moment.month, moment.day)
        if start_month <= end_month:
            return (start_month, start_day) <= day <= (end_month, end_day)
        return day >= (start_month, start_day) or day <= (end_month, end_day)

    return check


def _between_times(start: time, end: time) -> Filter:
    def check(moment: datetime) -> bool:
        clock = moment.time()
        if start <= end:
            return start <= clock <= end
        return clock >= start or clock <= end

    return check


def _next_weekday(moment: datetime) -> datetime:
    while not _is_weekday(moment):
        moment = _add(moment, timedelta(days=1))
    return moment


_FILTERS: dict[str, Callable[..., Filter]] = {
    "on_datetime": lambda dt: lambda moment: moment == dt,
    "on_date": lambda month, day: lambda moment: (moment.month, moment.day) == (month, day),
    "at_time": lambda t: lambda moment: moment.time() == t,
    "between_datetimes": lambda start, end: lambda moment: start <= moment <= end,
    "between_dates": _between_dates,
    "between_times": _between_times,
    "is_weekday": lambda: _is_weekday,
    "is_weekend": lambda: lambda moment: moment.weekday() > 4,
    "is_month_end": lambda: lambda moment: moment.month != _add(moment, timedelta(days=1)).month,
    "is_month_start": lambda: lambda moment: moment.day == 1,
    "is_day_of_week": lambda day_of_week: lambda moment: moment.weekday() == day_of_week,
}
_ADJUSTMENTS: dict[str, Callable[..., Adjustment]] = {
    "add": lambda interval: lambda moment: _add(moment, interval),
    "next_weekday": lambda: _next_weekday,
}


def _function(
    serialized: Any, module: str, known: Mapping[str, Callable[..., Any]], what: str
) -> Any:
    if serialized is None:
        return None
    name = serialized.get("fn") if isinstance(serialized, Mapping) else serialized
    prefix = f"prefect.schedules.{module}."
    short = name.removeprefix(prefix) if isinstance(name, str) else None
    if short is None or short not in known or short == name:
        raise ScheduleError(
            f"{what} {name!r} is not supported; supported: "
            + ", ".join(f"prefect.schedules.{module}.{n}" for n in known)
        )
    kwargs = serialized.get("kwargs") if isinstance(serialized, Mapping) else None
    arguments = {key: _kwarg(value) for key, value in (kwargs or {}).items()}
    try:
        return known[short](**arguments)
    except TypeError as err:
        raise ScheduleError(f"{what} {name!r} got arguments it does not take: {err}") from err


# -- schedules --------------------------------------------------------------------------


@dataclass
class Schedule:
    clocks: list[Clock]
    filters: list[Filter] = field(default_factory=list)
    or_filters: list[Filter] = field(default_factory=list)
    not_filters: list[Filter] = field(default_factory=list)
    adjustments: list[Adjustment] = field(default_factory=list)

    def next(
        self, n: int, *, after: datetime | None = None, now: datetime | None = None
    ) -> list[ClockEvent]:
        """The next ``n`` events after ``after`` (default ``now``, default the current time)."""
        current = now or datetime.now(UTC)
        events: list[ClockEvent] = []
        checked = 0
        previous: ClockEvent | None = None
        merged = heapq.merge(
            *(clock.events(after, current) for clock in self.clocks),
            key=lambda event: event.start_time,
        )
        for event in merged:
            if previous is not None and event == previous:
                continue
            previous = event
            checked += 1
            if self._passes(event.start_time):
                moment = event.start_time
                for adjust in self.adjustments:
                    moment = adjust(moment)
                events.append(ClockEvent(moment, event.parameter_defaults, event.labels))
            if len(events) == n or checked >= MAX_CHECKED_EVENTS:
                break
        return events

    def _passes(self, moment: datetime) -> bool:
        return (
            all(check(moment) for check in self.filters)
            and (any(check(moment) for check in self.or_filters) if self.or_filters else True)
            and not any(check(moment) for check in self.not_filters)
        )


def parse_schedule(serialized: Any) -> Schedule:
    """The schedule a flow was registered with (Prefect's ``ScheduleSchema`` JSON).

    Raises ``ScheduleError`` naming what it cannot read or reproduce.
    """
    if not isinstance(serialized, Mapping):
        raise ScheduleError("a schedule must be a JSON object")
    clocks = serialized.get("clocks")
    if not isinstance(clocks, list):
        raise ScheduleError("a schedule needs a list of clocks")
    lists: dict[str, list[Any]] = {}
    for key, module, known in (
        ("filters", "filters", _FILTERS),
        ("or_filters", "filters", _FILTERS),
        ("not_filters", "filters", _FILTERS),
        ("adjustments", "adjustments", _ADJUSTMENTS),
    ):
        given = serialized.get(key) or []
        if not isinstance(given, list):
            raise ScheduleError(f"{key} must be a list")
        found = [
            _function(item, module, known, key.rstrip("s").replace("_", " ")) for item in given
        ]
        lists[key] = [item for item in found if item is not None]
    return Schedule(
        clocks=[_clock(clock, index) for index, clock in enumerate(clocks)],
        filters=lists["filters"],
        or_filters=lists["or_filters"],
        not_filters=lists["not_filters"],
        adjustments=lists["adjustments"],
    )


def check_schedule(serialized: Any) -> None:
    """Refuses (``ScheduleError``) a schedule the server could not run; ``None`` is none."""
    if serialized is not None:
        parse_schedule(serialized)
