"""Serialized Prefect 1.x schedules: the server's ``next`` times against Prefect 1.4.1's own."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pendulum
import pytest
from dateutil import rrule
from hypothesis import HealthCheck, given, settings, strategies as st
from prefect.schedules import Schedule, adjustments, filters
from prefect.schedules.clocks import Clock, CronClock, DatesClock, IntervalClock, RRuleClock
from prefect.serialization.schedule import ScheduleSchema

from prefect_gql.server._schedules import ScheduleError, parse_schedule

from .prefect_clocks import prefect_cron_clocks_on_pendulum_3

__all__ = ["prefect_cron_clocks_on_pendulum_3"]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
AFTER = pendulum.datetime(2026, 3, 7, 12, 30, tz="UTC")


def serialized(schedule: Schedule) -> dict[str, Any]:
    dumped: dict[str, Any] = ScheduleSchema().dump(schedule)
    return dumped


def theirs(schedule: Schedule, n: int, after: datetime) -> list[tuple[str, Any, Any]]:
    events: list[Any] = schedule.next(n, after=after, return_events=True)
    return [(e.start_time.isoformat(), e.parameter_defaults, e.labels) for e in events]


def ours(schedule: Schedule, n: int, after: datetime) -> list[tuple[str, Any, Any]]:
    events = parse_schedule(serialized(schedule)).next(n, after=after)
    return [(e.start_time.isoformat(), dict(e.parameter_defaults), e.labels) for e in events]


def assert_same_next(schedule: Schedule, n: int = 10, after: datetime = AFTER) -> None:
    assert ours(schedule, n, after) == theirs(schedule, n, after)


def test_every_clock_type_with_parameters_labels_and_dates() -> None:
    start = pendulum.datetime(2026, 1, 1, 9, tz="Europe/Berlin")
    assert_same_next(
        Schedule(
            clocks=[
                IntervalClock(timedelta(hours=5), start_date=start, parameter_defaults={"x": 1}),
                CronClock("15 */3 * * 1-5", labels=["eu"], end_date=start.add(months=4)),
                DatesClock([pendulum.datetime(2026, 3, 8, tz="Asia/Tokyo")], labels=[]),
                RRuleClock(rrule.rrule(rrule.WEEKLY, dtstart=datetime(2026, 1, 2), byhour=7)),
            ]
        ),
        n=30,
    )


def test_filters_and_adjustments() -> None:
    assert_same_next(
        Schedule(
            clocks=[IntervalClock(timedelta(hours=1), start_date=pendulum.datetime(2026, 1, 1))],
            filters=[filters.between_times(time(9), time(17)), filters.is_weekday],
            or_filters=[filters.is_month_end, filters.between_dates(3, 9, 3, 10)],
            not_filters=[filters.at_time(time(12))],
            adjustments=[adjustments.add(timedelta(minutes=5)), adjustments.next_weekday],
        ),
        n=20,
    )
    assert_same_next(
        Schedule(
            clocks=[CronClock("0 0 * * *")],
            filters=[filters.is_month_start],
            not_filters=[filters.on_date(5, 1), filters.is_day_of_week(6)],
            adjustments=[adjustments.next_weekday],
        ),
        n=12,
    )
    assert_same_next(
        Schedule(
            clocks=[CronClock("30 6 * * *")],
            filters=[
                filters.between_datetimes(
                    pendulum.datetime(2026, 4, 1), pendulum.datetime(2027, 1, 1)
                ),
                filters.is_weekend,
            ],
            or_filters=[filters.between_dates(11, 1, 2, 28)],
        )
    )


def test_rrule_sets_and_clock_bounds() -> None:
    rules = rrule.rruleset()
    rules.rrule(rrule.rrule(rrule.DAILY, dtstart=datetime(2026, 3, 1, 8, tzinfo=UTC), count=40))
    rules.exdate(datetime(2026, 3, 9, 8, tzinfo=UTC))
    rules.rdate(datetime(2026, 3, 10, 23, tzinfo=UTC))
    assert_same_next(Schedule(clocks=[RRuleClock(rules)]), n=10)
    bounded = RRuleClock(
        rrule.rrule(rrule.HOURLY, dtstart=datetime(2026, 3, 1, tzinfo=UTC), interval=7),
        start_date=pendulum.datetime(2026, 3, 8),
        end_date=pendulum.datetime(2026, 3, 9),
    )
    assert_same_next(Schedule(clocks=[bounded]), n=10)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"])
def test_daylight_saving_changes(zone: str) -> None:
    start = pendulum.datetime(2026, 1, 1, 1, 30, tz=zone)
    for after in (pendulum.datetime(2026, 3, 7, tz=zone), pendulum.datetime(2026, 10, 24, tz=zone)):
        assert_same_next(
            Schedule(clocks=[IntervalClock(timedelta(days=1), start_date=start)]), 5, after
        )
        assert_same_next(
            Schedule(clocks=[IntervalClock(timedelta(hours=1), start_date=start)]), 30, after
        )
        assert_same_next(
            Schedule(clocks=[CronClock("30 1,2,3 * * *", start_date=start)]), 12, after
        )


moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)
pytz_moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2036, 12, 1), timezones=st.just(UTC)
)
"""Prefect's cron clocks go through pytz, whose zone tables stop at 2037 (no daylight
saving after it): later dates would test pytz's limit, not the schedule."""


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    minutes=st.integers(min_value=1, max_value=60 * 24 * 40),
    start=moments,
    zone=st.sampled_from(ZONES),
    after=moments,
)
def test_interval_clocks_match_prefect(
    minutes: int, start: datetime, zone: str, after: datetime
) -> None:
    clock = IntervalClock(
        timedelta(minutes=minutes), start_date=pendulum.instance(start).in_tz(zone)
    )
    assert_same_next(Schedule(clocks=[clock]), 5, pendulum.instance(after))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    minute=st.sampled_from(["0", "*/15", "5,35", "*"]),
    hour=st.sampled_from(["*", "0", "2", "9-17", "*/6"]),
    day=st.sampled_from(["*", "1", "15,31"]),
    weekday=st.sampled_from(["*", "1-5", "0"]),
    start=st.none() | pytz_moments,
    zone=st.sampled_from(ZONES),
    after=pytz_moments,
)
def test_cron_clocks_match_prefect(
    minute: str,
    hour: str,
    day: str,
    weekday: str,
    start: datetime | None,
    zone: str,
    after: datetime,
) -> None:
    cron = f"{minute} {hour} {day} * {weekday}"
    start_date = pendulum.instance(start).in_tz(zone) if start is not None else None
    clock = CronClock(cron, start_date=start_date)  # type: ignore[arg-type]
    assert_same_next(Schedule(clocks=[clock]), 5, pendulum.instance(after))


