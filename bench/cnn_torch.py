"""PyTorch 1.13 (Debian python3-torch) timings for curvlab's digits CNN (bench CnnBench), float64, 2 threads.

Network: [1, 8, 8] - conv 6x3x3 padding 1 tanh - max pool 2x2 - flatten - dense 10, softmax cross-entropy
(mean), N = 1,030, on the first 1,000 digits (sklearn's digits.csv.gz, pixels / 16; curvlab ships the same file).
Run: /usr/bin/python3 bench/cnn_torch.py [samples [rows]]   (rows: time only that many Hessian rows and scale)
Prints seconds (median of runs) for: gradient, one HVP (double backward), the full Hessian by a row loop
of HVPs (PyTorch's fastest exact route that fits in memory here), and vmap'ed input Jacobians [n, 10, 64].
"""
import gzip, statistics, sys, time
import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(2)
DT = torch.float64
n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
path = "nn/src/main/resources/dev/curvlab/nn/data/digits.csv.gz"
raw = np.loadtxt(gzip.open(path), delimiter=",")[:n]
X = torch.tensor(raw[:, :64] / 16.0, dtype=DT).reshape(n, 1, 8, 8)
Y = torch.tensor(raw[:, 64], dtype=torch.long)
shapes = [(6, 1, 3, 3), (6,), (96, 10), (10,)]
sizes = [int(np.prod(s)) for s in shapes]
N = sum(sizes)
theta0 = torch.randn(N, dtype=DT, generator=torch.Generator().manual_seed(1)) * 0.3


def logits(theta, x):
    w1, b1, w2, b2 = [c.view(s) for c, s in zip(torch.split(theta, sizes), shapes)]
    h = F.max_pool2d(torch.tanh(F.conv2d(x, w1, b1, padding=1)), 2)
    return h.reshape(h.shape[0], -1) @ w2 + b2


def loss(theta):
    return F.cross_entropy(logits(theta, X), Y)


def timeit(fn, runs=3):
    fn()
    ts = []
    for _ in range(runs):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def gradient():
    th = theta0.clone().requires_grad_(True)
    return torch.autograd.grad(loss(th), th)[0]


v = torch.randn(N, dtype=DT, generator=torch.Generator().manual_seed(2))


def hvp():
    th = theta0.clone().requires_grad_(True)
    g = torch.autograd.grad(loss(th), th, create_graph=True)[0]
    return torch.autograd.grad(g @ v, th)[0]


ROWS = int(sys.argv[2]) if len(sys.argv) > 2 else N


def full_hessian():
    """The row loop (ROWS of the N rows when given: the time is then scaled by N / ROWS)."""
    th = theta0.clone().requires_grad_(True)
    g = torch.autograd.grad(loss(th), th, create_graph=True)[0]
    rows = [torch.autograd.grad(g[i], th, retain_graph=True)[0] for i in range(ROWS)]
    return torch.stack(rows)


def input_jacobian():
    from functorch import jacrev, vmap
    return vmap(jacrev(lambda x: logits(theta0, x.reshape(1, 1, 8, 8)).reshape(10)))(X.reshape(n, 64))


print(f"digits CNN N={N}, n={n}, torch {torch.__version__}, threads {torch.get_num_threads()}")
print(f"gradient        {timeit(gradient):.4f} s")
print(f"hvp             {timeit(hvp):.4f} s")
try:
    print(f"input jacobian  {timeit(input_jacobian):.4f} s")
except Exception as e:  # functorch missing
    print(f"input jacobian  not run ({e})")
t = timeit(full_hessian, runs=1)
print(f"full hessian    {t * N / ROWS:.2f} s (row loop; {ROWS} of {N} rows timed: {t:.2f} s, scaled by N / rows)")
