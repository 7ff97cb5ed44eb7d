"""Prefect 1.4.1's own schedules, made to run on the pendulum installed beside it."""

from __future__ import annotations

import pendulum
import pytest


@pytest.fixture(autouse=True)
def prefect_cron_clocks_on_pendulum_3(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prefect 1.4.1's ``CronClock.events`` asserts on ``pendulum.tz._Timezone``, which
    pendulum 3 (installed with it here) calls ``Timezone``."""
    monkeypatch.setattr(pendulum.tz, "_Timezone", pendulum.tz.Timezone, raising=False)
