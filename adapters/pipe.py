"""Work done in a second process, its results sent back through a pipe.

    with Child("adapters.bank.background", [path]) as child:   # runs its _serve(argv)
        for message in child: ...

On a two-core machine a large import reads its files in one process while the
other writes to the database.  The child is a fresh interpreter running
``module._serve(argv)`` (not multiprocessing: its "spawn" re-imports the caller's
main module, and "fork" would copy the database driver's threads' locks).

Messages go down the child's standard output, each an 8-byte length and a
pickle; ``serve`` sends what its work sends, then None at the end, or a str
with the traceback if it failed (``Child`` raises it).  The pipe holds 64 KiB, so
the child is never more than a message or two ahead of its reader and memory
stays bounded however large the file.  The parent may say one line to the child
on its standard input (``tell``), once.
"""

from __future__ import annotations

import gc
import os
import pickle
import struct
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Self

_FRAME = struct.Struct("<Q")
_CHILD = "import sys, importlib; sys.path.insert(0, sys.argv[1]); importlib.import_module(sys.argv[2])._serve(sys.argv[3:])"  # noqa: E501


Work = Callable[[Callable[[], str], Callable[[object], None]], None]


def serve(work: Work) -> None:
    """In the child: ``work(ask, send)``, then None is sent to say it is done.

    ``send(message)`` sends a message; ``ask()`` returns the line the parent
    said (``Child.tell``), waiting for it.
    """
    # The child's state only grows and makes no reference cycles: the cyclic GC
    # would only re-scan it ever more often.
    gc.disable()
    out = sys.stdout.fileno()
    sys.stdout = sys.stderr  # a stray print() must not break the messages

    def ask() -> str:
        return sys.stdin.readline().strip()

    def send(message: object) -> None:
        blob = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        write_all(out, _FRAME.pack(len(blob)) + blob)

    try:
        work(ask, send)
        send(None)
    except BrokenPipeError:
        pass  # the parent stopped listening: nothing to say
    except BaseException:  # reported to the parent, which raises it
        send(traceback.format_exc())


def write_all(fd: int, data: bytes) -> None:
    """``data`` down the pipe ``fd``, whole, however many writes it takes.

    Not ``sys.stdout.buffer.write``: a write to a full pipe that a stop signal
    interrupts (Ctrl-Z, a debugger or profiler attaching, a cgroup freezer)
    returns having written part of the data, and through Python 3.11's
    BufferedWriter the reader then read corrupt messages (reproduced by stopping
    and continuing a child while it sent 700 KB messages; a test does it).  Each
    ``os.write`` here says how much it wrote, and the rest follows.
    """
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class Child:
    """A child process running ``module._serve(args)``, read message by message."""

    def __init__(
        self, module: str, args: Iterable[str], what: str = "reading process", failed: str = ""
    ) -> None:
        """``what`` the process is, and what its failure says (``failed``), in errors."""
        root = Path(__file__).resolve().parents[1]  # the folder holding ``adapters``
        self.what = what
        self.failed = failed or f"the {what} failed"
        self._process = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(root), module, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._told = False

    def tell(self, line: str) -> None:
        """Say ``line`` to the child (once; later calls are ignored)."""
        if self._told:
            return
        self._told = True
        stdin = self._process.stdin
        if stdin is not None:
            try:
                stdin.write(f"{line}\n".encode())
                stdin.close()
            except BrokenPipeError:
                pass  # the process has ended; reading its output says why

    def receive(self) -> bytes:
        """The next message, still pickled.

        Only reads the pipe: a caller on an event loop runs this in a thread
        (``asyncio.to_thread``) and unpickles with ``load``.
        """
        stream = self._process.stdout
        if stream is None:
            raise RuntimeError(f"the {self.what} has no output")
        head = stream.read(_FRAME.size)
        if len(head) < _FRAME.size:
            code = self._process.wait()
            raise RuntimeError(f"the {self.what} stopped (exit code {code})")
        (length,) = _FRAME.unpack(head)
        return stream.read(length)

    def load(self, blob: bytes) -> object:
        """A received message unpickled (None: the child is done); a traceback
        the child sent is raised here."""
        message = pickle.loads(blob)
        if isinstance(message, str):
            raise RuntimeError(f"{self.failed}:\n{message}")
        return message

    def __iter__(self) -> Iterator[object]:
        while (message := self.load(self.receive())) is not None:
            yield message

    def close(self) -> None:
        if self._process.stdin is not None and not self._process.stdin.closed:
            self._process.stdin.close()
        if self._process.stdout is not None:
            self._process.stdout.close()
        if self._process.poll() is None:
            self._process.terminate()
        self._process.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
