"""
Escaping a saddle point
=======================

At the origin of :math:`L(w_1, w_2) = w_1^2 - w_2^2` the gradient is zero and gradient descent
does not move. The Hessian has one negative eigenvalue; its eigenvector is the way down.
"""

import matplotlib.pyplot as plt
import numpy as np
import saddlepoint as sp

H = np.array([[2.0, 0.0], [0.0, -2.0]])
result = sp.classify(H)
print(result.kind, "eigenvalues", result.eigenvalues, "escape", result.escape_direction)

w1, w2 = np.meshgrid(np.linspace(-1.5, 1.5, 200), np.linspace(-1.5, 1.5, 200))
fig, ax = plt.subplots(figsize=(5, 4.5))
ax.contourf(w1, w2, w1**2 - w2**2, levels=30, cmap="RdBu_r")
d = result.escape_direction
ax.annotate("", xy=(d[0], d[1]), xytext=(0, 0), arrowprops={"arrowstyle": "->", "lw": 2})
ax.plot(0, 0, "k*", markersize=14, label="saddle (gradient zero)")
ax.set_xlabel("$w_1$")
ax.set_ylabel("$w_2$")
ax.set_title("The escape direction: the eigenvector of $\\lambda = -2$")
ax.legend(loc="upper right")
plt.show()
