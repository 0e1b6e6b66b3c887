"""A recommender whose spawned batch worker dies halfway through handing back its first
answer: for the test that such a death ends the batch with an error instead of a hang."""

from __future__ import annotations

import os
from multiprocessing import connection
from typing import Any

from kundskab.reasoning.recommendation import Recommender


def _rebuild() -> Recommender:
    """Runs in the worker as it unpickles its recommender: from now on, the first message
    longer than a pipe holds is cut off in the middle and the process dies."""
    send_bytes = connection.Connection._send_bytes

    def half_then_die(self: Any, buf: Any) -> None:
        data = bytes(buf)
        if len(data) > 1 << 16:
            view = memoryview(len(data).to_bytes(4, "big") + data[: len(data) // 2])
            while view:
                view = view[os.write(self.fileno(), view):]
            os._exit(9)
        send_bytes(self, buf)

    connection.Connection._send_bytes = half_then_die  # type: ignore[attr-defined]
    return Recommender()


class DiesHalfwayThroughAnAnswer(Recommender):
    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, ()
