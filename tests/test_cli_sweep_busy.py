"""``saddlepoint sweep`` on an out another live sweep holds: one line naming that process."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest

pytest.importorskip("pandas")

from saddlepoint.cli import main

CONFIG = """
surface = "rosenbrock"
steps = 20
out = "{out}"
[grid]
lr = [1e-3, 1e-2]
"""


def test_a_busy_out_is_one_line_naming_the_owner(tmp_path, capsys):
    out = tmp_path / "r.sqlite"
    cfg = tmp_path / "s.toml"
    cfg.write_text(CONFIG.format(out=out))
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock = {"pid": owner.pid, "host": socket.gethostname(), "time": time.time()}
        (tmp_path / "r.sqlite.lock").write_text(json.dumps(lock))
        code = main(["sweep", str(cfg), "--no-progress"])
        err = capsys.readouterr().err
        assert code != 0 and err.count("\n") == 1
        assert err.startswith("saddlepoint sweep: error: out: ")
        assert f"in use by another sweep (pid {owner.pid} on {socket.gethostname()}" in err
        assert not out.exists()  # refused before touching the store
    finally:
        owner.kill()
        owner.wait()
    # the owner gone, its lock is stale: the same command runs
    assert main(["sweep", str(cfg), "--no-progress"]) == 0
    assert "2 runs" in capsys.readouterr().out
