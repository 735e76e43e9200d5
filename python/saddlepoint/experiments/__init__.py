"""The experiments of the lecture on why optimization fails, as functions returning tables.

- :func:`batch_size_study`: time per update and per epoch, accuracy and sharpness of the
  end point against the batch size (small batches: more updates per epoch, noisier,
  flatter minima; large batches: faster epochs on parallel hardware).
- :func:`minimum_ratio_study`: many small networks driven to points of (nearly) zero
  gradient; training loss against the minimum ratio of the exact Hessian (true local
  minima are rare; most points have some negative curvature left).
- :func:`critical_point_census`: Dauphin et al.'s protocol: train, then solve
  :math:`\\nabla L = 0` (SciPy), classify every critical point from its exact Hessian and
  drop the network's symmetric copies.
- :func:`batch_size_target_study`: every batch size trained to the same training loss
  (lr tuned per batch size, several seeds), then top eigenvalue, epsilon-sharpness and the
  train/validation gap at that point (Keskar et al. 2017, like with like).
- :func:`optimizer_comparison`: several optimizers and schedules from the same start on
  one surface; loss curves and paths.
- :func:`compare_fixes`: the lecture's remedies tuned over a small learning-rate grid and
  ranked against plain GD, next to the Monitor's verdict on GD (``plot_fixes``).

Every function returns a :class:`pandas.DataFrame` (``pip install "saddlepoint[sweep]"``)
and is deterministic for its ``seed``; each has a plot helper (``plot_batch_size_study``,
``plot_minimum_ratio_study``, ``plot_optimizer_comparison``; matplotlib, imported when
called, in ``_plots``). The defaults are
small settings that run in seconds on two cores.
"""

from ._batch_size import batch_size_study, batch_size_target_study
from ._comparison import LectureRMS, lecture_comparisons, optimizer_comparison
from ._fixes import compare_fixes, format_fixes, plot_fixes
from ._minimum_ratio import critical_point_census, minimum_ratio_study
from ._plots import plot_batch_size_study, plot_minimum_ratio_study, plot_optimizer_comparison
from ._sharpness import epsilon_sharpness, top_hessian_eigenvalue

__all__ = [
    "LectureRMS",
    "batch_size_study",
    "batch_size_target_study",
    "compare_fixes",
    "critical_point_census",
    "epsilon_sharpness",
    "format_fixes",
    "lecture_comparisons",
    "minimum_ratio_study",
    "optimizer_comparison",
    "plot_batch_size_study",
    "plot_fixes",
    "plot_minimum_ratio_study",
    "plot_optimizer_comparison",
    "top_hessian_eigenvalue",
]
