"""Background step: the steps after it run on a thread of their own, at most `depth` messages behind.

The embedded engine inserts without holding the GIL, so with the write on its own thread the
consumer's thread goes on decoding and evaluating while the last batch is being stored. Offsets
still move only after their write: the commit step runs behind the write step, on that thread.
"""

from __future__ import annotations

import queue
import threading
from typing import Generic, TypeVar

from consumers.messages import Message, Step

T = TypeVar("T")


class BackgroundStep(Generic[T]):
    """An error behind it is raised on the caller's thread at the next submit, poll or join.

    After an error nothing more is handed on, so no later batch can commit past a failed one.
    The steps behind it must not need `poll` (the write and commit steps do nothing there).
    """

    def __init__(self, next_step: Step[T], depth: int = 2, name: str = "kansa-writer") -> None:
        self._next = next_step
        self._queue: queue.Queue[Message[T] | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, message: Message[T]) -> None:
        self._raise_error()
        self._queue.put(message)

    def poll(self) -> None:
        self._raise_error()

    def join(self) -> None:
        """Returns once everything handed on has been handled behind it."""
        self._queue.join()
        self._raise_error()
        self._next.join()

    def close(self) -> None:
        """Stop the thread after what is queued; a closed step takes nothing more."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            message = self._queue.get()
            try:
                if message is None:
                    return
                if self._error is None:
                    self._next.submit(message)
            except BaseException as exc:  # handed to the consumer's thread, which decides
                self._error = exc
            finally:
                self._queue.task_done()

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error
