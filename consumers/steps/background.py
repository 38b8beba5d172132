"""Background step: the steps after it run on a thread of their own, a bounded amount behind.

The embedded engine inserts without holding the GIL, so with the write on its own thread the
consumer's thread goes on decoding and evaluating while the last batch is being stored. Offsets
still move only after their write: the commit step runs behind the write step, on that thread.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from consumers.messages import Message, Step

T = TypeVar("T")


def _one(message: Message[Any]) -> int:
    return 1


class BackgroundStep(Generic[T]):
    """Holds at most `capacity` (in `size` units, one per message by default) before `submit` waits.

    A message larger than the capacity is taken when nothing else is held. An error behind it is
    raised on the caller's thread at the next submit, poll or join; after an error nothing more
    is handed on, so no later batch can commit past a failed one. The steps behind it must not
    need `poll` (the write and commit steps do nothing there).
    """

    def __init__(self, next_step: Step[T], capacity: int = 2, name: str = "kansa-writer",
                 size: Callable[[Message[T]], int] = _one) -> None:
        self._next = next_step
        self._capacity = capacity
        self._size = size
        self._pending: deque[tuple[Message[T], int] | None] = deque()
        self._held = 0  # size of what is queued or in hand behind
        self._changed = threading.Condition()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, message: Message[T]) -> None:
        self._raise_error()
        size = self._size(message)
        with self._changed:
            while self._held and self._held + size > self._capacity:
                self._changed.wait()
            self._pending.append((message, size))
            self._held += size
            self._changed.notify_all()

    def poll(self) -> None:
        self._raise_error()

    def join(self) -> None:
        """Returns once everything handed on has been handled behind it."""
        with self._changed:
            while self._held:
                self._changed.wait()
        self._raise_error()
        self._next.join()

    def close(self) -> None:
        """Stop the thread after what is queued; a closed step takes nothing more."""
        with self._changed:
            self._pending.append(None)
            self._changed.notify_all()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._pending:
                    self._changed.wait()
                entry = self._pending.popleft()
            if entry is None:
                return
            message, size = entry
            try:
                if self._error is None:
                    self._next.submit(message)
            except BaseException as exc:  # handed to the consumer's thread, which decides
                self._error = exc
            finally:
                with self._changed:
                    self._held -= size
                    self._changed.notify_all()

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error