def test_without_after_the_next_events_follow_now() -> None:
    now = datetime(2026, 5, 5, 10, 7, tzinfo=UTC)
    schedule = parse_schedule(serialized(Schedule(clocks=[IntervalClock(timedelta(minutes=10))])))
    assert [e.start_time for e in schedule.next(2, now=now)] == [
        datetime(2026, 5, 5, 10, 10, tzinfo=UTC),
        datetime(2026, 5, 5, 10, 20, tzinfo=UTC),
    ]


def _clock_json(clock: Clock) -> dict[str, Any]:
    clock_json: dict[str, Any] = serialized(Schedule(clocks=[clock]))["clocks"][0]
    return clock_json


MARS = {"dt": "2026-01-01T00:00:00", "tz": "Mars/Olympus"}
BAD_RRULE = {"type": "rrule", "rr": "RRULE:FREQ=SOMETIMES"}
HOLIDAYS = {"fn": "my_module.is_holiday", "kwargs": {}}
A_FILTER = {"fn": "prefect.schedules.filters.is_weekday"}


@pytest.mark.parametrize(
    ("schedule", "named"),
    [
        ({"clocks": [{"type": "SolarClock"}]}, "'SolarClock'"),
        ({"clocks": [{"type": "IntervalClock", "interval": 30_000_000}]}, "less than one minute"),
        ({"clocks": [{"type": "CronClock", "cron": "every day"}]}, "'every day'"),
        ({"clocks": [], "filters": [HOLIDAYS]}, "'my_module.is_holiday'"),
        ({"clocks": [], "adjustments": [A_FILTER]}, "adjustment"),
        ({"clocks": [{"type": "RRuleClock", "rrule_obj": BAD_RRULE}]}, "rrule"),
        ({"clocks": [{**_clock_json(CronClock("* * * * *")), "start_date": MARS}]}, "Mars/Olympus"),
        ({"clocks": [{"type": "DatesClock", "dates": []}]}, "DatesClock"),
        ("every hour", "JSON object"),
    ],
)
def test_what_the_server_cannot_run_is_refused_by_name(schedule: Any, named: str) -> None:
    with pytest.raises(ScheduleError, match="unsupported schedule") as refused:
        parse_schedule(schedule)
    assert named in str(refused.value)
    assert refused.value.code == "BAD_USER_INPUT"
