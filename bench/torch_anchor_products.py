"""Gradient and one HVP (double backward) of the shared anchor's two MLPs on PyTorch 1.13, timed
with the anchor's own model, loss and timer (../shared/anchors/torch_anchor.py) but without its
minutes-long full Hessians: the PyTorch column of README's layer-engine table.

  /usr/bin/python3 bench/torch_anchor_products.py
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "anchors"))
import torch  # noqa: E402
import torch_anchor as A  # noqa: E402
from torch import nn  # noqa: E402
from torch.autograd.functional import hvp  # noqa: E402

for name in ["mlp-small", "mlp-medium"]:
    sizes, act, lossname, batch = A.PROBLEMS[name]
    model = A.mlp(sizes, act)
    X = torch.randn(batch, sizes[0], dtype=A.DT)
    if lossname == "mse":
        Y = torch.randn(batch, sizes[-1], dtype=A.DT)
        loss_fn = nn.MSELoss()
    else:
        Y = torch.randint(0, sizes[-1], (batch,))
        loss_fn = nn.CrossEntropyLoss()
    f, theta0 = A.flat_loss(model, loss_fn, X, Y)

    def grad_once():
        th = theta0.clone().requires_grad_(True)
        return torch.autograd.grad(f(th), th)[0]

    for rep in range(3):
        tg, _ = A.timeit(grad_once, runs=200)
        v = torch.randn(theta0.numel(), dtype=A.DT)
        th, _ = A.timeit(lambda: hvp(f, theta0, v)[1], runs=100)
        print(f"{name} N={theta0.numel()} gradient {tg * 1e3:.3f} ms hvp {th * 1e3:.3f} ms")
