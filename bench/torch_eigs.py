"""PyTorch + scipy counterpart of `curvlab eigs --k K` and `curvlab trace --samples S` on curvlab's
CLI inputs (bench/CliInputs writes them): the Hessian of the mean loss as a scipy LinearOperator
whose matvec is a full-data Hessian-vector product by double backward (float64, 2 threads), then
scipy.sparse.linalg.eigsh for the top K eigenvalues, or Hutch++ with S matvecs for the trace.
Timed as a whole process by bench/eigs-timing.sh.

  /usr/bin/python3 bench/torch_eigs.py DIR eigs K
  /usr/bin/python3 bench/torch_eigs.py DIR trace S
"""
import json, sys, time
import numpy as np
import torch
from scipy.sparse.linalg import LinearOperator, eigsh

torch.set_num_threads(int(__import__("os").environ.get("TORCH_THREADS", "2")))
DT = torch.float64
ACT = {"tanh": torch.tanh, "identity": lambda z: z, "relu": torch.relu, "sigmoid": torch.sigmoid}


def load(d):
    spec = json.load(open(f"{d}/model.json"))
    theta = torch.from_numpy(np.load(f"{d}/params.npy")).to(DT)
    x = torch.from_numpy(np.load(f"{d}/X.npy")).to(DT)
    y = torch.from_numpy(np.load(f"{d}/Y.npy"))
    sizes = [spec["input"]] + [l["units"] for l in spec["layers"]]
    acts = [ACT[l.get("activation", "identity")] for l in spec["layers"]]
    loss = spec["loss"]

    def f(t):
        h, at = x, 0
        for i in range(len(sizes) - 1):
            n_in, n_out = sizes[i], sizes[i + 1]
            w = t[at:at + n_in * n_out].view(n_in, n_out); at += n_in * n_out
            b = t[at:at + n_out]; at += n_out
            h = acts[i](h @ w + b)
        if loss == "ce":
            return torch.nn.functional.cross_entropy(h, y.long().view(-1))
        return ((h - y.to(DT).view(h.shape)) ** 2).mean()
    return f, theta


def main():
    t0 = time.perf_counter()
    d, what, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    f, theta = load(d)
    theta = theta.requires_grad_(True)
    g = torch.autograd.grad(f(theta), theta, create_graph=True)[0]
    n = theta.numel()
    calls = [0]

    def matvec(v):
        calls[0] += 1
        v = torch.from_numpy(np.asarray(v, dtype=np.float64).reshape(-1))
        # a fresh graph per product, as a stateless HVP: grad of (grad f . v)
        gg = torch.autograd.grad(f(theta), theta, create_graph=True)[0]
        return torch.autograd.grad(gg @ v, theta)[0].numpy()

    op = LinearOperator((n, n), matvec=matvec, dtype=np.float64)
    if what == "eigs":
        vals = eigsh(op, k=count, which="LA", tol=1e-10, return_eigenvectors=False)
        print("eigs:", np.sort(vals)[::-1].tolist())
    else:
        rng = np.random.default_rng(0)
        m = count // 3
        s = rng.choice([-1.0, 1.0], size=(n, m))
        q, _ = np.linalg.qr(np.column_stack([op.matvec(s[:, j]) for j in range(m)]))
        low = sum(q[:, j] @ op.matvec(q[:, j]) for j in range(q.shape[1]))
        gmat = rng.choice([-1.0, 1.0], size=(n, count - 2 * m))
        gmat -= q @ (q.T @ gmat)
        high = np.mean([gmat[:, j] @ op.matvec(gmat[:, j]) for j in range(gmat.shape[1])])
        print("trace:", low + high)
    print(f"{calls[0]} HVPs, {time.perf_counter() - t0:.2f} s in python")


if __name__ == "__main__":
    main()
