#!/usr/bin/python3
"""PyTorch twins of zoo networks for the zoo training benchmark (bench/run_zoo.sh).

Trains resnet20 (CIFAR ResNet, option-A shortcuts) or vgg2 (seed 003's
two-block VGG, Glorot normal) on Fashion-MNIST adapted as actlab adapts it
for these 3x32x32 models: zero-padded by 2 pixels on every side, the gray
channel replicated to 3. Same recipe as `actlab train --model M --data
fashion-mnist:train=N`: the first N training images, per-channel
standardisation from the (padded) training set, reshuffled every epoch,
batch 64, SGD lr 0.01 momentum 0.9, softmax cross-entropy.

img_per_s times the training loop only (batch assembly, forward, loss,
backward, update), as actlab's img_per_s.

Run with Debian's interpreter: /usr/bin/python3 bench/torch_zoo.py --help
"""
import argparse
import os
import sys


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=("resnet20", "vgg2"), default="resnet20")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--train", type=int, default=60000, help="first N training images")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--data", default=os.environ.get(
        "FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
    p.add_argument("--json", action="store_true")
    return p.parse_args()


args = parse_args()
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import gzip  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(args.threads)
torch.set_num_interop_threads(1)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    nd = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.pad = (cout - cin) // 2 if stride != 1 else None

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        s = x if self.pad is None else F.pad(x[:, :, ::2, ::2],
                                             (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(y + s)


class ResNet20(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, cin = [], 16
        for s, w in enumerate((16, 32, 64)):
            for b in range(3):
                layers.append(Block(cin, w, 2 if s > 0 and b == 0 else 1))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


class VGG2(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(3, 32, 3, padding=1), nn.Conv2d(32, 32, 3, padding=1),
                                    nn.Conv2d(32, 64, 3, padding=1), nn.Conv2d(64, 64, 3, padding=1)])
        self.fc1 = nn.Linear(4096, 128)
        self.fc2 = nn.Linear(128, classes)
        for m in list(self.convs) + [self.fc1, self.fc2]:
            nn.init.xavier_normal_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, x):
        for i, c in enumerate(self.convs):
            x = F.relu(c(x))
            if i % 2 == 1:
                x = F.max_pool2d(x, 2)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


def main():
    torch.manual_seed(args.seed)
    x = read_idx(os.path.join(args.data, "train-images-idx3-ubyte.gz"))[:args.train]
    y = torch.from_numpy(read_idx(os.path.join(args.data, "train-labels-idx1-ubyte.gz"))
                         [:args.train].astype(np.int64))
    xp = np.zeros((x.shape[0], 3, 32, 32), np.uint8)
    xp[:, :, 2:30, 2:30] = x[:, None]
    xu8 = torch.from_numpy(xp)
    v = xp[:, 0].astype(np.float64) / 255.0
    mean, std = float(v.mean()), float(v.std()) or 1.0
    scale, bias = 1.0 / (255.0 * std), -mean / std
    model = ResNet20() if args.model == "resnet20" else VGG2()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    n, B = xu8.shape[0], args.batch
    gen = torch.Generator().manual_seed(args.seed)
    t_train, imgs, loss_sum = 0.0, 0, 0.0
    for ep in range(args.epochs):
        model.train()
        order = torch.randperm(n, generator=gen)
        for b0 in range(0, n, B):
            t0 = time.perf_counter()
            idx = order[b0:b0 + B]
            xb = xu8.index_select(0, idx).to(torch.float32).mul_(scale).add_(bias)
            loss = F.cross_entropy(model(xb), y.index_select(0, idx))
            opt.zero_grad(set_to_none=False)
            loss.backward()
            opt.step()
            t_train += time.perf_counter() - t0
            loss_sum += loss.item() * idx.numel()
        imgs += n
    out = {"framework": "pytorch", "model": args.model, "threads": args.threads,
           "img_per_s": imgs / t_train, "train_loss": loss_sum / imgs, "images": imgs}
    print(json.dumps(out) if args.json else
          "%s: %.0f img/s, train loss %.4f" % (args.model, out["img_per_s"], out["train_loss"]))


main()
