"""PyTorch (float64, 2 threads) counterparts of ProductsBench / ProductsRatios on the same shapes
(small: 10-32-32-1 tanh mse B=128; medium: 20-64-64-3 tanh ce B=256): gradient, one HVP and a block
of 16 HVPs by double backward (torch.autograd.functional.hvp; the block with is_grads_batched), and
a GGN-vector product (J v by the double-vjp trick, H_out by autograd on the loss, J^T by vjp).
Medians over interleaved rounds, like ProductsRatios.

  /usr/bin/python3 bench/torch_products.py [small|medium ...] [seconds]
"""
import statistics, sys, time
import torch
from torch.autograd.functional import hvp

torch.set_num_threads(int(__import__("os").environ.get("TORCH_THREADS", "2")))
torch.manual_seed(0)
DT = torch.float64
PROBLEMS = {"small": ([10, 32, 32, 1], "mse", 128), "medium": ([20, 64, 64, 3], "ce", 256)}


def problem(name):
    sizes, loss, batch = PROBLEMS[name]
    x = torch.randn(batch, sizes[0], dtype=DT)
    y = torch.randn(batch, sizes[-1], dtype=DT) if loss == "mse" else torch.randint(0, sizes[-1], (batch,))
    shapes = [(sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1)]
    n = sum(a * b + b for a, b in shapes)
    theta = torch.randn(n, dtype=DT) * 0.3

    def net(t):
        h, at = x, 0
        for i, (a, b) in enumerate(shapes):
            w = t[at:at + a * b].view(a, b); at += a * b
            c = t[at:at + b]; at += b
            h = h @ w + c
            if i < len(shapes) - 1:
                h = torch.tanh(h)
        return h

    def lossf(out):
        return ((out - y) ** 2).mean() if loss == "mse" else torch.nn.functional.cross_entropy(out, y)

    return net, lossf, theta


def main():
    args = [a for a in sys.argv[1:] if a in PROBLEMS] or ["small", "medium"]
    seconds = float(next((a for a in sys.argv[1:] if a not in PROBLEMS), "20"))
    for name in args:
        net, lossf, theta = problem(name)
        f = lambda t: lossf(net(t))
        n = theta.numel()
        v = torch.randn(n, dtype=DT)
        v16 = torch.randn(16, n, dtype=DT)

        def gradient():
            th = theta.clone().requires_grad_(True)
            return torch.autograd.grad(f(th), th)[0]

        def hvp1():
            return hvp(f, theta, v)[1]

        def hvp16():
            th = theta.clone().requires_grad_(True)
            g = torch.autograd.grad(f(th), th, create_graph=True)[0]
            return torch.autograd.grad(g, th, grad_outputs=v16, is_grads_batched=True)[0]

        def ggnvp():
            th = theta.clone().requires_grad_(True)
            out = net(th)
            u = torch.zeros_like(out, requires_grad=True)
            (vjp,) = torch.autograd.grad(out, th, grad_outputs=u, create_graph=True)
            (jv,) = torch.autograd.grad(vjp, u, grad_outputs=v)                     # J v
            o = out.detach().requires_grad_(True)
            (go,) = torch.autograd.grad(lossf(o), o, create_graph=True)
            (hjv,) = torch.autograd.grad(go, o, grad_outputs=jv)                    # H_out J v
            return torch.autograd.grad(out, th, grad_outputs=hjv)[0]               # J^T H_out J v

        ops = {"gradient": gradient, "hvp": hvp1, "hvp16": hvp16, "ggnvp": ggnvp}
        for fn in ops.values():
            for _ in range(20):
                fn()
        times = {k: [] for k in ops}
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            for k, fn in ops.items():
                t = time.perf_counter(); fn(); times[k].append(time.perf_counter() - t)
        base = statistics.median(times["gradient"])
        print(f"{name} N={n} ({len(times['gradient'])} rounds)")
        for k, ts in times.items():
            m = statistics.median(ts)
            print(f"  {k:10s} {m * 1e6:10.1f} us   {m / base:6.2f}x torch gradient")


if __name__ == "__main__":
    main()
