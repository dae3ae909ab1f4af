#!/usr/bin/python3
"""PyTorch reference for actlab's training benchmark (bench/run_core.sh).

Trains the same networks as `actlab train --model lenet5|mlp` on the real
Fashion-MNIST (IDX files read with gzip + numpy, no torchvision), with the
same recipe: training-set mean/std standardisation, uint8 images kept in
memory and converted to float per batch, reshuffled every epoch, batch 64,
SGD lr 0.01 momentum 0.9, softmax cross-entropy.

img_per_s times only the training loop, per batch: batch assembly (gather +
uint8->float + standardise), forward, loss, backward, optimizer step -- the
same span actlab's `img_per_s` covers. Data loading and the test-set
evaluation after each epoch are not timed.

Run with Debian's interpreter: /usr/bin/python3 bench/torch_train.py --help
"""
import argparse
import os
import sys


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=("lenet5", "mlp"), default="lenet5")
    p.add_argument("--act", choices=("relu", "nelu-unfold"), default="relu",
                   help="nelu-unfold: seed 000's NeLU the way its authors batch it "
                        "(unfold into k x k patches, compute, stitch back; dense "
                        "inputs: groups of k features), autograd for the backward")
    p.add_argument("--k", type=int, default=2, help="nelu-unfold window")
    p.add_argument("--influence", type=float, default=0.1, help="nelu-unfold lambda")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--eval-batch", type=int, default=500)
    p.add_argument("--data", default=os.environ.get(
        "FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
    p.add_argument("--json", action="store_true",
                   help="end with one JSON object on stdout")
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    return p.parse_args()


args = parse_args()
if args.threads < 1:
    sys.exit("torch_train.py: --threads must be >= 1")
# Thread counts must be fixed before torch (and its OpenMP/MKL/OpenBLAS
# runtimes) is loaded, so that every pool in the process uses N threads.
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import gzip  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(args.threads)
torch.set_num_interop_threads(1)


def read_idx(path):
    """IDX (optionally gzipped) -> numpy array with the file's shape."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        sys.exit(f"torch_train.py: {path}: not an unsigned-byte IDX file")
    nd = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * nd)
    if data.size != int(np.prod(dims)):
        sys.exit(f"torch_train.py: {path}: size does not match header")
    return data.reshape(dims)


def load_split(d, prefix):
    def pick(name):
        for ext in (".gz", ""):
            p = os.path.join(d, name + ext)
            if os.path.exists(p):
                return p
        sys.exit(f"torch_train.py: missing {os.path.join(d, name)}[.gz]")
    x = read_idx(pick(f"{prefix}-images-idx3-ubyte"))
    y = read_idx(pick(f"{prefix}-labels-idx1-ubyte"))
    return (torch.from_numpy(x.reshape(-1, 1, 28, 28).copy()),
            torch.from_numpy(y.astype(np.int64)))


def nelu_unfold(x, k, lam):
    """NeLU (SPEC.md 1.3) through unfold/stitch: y = relu(x + lam * S-) per
    k x k tile (per group of k features on dense inputs). Sizes must divide
    by k (LeNet-5's 28, 10, 120 and 84 do for k = 2)."""
    if x.dim() == 2:
        n, f = x.shape
        p = x.reshape(n, f // k, k)
        return F.relu(p + lam * p.clamp(max=0).sum(-1, keepdim=True)).reshape(n, f)
    n, c, h, w = x.shape
    p = x.unfold(2, k, k).unfold(3, k, k).reshape(-1, k * k)  # patches (a copy)
    y = F.relu(p + lam * p.clamp(max=0).sum(1, keepdim=True))
    return (y.reshape(n, c, h // k, w // k, k, k).permute(0, 1, 2, 4, 3, 5)
            .reshape(n, c, h, w))  # stitched back


def act(x):
    if args.act == "relu":
        return F.relu(x)
    return nelu_unfold(x, args.k, args.influence)


class LeNet5(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, classes)

    def forward(self, x):
        x = F.max_pool2d(act(self.conv1(x)), 2)
        x = F.max_pool2d(act(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = act(self.fc1(x))
        x = act(self.fc2(x))
        return self.fc3(x)


class MLP(nn.Module):
    def __init__(self, classes=10, width=256):
        super().__init__()
        self.fc1 = nn.Linear(784, width)
        self.fc2 = nn.Linear(width, width)
        self.fc3 = nn.Linear(width, classes)

    def forward(self, x):
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def main():
    torch.manual_seed(args.seed)
    t_load = time.perf_counter()
    xtr_u8, ytr = load_split(args.data, "train")
    xte_u8, yte = load_split(args.data, "t10k")
    # Per-channel (here: one channel) standardisation from the training set,
    # on the [0,1]-scaled pixels, as actlab's --norm standard.
    # Exact population mean/std from the pixel-value histogram (no float
    # copy of the training set, so it does not inflate peak RSS).
    hist = np.bincount(xtr_u8.numpy().ravel(), minlength=256).astype(np.float64)
    v = np.arange(256, dtype=np.float64) / 255.0
    cnt = hist.sum()
    mean = float((hist * v).sum() / cnt)
    std = float(np.sqrt(max((hist * v * v).sum() / cnt - mean * mean, 0.0)))
    if std < 1e-6:
        std = 1.0
    scale, bias = 1.0 / (255.0 * std), -mean / std
    t_load = time.perf_counter() - t_load

    def assemble(xu8, idx):
        # gather uint8, convert and standardise, as al_batch_assemble does
        return xu8.index_select(0, idx).to(torch.float32).mul_(scale).add_(bias)

    model = LeNet5() if args.model == "lenet5" else MLP()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    ntr, B = xtr_u8.shape[0], args.batch
    gen = torch.Generator().manual_seed(args.seed)

    t_train, imgs, hist = 0.0, 0, []
    t_all = time.perf_counter()
    for ep in range(args.epochs):
        model.train()
        order = torch.randperm(ntr, generator=gen)
        t_loop, loss_sum, correct = 0.0, 0.0, 0
        for b0 in range(0, ntr, B):
            t0 = time.perf_counter()
            idx = order[b0:b0 + B]
            x, y = assemble(xtr_u8, idx), ytr.index_select(0, idx)
            z = model(x)
            loss = F.cross_entropy(z, y)
            opt.zero_grad(set_to_none=False)
            loss.backward()
            opt.step()
            t_loop += time.perf_counter() - t0
            # bookkeeping outside the timed span (actlab does its running
            # accuracy inside; it is a few argmaxes either way)
            loss_sum += loss.item() * idx.numel()
            correct += int((z.argmax(1) == y).sum())
        t_train += t_loop
        imgs += ntr
        # test-set evaluation, not timed
        model.eval()
        te_correct, te_loss = 0, 0.0
        with torch.no_grad():
            for e0 in range(0, xte_u8.shape[0], args.eval_batch):
                idx = torch.arange(e0, min(e0 + args.eval_batch, xte_u8.shape[0]))
                zt = model(assemble(xte_u8, idx))
                yt = yte[idx]
                te_loss += F.cross_entropy(zt, yt, reduction="sum").item()
                te_correct += int((zt.argmax(1) == yt).sum())
        nte = xte_u8.shape[0]
        h = {"epoch": ep + 1, "train_loss": loss_sum / ntr,
             "train_acc": correct / ntr, "test_loss": te_loss / nte,
             "test_acc": te_correct / nte, "img_per_s": ntr / t_loop}
        hist.append(h)
        if not args.quiet:
            print(f"epoch {ep + 1}/{args.epochs}  loss {h['train_loss']:.4f}  "
                  f"acc {h['train_acc']:.4f}  test_acc {h['test_acc']:.4f}  "
                  f"{h['img_per_s']:.0f} img/s", file=sys.stderr)
    seconds = time.perf_counter() - t_all
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    out = {"framework": "pytorch", "torch": torch.__version__,
           "model": args.model, "act": args.act, "threads": args.threads,
           "torch_threads": torch.get_num_threads(), "epochs": args.epochs,
           "batch": B, "test_acc": hist[-1]["test_acc"],
           "test_loss": hist[-1]["test_loss"],
           "train_loss": hist[-1]["train_loss"],
           "train_acc": hist[-1]["train_acc"],
           "img_per_s": imgs / t_train if t_train > 0 else 0.0,
           "peak_rss_mb": round(peak_rss_mb, 1), "seconds": round(seconds, 3),
           "load_seconds": round(t_load, 3),
           "params": sum(p.numel() for p in model.parameters()),
           "history": hist}
    if args.json:
        print(json.dumps(out))
    elif args.quiet:
        print(f"{args.model} threads {args.threads}: {out['img_per_s']:.0f} img/s, "
              f"test_acc {out['test_acc']:.4f}, peak RSS {peak_rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
