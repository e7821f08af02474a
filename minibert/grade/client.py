"""The notebook runner the grader and ``scripts/execute_notebooks.py`` share: nbclient's, with one fix.

The kernel client's channels wait for a message with pyzmq's asyncio ``poll``, which can miss the wake-up of a
message that has already arrived (pyzmq issue 1558) and then reports it only when its timeout runs out. A notebook
then stalls for the whole per-cell timeout with the kernel idle, and, on the output channel (which waits with no
timeout), can lose a cell's outputs. Here every wait is cut into slices of a second: a fresh poll sees the message.
"""
from __future__ import annotations

import time
from queue import Empty

__all__ = ["POLL_SLICE_S", "sliced_get_msg", "notebook_client"]

POLL_SLICE_S = 1.0


def sliced_get_msg(get_msg, slice_s: float = POLL_SLICE_S):
    """``channel.get_msg`` that waits in slices of at most ``slice_s`` seconds, for up to ``timeout`` in all
    (forever when ``timeout`` is None), and raises ``queue.Empty`` when the whole timeout passes."""

    async def get(timeout: float | None = None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return await get_msg(timeout=slice_s if left is None else min(slice_s, left))
            except Empty:
                if left is not None and left <= slice_s:
                    raise

    return get


def notebook_client(notebook, **kwargs):
    """``nbclient.NotebookClient(notebook, **kwargs)`` whose shell and output channels wait in slices."""
    from nbclient import NotebookClient

    class SlicedPollClient(NotebookClient):
        async def async_start_new_kernel_client(self):
            client = await super().async_start_new_kernel_client()
            for channel in (client.shell_channel, client.iopub_channel):
                channel.get_msg = sliced_get_msg(channel.get_msg)
            return client

    return SlicedPollClient(notebook, **kwargs)
