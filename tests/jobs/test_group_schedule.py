"""The clock's schedule runs the group pass every minute, after the morning and recap passes,
and a failing group pass does not stop the others."""

from __future__ import annotations

from typing import Any

from jobs.app import JOB_ID, build_scheduler


class Pass:
    def __init__(self, log: list[str], name: str, fail: bool = False) -> None:
        self.log, self.name, self.fail = log, name, fail

    async def run_once(self) -> None:
        self.log.append(self.name)
        if self.fail:
            raise RuntimeError("boom")


async def test_each_tick_runs_the_group_pass_after_the_others() -> None:
    ran: list[str] = []
    morning, recaps, groups = (
        Pass(ran, "morning"),
        Pass(ran, "recap", fail=True),
        Pass(ran, "group"),
    )
    scheduler = build_scheduler(morning, recaps, None, groups)  # type: ignore[arg-type]
    job: Any = scheduler.get_job(JOB_ID)
    await job.func()
    await job.func()
    assert ran == ["morning", "recap", "group"] * 2
