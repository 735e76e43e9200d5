"""
Oscillation at the edge of stability
====================================

Gradient descent on a quadratic is stable for a learning rate below :math:`2/\\lambda_{max}`.
Just below the limit the iterate bounces across the valley: the loss creeps down while the
gradient stays large. The Monitor names it and gives the stability ratio
:math:`\\lambda_{max} \\cdot lr / 2`.
At half the limit (``lr = 1/λmax``) the steep direction is solved in a single step, and in
the same 1,000 steps the loss ends about ten times lower: the printed events name only the
run at the limit.
"""

import matplotlib.pyplot as plt
import numpy as np
import saddlepoint as sp

surface = sp.surfaces.get("ill_conditioned", condition=1000)
histories = {}
for lr in (1.999 / 1000, 1.0 / 1000):
    params = np.array(surface.start, dtype=float)
    opt = sp.optim.SGD(params, lr=lr)
    mon = sp.Monitor(optimizer=opt, hvp=lambda v, p=params: surface.hessian(p) @ v)
    for _ in range(1000):
        loss, grad = surface.value(params), surface.grad(params)
        opt.step(grad)
        mon.observe(loss, grad)
    histories[lr] = mon.history
    final = mon.history["loss"].iloc[-1]
    print(f"lr = {lr:g}: final loss {final:.3g}, events {[event.kind for event in mon.events]}")

fig, ax = plt.subplots(figsize=(6, 4))
for (lr, history), style in zip(histories.items(), ("-", "--")):
    ax.semilogy(history["step"], history["loss"], style, label=f"lr = {lr:g}")
ax.set_xlabel("step")
ax.set_ylabel("loss")
ax.set_title("SGD on a valley with condition number 1000")
ax.legend()
plt.show()
