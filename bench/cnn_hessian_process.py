"""PyTorch 1.13's side of bench/cnn-hessian-process.sh: the whole process that `curvlab hessian` replaces.

Starts python, imports numpy and torch, reads a curvlab model file + params.npy + X.npy [n, C, H, W] +
Y.npy (class indices), builds the same network in torch (float64, 2 threads), computes the full
Hessian of the mean softmax cross-entropy [N, N] and writes it with np.save.

  /usr/bin/python3 bench/cnn_hessian_process.py DIR OUT.npy [--method loop|batched] [--chunk K] [--rows R]

Layout (README "Convolutional networks" / "File formats"): per conv2d layer W [filters, C_in, kh, kw]
row-major then b [filters]; per dense layer W [in, out] row-major then b [out] (a dense layer computes
x W + b); flatten orders features (C, H, W); max/avg pooling and flatten have no parameters.
Methods: `loop` (default) one reverse pass per row of the Hessian over the gradient's graph (PyTorch's
fastest exact route here, as in bench/cnn_torch.py); `batched` K rows per pass (autograd.grad with
is_grads_batched, i.e. vmap over the double backward). --rows R computes only the first R rows (a quick
check; the output then has R rows). Prints the phases' seconds to stderr.
"""
import sys
import time

T_START = time.perf_counter()
import argparse  # noqa: E402
import json  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

T_IMPORTED = time.perf_counter()
ACTIVATIONS = {"identity": lambda z: z, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu, "softplus": F.softplus,
               "elu": F.elu, "silu": F.silu, "gelu": F.gelu}


def fail(msg):
    print(f"cnn_hessian_process.py: {msg}", file=sys.stderr)
    sys.exit(1)


def layer_functions(spec, theta_len):
    """[(parameter shapes, f(params, h))] per layer of the model file, checked against len(params)."""
    if spec.get("loss") != "ce":
        fail(f"loss {spec.get('loss')!r}: this script does softmax cross-entropy ('ce') only")
    shape = list(spec["input"]) if isinstance(spec["input"], list) else [spec["input"]]
    layers = []
    for i, l in enumerate(spec["layers"]):
        t, act = l["type"], ACTIVATIONS.get(l.get("activation", "identity"))
        if act is None:
            fail(f"layers[{i}]: activation {l['activation']!r} not supported here")
        if t == "conv2d":
            (kh, kw), s, p = l["kernel"], l.get("stride", [1, 1]), l.get("padding", [0, 0])
            c = shape[0]
            layers.append(([(l["filters"], c, kh, kw), (l["filters"],)],
                           lambda w, h, s=s, p=p, a=act: a(F.conv2d(h, w[0], w[1], stride=s, padding=p))))
            shape = [l["filters"], (shape[1] + 2 * p[0] - kh) // s[0] + 1, (shape[2] + 2 * p[1] - kw) // s[1] + 1]
        elif t in ("maxpool2d", "avgpool2d"):
            k, s = l["kernel"], l.get("stride", l["kernel"])
            pool = F.max_pool2d if t == "maxpool2d" else F.avg_pool2d
            layers.append(([], lambda w, h, k=k, s=s, pool=pool: pool(h, k, s)))
            shape = [shape[0], (shape[1] - k[0]) // s[0] + 1, (shape[2] - k[1]) // s[1] + 1]
        elif t == "flatten":
            layers.append(([], lambda w, h: h.reshape(h.shape[0], -1)))
            shape = [int(np.prod(shape))]
        elif t == "dense":
            layers.append(([(shape[0], l["units"]), (l["units"],)], lambda w, h, a=act: a(h @ w[0] + w[1])))
            shape = [l["units"]]
        else:
            fail(f"layers[{i}]: type {t!r} not supported here")
    n_params = sum(int(np.prod(s)) for shapes, _ in layers for s in shapes)
    if n_params != theta_len:
        fail(f"params.npy has {theta_len} values, the model needs {n_params}")
    return layers


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("out")
    ap.add_argument("--method", choices=["loop", "batched"], default="loop")
    ap.add_argument("--chunk", type=int, default=32)
    ap.add_argument("--rows", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(2)
    with open(f"{a.dir}/model.json") as f:
        spec = json.load(f)
    theta0 = torch.from_numpy(np.load(f"{a.dir}/params.npy").astype(np.float64))
    X = torch.from_numpy(np.load(f"{a.dir}/X.npy").astype(np.float64))
    Y = torch.from_numpy(np.load(f"{a.dir}/Y.npy").astype(np.int64))
    layers = layer_functions(spec, theta0.numel())
    shapes = [s for shapes, _ in layers for s in shapes]
    sizes = [int(np.prod(s)) for s in shapes]
    t_read = time.perf_counter()

    def loss(theta):
        blocks = [c.view(s) for c, s in zip(torch.split(theta, sizes), shapes)]
        h, k = X, 0
        for shp, f in layers:
            h = f(blocks[k:k + len(shp)], h)
            k += len(shp)
        return F.cross_entropy(h, Y)

    N = theta0.numel()
    rows = a.rows if a.rows > 0 else N
    th = theta0.clone().requires_grad_(True)
    g = torch.autograd.grad(loss(th), th, create_graph=True)[0]
    if a.method == "loop":
        H = torch.stack([torch.autograd.grad(g[i], th, retain_graph=True)[0] for i in range(rows)])
    else:
        eye = torch.eye(N, dtype=torch.float64)
        H = torch.cat([torch.autograd.grad(g, th, grad_outputs=eye[i:min(i + a.chunk, rows)], retain_graph=True, is_grads_batched=True)[0]
                       for i in range(0, rows, a.chunk)])
    t_hessian = time.perf_counter()
    np.save(a.out, H.numpy())
    t_end = time.perf_counter()
    print(f"imports {T_IMPORTED - T_START:.2f} s, read+build "
          f"{t_read - T_IMPORTED:.2f} s, Hessian [{rows}, {N}] ({a.method}) {t_hessian - t_read:.2f} s, np.save {t_end - t_hessian:.2f} s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
