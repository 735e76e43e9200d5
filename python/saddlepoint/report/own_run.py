"""Your own run: the Monitor's cockpit and verdict for a digits MLP, and the same
diagnosis in a NumPy loop and in a torch loop (the code shown is the code run here)."""

from __future__ import annotations

import contextlib
import io
from typing import Any

from .page import Section
from .runner import Context

NUMPY_LOOP = """\
import saddlepoint as sp

data = sp.data.digits(seed=0)
model = sp.models.MLP([64, 32, 10])
X, y = data.X_train, data.y_train
params = model.init(0)
opt = sp.optim.SGD(params, lr=1.5)  # steps params in place
Xp, yp = X[:256], y[:256]  # a fixed probe batch for the curvature checks
monitor = sp.Monitor(optimizer=opt, hvp=lambda v: model.hvp(params, Xp, yp, v),
                     curvature_every=10)
for step in range(100):
    loss, grad = model.loss_and_grad(params, X, y)  # full batch
    opt.step(grad)
    monitor.observe(loss, grad)
print(monitor.explain())
"""

TORCH_LOOP = """\
import torch
import saddlepoint as sp
import saddlepoint.torch as st

data = sp.data.digits(seed=0)
X = torch.tensor(data.X_train, dtype=torch.float32)
y = torch.tensor(data.y_train, dtype=torch.long)
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
loss_fn = torch.nn.CrossEntropyLoss()
opt = torch.optim.SGD(model.parameters(), lr=1.5)
probe = (X[:256], y[:256])  # a fixed probe batch for the curvature checks
monitor = st.watch(model, opt, st.hvp(model, loss_fn, probe), curvature_every=10)
for step in range(100):
    opt.zero_grad()
    loss = loss_fn(model(X), y)
    loss.backward()
    opt.step()
    monitor.observe(loss)
print(monitor.explain())
"""


def _run_snippet(code: str) -> tuple[str, Any]:
    """Execute a snippet shown on the page; its printed output and its monitor."""
    scope: dict[str, Any] = {"__name__": "__saddlepoint_demo__"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<demo snippet>", "exec"), scope)  # the page's own code, run here
    return out.getvalue().strip(), scope.get("monitor")


def run(ctx: Context) -> Section:
    from .. import data, models
    from ..train import train

    ds = data.digits(seed=ctx.seed)
    model = models.MLP([64, 32, 10])
    lr, epochs = 1.5, 100
    res = train(
        model,
        ds,
        "sgd",
        lr=lr,
        batch_size=ds.n_train,
        epochs=epochs,
        seed=ctx.seed,
        curvature_every=10,
        progress=False,
    )
    fig = res.monitor.plot()
    fig = getattr(fig, "figure", fig)
    fig.set_size_inches(11, max(fig.get_size_inches()[1], 6))
    figure = ctx.save(
        fig,
        "own_run",
        f"The Monitor's cockpit for saddlepoint.train on the digits MLP 64-32-10 "
        f"({ds.n_train} images, full-batch gradient descent at lr {lr:g}, {epochs} steps, "
        "curvature every 10 steps): the loss, the gradient norm, the cosine between "
        "successive updates and the stability ratio lr·λmax/2 (dashed line: 1, the limit), "
        "with the step of each verdict marked.",
    )
    verdicts = [{"kind": e.kind, "step": int(e.step)} for e in res.events]
    numpy_out, numpy_mon = _run_snippet(NUMPY_LOOP)
    numpy_events = [e.kind for e in numpy_mon.events] if numpy_mon is not None else []
    torch_events: list[str] | None = None
    try:
        import torch
    except ImportError:
        torch_out = "(torch is not installed here: not run)"
    else:
        # torch's own threads held at one while the loop runs, as NumPy's BLAS is: on two
        # shared cores its second thread made this loop >10x slower (5.4 s against 0.4 s)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            torch_out, torch_mon = _run_snippet(TORCH_LOOP)
        finally:
            torch.set_num_threads(threads)
        torch_events = [e.kind for e in torch_mon.events] if torch_mon is not None else []
    numbers = {
        "lr": lr,
        "steps": epochs,
        "train_verdicts": verdicts,
        "train_final_loss": float(res.history["train_loss"].iloc[-1]),
        "train_explain": res.monitor.explain(),
        "numpy_loop_verdicts": numpy_events,
        "numpy_loop_output": numpy_out,
        "torch_loop_verdicts": torch_events,
        "torch_loop_output": torch_out,
    }
    kinds = ", ".join(f"{v['kind']} at step {v['step']}" for v in verdicts) or "no verdict"
    findings = [
        f"Full-batch GD at lr {lr:g} on the digits MLP ends at training loss "
        f"{numbers['train_final_loss']:.3g} (chance level is ln 10 = 2.30); the Monitor "
        f"reports: {kinds}.",
        "The same loop written by hand in NumPy reports: "
        + (", ".join(numpy_events) or "no verdict")
        + "; in torch (its own initialisation, float32, one thread): "
        + ("not run" if torch_events is None else ", ".join(torch_events) or "no verdict")
        + ".",
    ]
    return Section(
        key="own_run",
        title="Your own run: the Monitor's diagnosis",
        claim="The same instruments and rules that explain this page's runs can watch any "
        "training loop: a few lines around your own step say why it stopped improving and "
        "what would fix it.",
        figures=[figure],
        numbers=numbers,
        findings=findings,
        code=[
            ("What the Monitor says about this run (saddlepoint.train)", res.monitor.explain()),
            ("A NumPy loop (run here)", NUMPY_LOOP),
            ("Its output", numpy_out),
            ("A torch loop" + ("" if torch_events is None else " (run here)"), TORCH_LOOP),
            ("Its output", torch_out),
        ],
        verdict="reproduced" if verdicts and numpy_events else "partly",
        verdict_note="The Monitor names the failure of a too-large learning rate on the "
        "digits MLP from saddlepoint.train, from a NumPy loop"
        + (" and from a torch loop." if torch_events else "."),
        references=[
            "Schneider, Dangel, Hennig 2021, 'Cockpit: a practical debugging tool for the "
            "training of deep neural networks'",
            "Cohen et al. 2021 (the stability ratio lr·λmax/2)",
        ],
        alt=[
            "A grid of small time-series panels of one training run's instruments with the "
            "Monitor's verdict marked as a vertical line.",
        ],
    )
