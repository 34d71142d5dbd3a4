#!/usr/bin/env bash
# Whole-process wall time of the digits CNN's full Hessian (N = 1,030, 1,000 digits, mean ce):
# `curvlab hessian` (JVM start, reading model.json / params.npy / X.npy / Y.npy, the Hessian,
# writing H.npy [N, N]) against a PyTorch 1.13 script doing the same (start, read the same .npy,
# its fastest exact full Hessian: the row loop of double-backward HVPs, write H.npy), run
# alternately; prints every run, the medians, and max |H_curvlab - H_torch|.
#
#   bench/cnn-hessian-process.sh [runs]        (default 3; needs the built curvature jar and /usr/bin/python3 with torch)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
/usr/bin/python3 - "$dir" <<'PY'
import gzip, json, sys
import numpy as np
d = sys.argv[1]
raw = np.loadtxt(gzip.open("nn/src/main/resources/dev/curvlab/nn/data/digits.csv.gz"), delimiter=",")[:1000]
np.save(f"{d}/X.npy", (raw[:, :64] / 16.0).reshape(1000, 1, 8, 8))
np.save(f"{d}/Y.npy", raw[:, 64].astype(np.float64))
np.save(f"{d}/params.npy", np.random.default_rng(1).standard_normal(1030) * 0.3)
json.dump({"input": [1, 8, 8], "layers": [
    {"type": "conv2d", "filters": 6, "kernel": [3, 3], "stride": [1, 1], "padding": [1, 1], "activation": "tanh"},
    {"type": "maxpool2d", "kernel": [2, 2]}, {"type": "flatten"},
    {"type": "dense", "units": 10, "activation": "identity"}], "loss": "ce"}, open(f"{d}/model.json", "w"))
PY
cat > "$dir/torch_hessian.py" <<'PY'
import sys
import numpy as np
import torch
import torch.nn.functional as F
torch.set_num_threads(2)
d = sys.argv[1]
x = torch.from_numpy(np.load(f"{d}/X.npy"))
y = torch.from_numpy(np.load(f"{d}/Y.npy")).long()
theta = torch.from_numpy(np.load(f"{d}/params.npy")).requires_grad_(True)
shapes = [(6, 1, 3, 3), (6,), (96, 10), (10,)]
sizes = [int(np.prod(s)) for s in shapes]
w1, b1, w2, b2 = [c.view(s) for c, s in zip(torch.split(theta, sizes), shapes)]
h = F.max_pool2d(torch.tanh(F.conv2d(x, w1, b1, padding=1)), 2)
loss = F.cross_entropy(h.reshape(h.shape[0], -1) @ w2 + b2, y)
g = torch.autograd.grad(loss, theta, create_graph=True)[0]
H = torch.stack([torch.autograd.grad(g[i], theta, retain_graph=True)[0] for i in range(theta.numel())])
np.save(f"{d}/H_torch.npy", H.numpy())
PY
args=(hessian --model "$dir/model.json" --params "$dir/params.npy" --x "$dir/X.npy" --y "$dir/Y.npy" --out "$dir/H.npy" --quiet)
launcher="java -jar curvature/target/curvlab.jar"
[[ -x bin/curvlab ]] && launcher="bin/curvlab" && bin/curvlab "${args[@]}" >/dev/null   # class-data archive on first use
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
ours=(); theirs=()
for ((r = 0; r < runs; r++)); do
  rm -f "$dir/H.npy" "$dir/H_torch.npy"
  start=$(date +%s%N); $launcher "${args[@]}" >/dev/null; ours+=($(( ($(date +%s%N) - start) / 1000000 )))
  start=$(date +%s%N); /usr/bin/python3 "$dir/torch_hessian.py" "$dir"; theirs+=($(( ($(date +%s%N) - start) / 1000000 )))
  echo "run $r: curvlab ${ours[-1]} ms, pytorch ${theirs[-1]} ms"
done
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
echo "curvlab hessian process: median $(median "${ours[@]}") ms; pytorch process: median $(median "${theirs[@]}") ms"
/usr/bin/python3 -c "import numpy as np, sys; a = np.load('$dir/H.npy'); b = np.load('$dir/H_torch.npy'); print(f'max |H_curvlab - H_torch| = {np.abs(a - b).max():.2e} (max |H| = {np.abs(b).max():.2e})')"
