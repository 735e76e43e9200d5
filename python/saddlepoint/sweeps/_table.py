"""The result table: every run's results in preallocated columns, filled chunk by chunk as
chunks finish (in any order, from the store or computed), then wrapped in a DataFrame without
copying them."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._run import KINDS, RESULT_COLUMNS
from ._runs import Runs, display

FLOAT_RESULTS = ("final_loss", "best_loss", "grad_norm")


class Results:
    """Each result column of `runs` runs; ``done`` marks the runs filled in."""

    def __init__(self, runs: int, dim: int) -> None:
        self.cols: dict[str, np.ndarray] = {c: np.empty(runs) for c in FLOAT_RESULTS}
        self.cols["threshold_step"] = np.empty(runs, dtype=np.int64)
        self.cols["diverged"] = np.empty(runs, dtype=bool)
        self.cols["kind"] = np.empty(runs, dtype=np.int8)  # codes into KINDS
        self.x_final = np.empty((runs, dim))  # as chunks return them; columns are its views
        self.done = np.zeros(runs, dtype=bool)

    def put(self, chunk: dict[str, Any]) -> None:
        """One chunk's columns (as _compute_chunk returns them, ``run`` the run numbers)."""
        run: Any = np.asarray(chunk["run"], dtype=np.int64)
        if len(run) and run[-1] - run[0] == len(run) - 1:  # ascending and contiguous: a slice
            run = slice(int(run[0]), int(run[-1]) + 1)
        for c in RESULT_COLUMNS:
            self.cols[c][run] = chunk[c]
        self.x_final[run] = np.asarray(chunk["x_final"]).reshape(len(self.done[run]), -1)
        self.done[run] = True

    def frame(self, pd: Any, runs: Runs, schedule_name: Any, show: Any) -> Any:
        """The DataFrame: the grid's keys, then the results, then x_final_0.. (index ``run``)."""
        n = len(runs)
        index = pd.RangeIndex(n, name="run")
        data: dict[str, Any] = {k: display(runs, k, schedule_name, show) for k in runs.keys}
        for c in RESULT_COLUMNS:
            data[c] = self.cols[c]
        step = self.cols["threshold_step"]
        never = step < 0
        step[never] = 0  # the masked values of a nullable integer column
        data["threshold_step"] = pd.arrays.IntegerArray(step, never)
        # kind stays an object column of str, as it always was (not pandas' string dtype)
        kinds = np.array(KINDS, dtype=object)[self.cols["kind"]]
        data["kind"] = pd.Series(kinds, index=index, dtype=object, copy=False)
        for k in range(self.x_final.shape[1]):
            data[f"x_final_{k}"] = self.x_final[:, k]
        return pd.DataFrame(data, index=index, copy=False)
