"""The floor: the least a Temporal workflow costs on this machine.

A minimal workflow that does what an incident must at least do: start, run one
activity that writes a file, then wait for an update or a timer. The benchmark
compares the product against it on the same dev server.

Run as a worker: ``python -m bench.floor ADDRESS TASK_QUEUE FOLDER``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker


@activity.defn(name="floor_write")
async def floor_write(path: str) -> None:
    Path(path).write_text("paged")


@workflow.defn(name="FloorWorkflow")
class FloorWorkflow:
    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self, path: str) -> None:
        await workflow.execute_activity(floor_write, path, start_to_close_timeout=timedelta(seconds=30))
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: self.done, timeout=timedelta(minutes=10))

    @workflow.update
    def ack(self) -> bool:
        self.done = True
        return True


async def main(address: str, task_queue: str) -> None:
    client = await Client.connect(address)
    async with Worker(client, task_queue=task_queue, workflows=[FloorWorkflow], activities=[floor_write]):
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
