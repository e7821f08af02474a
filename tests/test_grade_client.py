"""minibert.grade.client (the grader's and scripts/execute_notebooks.py's notebook runner): the kernel client's waits
are sliced, so a message whose wake-up pyzmq's asyncio poll missed is picked up within a second instead of at the end
of the cell's timeout."""
import asyncio
import time
from queue import Empty

import pytest

from minibert.grade import client


class MissedWakeUp:
    """A channel whose message arrived at ``arrives`` but whose poll only notices it when a poll *starts* later:
    an in-progress poll sleeps through to its timeout (the pyzmq behaviour)."""

    def __init__(self, arrives: float):
        self.arrives, self.calls = time.monotonic() + arrives, []

    async def get_msg(self, timeout=None):
        self.calls.append(timeout)
        if time.monotonic() >= self.arrives:
            return {"msg": "reply"}
        if timeout is None:
            await asyncio.sleep(3600)
        await asyncio.sleep(timeout)
        raise Empty


def test_a_missed_wake_up_costs_at_most_a_slice():
    channel = MissedWakeUp(arrives=0.05)
    get = client.sliced_get_msg(channel.get_msg, slice_s=0.1)
    started = time.monotonic()
    assert asyncio.run(get(timeout=30)) == {"msg": "reply"}
    assert time.monotonic() - started < 1.0
    assert all(t is not None and t <= 0.1 for t in channel.calls)


def test_no_timeout_waits_in_slices_until_the_message_comes():
    channel = MissedWakeUp(arrives=0.25)
    get = client.sliced_get_msg(channel.get_msg, slice_s=0.1)
    assert asyncio.run(asyncio.wait_for(get(timeout=None), 5)) == {"msg": "reply"}
    assert len(channel.calls) >= 3 and None not in channel.calls


@pytest.mark.parametrize("timeout", [0, 0.05, 0.25])
def test_the_total_timeout_still_holds(timeout):
    channel = MissedWakeUp(arrives=60)
    get = client.sliced_get_msg(channel.get_msg, slice_s=0.1)
    started = time.monotonic()
    with pytest.raises(Empty):
        asyncio.run(get(timeout=timeout))
    assert timeout <= time.monotonic() - started + 0.02 < timeout + 0.5


def test_the_runner_patches_both_channels():
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    runner = client.notebook_client(nbformat.v4.new_notebook(), timeout=5)
    assert type(runner).__name__ == "SlicedPollClient" and runner.timeout == 5
