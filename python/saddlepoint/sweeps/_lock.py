"""One sweep process per ``out``: a lock file created atomically (link of a finished temporary
file, which fails if the lock exists) holding the owner's pid, host and start time.

A second process finds the lock and refuses in one line naming the owner. A lock whose owner
is gone (same host, the pid no longer running, or running but started after the lock: a reused
pid) is stale, left by a ``kill -9``: it is taken over.
"""

from __future__ import annotations

import json
import os
import socket
import time
from typing import Any

_GONE: dict[str, Any] = {}  # the lock vanished while being read


class OutInUseError(OSError):
    """Another live process is running a sweep on the same ``out``."""


def _process_start(pid: int) -> float | None:
    """When `pid` started (seconds since the epoch), where /proc tells; else None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/stat") as f:
            boot = next(float(line.split()[1]) for line in f if line.startswith("btime"))
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _alive(holder: dict[str, Any]) -> bool:
    pid = holder.get("pid")
    if holder.get("host") != socket.gethostname() or not isinstance(pid, int):
        return True  # another machine's process: cannot tell, assume it runs
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        pass
    started = _process_start(pid)
    # a pid reused by a process started after the lock was taken is not the owner
    return started is None or started <= float(holder.get("time", 0.0)) + 1.0


class Lock:
    """The lock file `path` guarding `out` (named in every message)."""

    def __init__(self, path: str, out: str) -> None:
        self.path, self.out = path, out
        self.held = False

    def acquire(self) -> None:
        me = {"pid": os.getpid(), "host": socket.gethostname(), "time": time.time()}
        folder = os.path.dirname(self.path) or "."
        tmp = os.path.join(folder, f".{os.path.basename(self.path)}.{os.getpid()}.tmp")
        try:
            with open(tmp, "w") as f:
                json.dump(me, f)
        except OSError as exc:
            raise ValueError(
                f"out: cannot write in {folder!r} for {self.out!r} ({exc.strerror})"
            ) from None
        try:
            for _ in range(3):
                try:
                    os.link(tmp, self.path)  # atomic, and fails if the lock exists
                    self.held = True
                    return
                except FileExistsError:
                    holder = self._holder()
                    if holder is _GONE:  # released meanwhile: try again
                        continue
                    if holder is not None and _alive(holder):
                        raise OutInUseError(
                            f"out: {self.out!r} is in use by another sweep (pid "
                            f"{holder.get('pid')} on {holder.get('host')}, lock {self.path}); "
                            "wait for it to finish or choose another out"
                        ) from None
                    try:  # stale: its process is gone (killed); take it over
                        os.unlink(self.path)
                    except FileNotFoundError:
                        pass
            raise OutInUseError(f"out: {self.out!r}: could not take the lock {self.path}")
        finally:
            os.unlink(tmp)

    def _holder(self) -> dict[str, Any] | None:
        try:
            with open(self.path) as f:
                holder = json.load(f)
            return holder if isinstance(holder, dict) else None
        except FileNotFoundError:
            return _GONE
        except (OSError, ValueError):
            return None  # unreadable: not a lock of a live sweep

    def release(self) -> None:
        if self.held:
            self.held = False
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
