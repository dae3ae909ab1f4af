#!/usr/bin/env python3
"""gen-models.py -- writes the zoo's larger .cfg files under models/.

    python3 scripts/gen-models.py          # rewrites models/<name>.cfg

The networks are regular (stages of identical blocks), so their cfg text is
generated here instead of being written by hand; the output is committed and
the .cfg files are what actlab reads. The first comment line of each file is
its one-line description in `actlab models`. Layer names follow the
PyTorch module paths where a reference implementation exists (layer1.0.conv1),
so summaries can be compared side by side.
Not for: small networks written by hand (lenet5, mlp, resnet38-window).
"""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Cfg:
    def __init__(self, doc):
        self.lines = ["# " + line if line else "#" for line in doc.strip().split("\n")]

    def sec(self, kind, **kv):
        self.lines.append("")
        self.lines.append("[%s]" % kind)
        for k, v in kv.items():
            self.lines.append("%s = %s" % (k, v))

    def net(self, **kv):
        self.sec("net", **kv)

    def conv(self, name, filters, size, stride=1, pad=None, groups=1, bias=1, act=None,
             inputs=None, **extra):
        kv = {"name": name}
        if inputs:
            kv["inputs"] = inputs
        kv["filters"] = filters
        kv["size"] = size
        if stride != 1:
            kv["stride"] = stride
        if pad is None:
            pad = (size - 1) // 2
        if pad:
            kv["pad"] = pad
        if groups != 1:
            kv["groups"] = groups
        if not bias:
            kv["bias"] = 0
        kv.update(extra)
        if act:
            kv["act"] = act
        self.sec("conv", **kv)

    def bn(self, name, act=None, default=None, **extra):
        kv = {"name": name}
        kv.update(extra)
        if act:
            kv["act"] = act
        if default:
            kv["default"] = default
        self.sec("batchnorm", **kv)

    def write(self, name):
        path = os.path.join(ROOT, "models", name + ".cfg")
        with open(path, "w") as f:
            f.write("\n".join(self.lines) + "\n")


# ---- CIFAR ResNets (He et al. 2016, section 4.2): 6n+2 layers, option-A shortcuts --------
def cifar_resnet(depth):
    n = (depth - 2) // 6
    params = {20: "269,722", 56: "853,018"}[depth]
    c = Cfg("""ResNet-%d for CIFAR (He et al. 2016, 4.2): conv 16, 3 stages of %d basic blocks (16/32/64), parameter-free option-A shortcuts; %s parameters for 10 classes.
Input 3x32x32%s. Block: conv3x3 -> BN -> act -> conv3x3 -> BN, + shortcut -> act. A stage's first
block halves the map with stride 2; its shortcut keeps every 2nd pixel and zero-pads the channels
(chanpad), as in the paper's CIFAR experiments. Convs have no bias. Activation sites ($ACT): the
stem and two per block (%d).""" % (depth, n, params,
                                   "" if depth == 20 else " (any size: global pooling head)",
                                   1 + 2 * 3 * n))
    if depth == 20:  # the CIFAR size exactly: other inputs are padded/resized to it
        c.net(channels=3, height=32, width=32, classes=10)
    else:
        c.net(channels=3, input="3x32x32", classes=10)
    c.conv("conv1", 16, 3, bias=0)
    c.bn("bn1", act="$ACT")
    prev = "bn1_act"
    for s, width in enumerate((16, 32, 64)):
        for b in range(n):
            stride = 2 if s > 0 and b == 0 else 1
            p = "layer%d.%d" % (s + 1, b)
            c.conv(p + ".conv1", width, 3, stride=stride, bias=0, inputs=prev)
            c.bn(p + ".bn1", act="$ACT")
            c.conv(p + ".conv2", width, 3, bias=0)
            c.bn(p + ".bn2")
            short = prev
            if stride != 1:
                c.sec("chanpad", name=p + ".shortcut", inputs=prev, before=width // 4,
                      after=width // 4, stride=2)
                short = p + ".shortcut"
            c.sec("shortcut", name=p + ".add", inputs="%s, %s" % (p + ".bn2", short),
                  act="$ACT")
            prev = p + ".add_act"
    c.sec("gap", name="avgpool")
    c.sec("dense", name="linear", out="$CLASSES")
    c.write("resnet%d" % depth)


# ---- torchvision ResNets ------------------------------------------------------------------
def tv_resnet(name, block, layers, count):
    c = Cfg("""%s as torchvision.models.%s (ImageNet layout: conv7x7/2, maxpool, 4 stages of %s blocks %s, global average pool, fc); %s parameters for 1000 classes.
Exactly torchvision's parameters (tests/fixtures/gen_zoo.py counts them). Any input of at least
32x32 works (the head pools adaptively); the default is ImageNet's 3x224x224, and seed 003
fine-tunes it on 32x32 CIFAR-10. Downsampling shortcuts are conv1x1 (stride) -> BN. Activation
sites ($ACT): the stem's ReLU and every ReLU of every block; seed 003's "end layers" are the
sites of layer4, their numbers are listed by `actlab models %s`.""" % (
        name.capitalize().replace("net", "Net"), name, block, "-".join(map(str, layers)), count, name))
    c.net(channels=3, input="3x224x224", classes=1000)
    c.conv("conv1", 64, 7, stride=2, pad=3, bias=0)
    c.bn("bn1", act="$ACT")
    c.sec("maxpool", name="maxpool", size=3, stride=2, pad=1)
    prev = "maxpool"
    inplanes = 64
    exp = 4 if block == "bottleneck" else 1
    for s, (planes, nb) in enumerate(zip((64, 128, 256, 512), layers)):
        for b in range(nb):
            stride = 2 if s > 0 and b == 0 else 1
            p = "layer%d.%d" % (s + 1, b)
            if block == "basic":
                c.conv(p + ".conv1", planes, 3, stride=stride, bias=0, inputs=prev)
                c.bn(p + ".bn1", act="$ACT")
                c.conv(p + ".conv2", planes, 3, bias=0)
                c.bn(p + ".bn2")
                last = p + ".bn2"
            else:
                c.conv(p + ".conv1", planes, 1, bias=0, inputs=prev)
                c.bn(p + ".bn1", act="$ACT")
                c.conv(p + ".conv2", planes, 3, stride=stride, bias=0)
                c.bn(p + ".bn2", act="$ACT")
                c.conv(p + ".conv3", planes * exp, 1, bias=0)
                c.bn(p + ".bn3")
                last = p + ".bn3"
            short = prev
            if stride != 1 or inplanes != planes * exp:
                c.conv(p + ".downsample.0", planes * exp, 1, stride=stride, pad=0, bias=0,
                       inputs=prev)
                c.bn(p + ".downsample.1")
                short = p + ".downsample.1"
            c.sec("shortcut", name=p + ".add", inputs="%s, %s" % (last, short), act="$ACT")
            prev = p + ".add_act"
            inplanes = planes * exp
    c.sec("adaptive_avgpool", name="avgpool", out=1)
    c.sec("dense", name="fc", out="$CLASSES")
    c.write(name)


# ---- torchvision VGG11 ----------------------------------------------------------------------
def vgg11():
    c = Cfg("""VGG-11 (configuration A) as torchvision.models.vgg11: 8 conv3x3 + 3 fc, adaptive average pool to 7x7; 132,863,336 parameters for 1000 classes.
Exactly torchvision's parameters. Any input of at least 32x32 works (the adaptive pool repeats a
1x1 map to 7x7, as torchvision does on CIFAR); the default is 3x224x224. Activation sites ($ACT):
after each conv (1-8) and the first two fc layers (9, 10: seed 003's "end layers", i.e.
--act-sites 9,10). Dropout 0.5 after fc1 and fc2.""")
    c.net(channels=3, input="3x224x224", classes=1000)
    i = 0
    for v in (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"):
        if v == "M":
            c.sec("maxpool", name="features.%d" % i, size=2)
            i += 1
        else:
            c.conv("features.%d" % i, v, 3, act="$ACT")
            i += 2
    c.sec("adaptive_avgpool", name="avgpool", out=7)
    c.sec("dense", name="classifier.0", out=4096, act="$ACT")
    c.sec("dropout", name="classifier.2", p=0.5)
    c.sec("dense", name="classifier.3", out=4096, act="$ACT")
    c.sec("dropout", name="classifier.5", p=0.5)
    c.sec("dense", name="classifier.6", out="$CLASSES")
    c.write("vgg11")


# ---- seed 003's shallow VGGs ------------------------------------------------------------------
def shallow_vgg(blocks):
    flat = {1: 8192, 2: 4096, 3: 2048}[blocks]
    widths = (32, 64, 128)[:blocks]
    c = Cfg("""Seed 003's shallow VGG with %d block%s (SPEC.md 4.10): [conv3x3 same -> act] x2 -> maxpool 2 per block (%s filters), fc 128 -> act -> fc classes; Glorot normal init.
Input 3x32x32 (CIFAR-10; flatten %d). The seed gives no filter counts: these are the standard
VGG-block baseline's. Activation sites ($ACT): two per block and the hidden fc (%d).""" % (
        blocks, "" if blocks == 1 else "s", "/".join(map(str, widths)), flat, 2 * blocks + 1))
    c.net(channels=3, height=32, width=32, classes=10, init="glorot_normal")
    for b, f in enumerate(widths):
        c.conv("block%d.conv1" % (b + 1), f, 3, pad="same", act="$ACT")
        c.conv("block%d.conv2" % (b + 1), f, 3, pad="same", act="$ACT")
        c.sec("maxpool", name="block%d.pool" % (b + 1), size=2)
    c.sec("dense", name="fc1", out=128, act="$ACT")
    c.sec("dense", name="fc2", out="$CLASSES")
    c.write("vgg%d" % blocks)


# ---- seed 004's network ---------------------------------------------------------------------
def sqrtnet(bn):
    c = Cfg("""Seed 004's CNN as SPEC.md 5 reconstructs it%s: conv3x3 192 -> pool -> act -> conv3x3 192 -> pool -> act -> fc 1256 -> act -> dropout -> fc classes.
Input 3x16x16 (the seed's downsampled CIFAR-10). Activations come before each conv and fc except
the first (3 sites, $ACT)%s. Dropout p = $DROPOUT (default 0: off; the seed uses 0.3 in some
runs, e.g. --model-var DROPOUT=0.3). The seed's own parameter counts (ReLU 4,749,226) cannot be
matched with these widths (SPEC.md 5): layer sizes are approximate.""" % (
        " with batch norm" if bn else "",
        "; batch norm right before each activation" if bn else ""))
    c.net(channels=3, height=16, width=16, classes=10)
    c.conv("conv1", 192, 3, pad="same")
    c.sec("maxpool", name="pool1", size=2)
    if bn:
        c.bn("bn1", act="$ACT")
    else:
        c.sec("act", name="act1", act="$ACT")
    c.conv("conv2", 192, 3, pad="same")
    c.sec("maxpool", name="pool2", size=2)
    c.sec("flatten", name="flatten")
    if bn:
        c.bn("bn2", act="$ACT")
    else:
        c.sec("act", name="act2", act="$ACT")
    c.sec("dense", name="fc1", out=1256)
    if bn:
        c.bn("bn3", act="$ACT")
    else:
        c.sec("act", name="act3", act="$ACT")
    c.sec("dropout", name="dropout", p="$DROPOUT:0")
    c.sec("dense", name="fc2", out="$CLASSES")
    c.write("sqrtnet-bn" if bn else "sqrtnet")


# ---- seed 002 (Hu et al.'s TensorFlow code) ---------------------------------------------------
def lenet_hu():
    c = Cfg("""Seed 002's LeNet (Hu et al.'s LeNet_model.py): conv5x5 6 same -> act -> pool -> conv14x14 16 same -> act -> pool -> fc 1024->120 -> act -> dropout 0.1 -> fc classes.
Input 3x32x32 (CIFAR-10). TensorFlow 'SAME' padding (the 14x14 kernel pads 6 above/left and 7
below/right, as pad = same does) and SAME 2x2 pooling. Activation sites ($ACT): 3. Differences
from the TensorFlow code: weights start from PyTorch's default instead of truncated normal 0.1,
and the loss is the usual softmax cross-entropy (the code applied softmax twice).""")
    c.net(channels=3, height=32, width=32, classes=10)
    c.conv("conv1", 6, 5, pad="same", act="$ACT")
    c.sec("maxpool", name="pool1", size=2)
    c.conv("conv2", 16, 14, pad="same", act="$ACT")
    c.sec("maxpool", name="pool2", size=2)
    c.sec("dense", name="fc1", out=120, act="$ACT")
    c.sec("dropout", name="drop", p=0.1)
    c.sec("dense", name="fc2", out="$CLASSES")
    c.write("lenet-hu")


def alexnet_cifar():
    c = Cfg("""Seed 002's AlexNet for CIFAR (Hu et al.'s AlexNet_model.py): conv11x11/2 96 -> LRN -> pool, conv5x5 256 (2 groups) -> LRN -> pool, conv3x3 384, conv3x3 256 (2 groups) -> pool, fc 1024, fc 2048, fc classes.
Input 3x32x32 (CIFAR-10). As in the code, every activation site (conv1, conv2, conv3, conv5, fc6,
fc7: 6 sites, $ACT) is batch norm (TensorFlow decay 0.999, eps 1e-3) then the activation; LRN is
tf.nn.lrn(depth_radius 5, bias 2, alpha 1e-4, beta 0.75) = [lrn] size 11, k 2, alpha 1.1e-3;
pools are 3x3/2 'VALID'; dropout keeps 0.9. conv4 (3x3 384, 2 groups) is removed, as in the code
(seed 002's Table 3 lists it). conv1 pads 4 above/left and 5 below/right, as TensorFlow's 'SAME'
does for this strided conv. Difference: weights start from PyTorch's default instead of
N(0, 0.01) (biases 0 or 1).""")
    c.net(channels=3, height=32, width=32, classes=10)
    bn = dict(momentum=0.001, eps=0.001)
    lrn = dict(size=11, alpha=0.0011, beta=0.75, k=2)
    c.conv("conv1", 96, 11, stride=2, pad="4,5")
    c.bn("conv1.bn", act="$ACT", **bn)
    c.sec("lrn", name="norm1", **lrn)
    c.sec("maxpool", name="pool1", size=3, stride=2)
    c.conv("conv2", 256, 5, groups=2)
    c.bn("conv2.bn", act="$ACT", **bn)
    c.sec("lrn", name="norm2", **lrn)
    c.sec("maxpool", name="pool2", size=3, stride=2)
    c.conv("conv3", 384, 3)
    c.bn("conv3.bn", act="$ACT", **bn)
    c.conv("conv5", 256, 3, groups=2)
    c.bn("conv5.bn", act="$ACT", **bn)
    c.sec("maxpool", name="pool5", size=3, stride=2)
    c.sec("dense", name="fc6", out=1024)
    c.bn("fc6.bn", act="$ACT", **bn)
    c.sec("dropout", name="dropout6", p=0.1)
    c.sec("dense", name="fc7", out=2048)
    c.bn("fc7.bn", act="$ACT", **bn)
    c.sec("dropout", name="dropout7", p=0.1)
    c.sec("dense", name="fc8", out="$CLASSES")
    c.write("alexnet-cifar")


# ---- GoogLeNet for CIFAR (inception v1 blocks, 32x32 stem) ----------------------------------
def googlenet_cifar():
    c = Cfg("""GoogLeNet for CIFAR: conv3x3 192 stem, inception blocks 3a-3b, pool, 4a-4e, pool, 5a-5b (Szegedy et al. 2015 widths), global average pool, fc classes.
Input 3x32x32 (any size: global pooling head). The common CIFAR adaptation (as in kuangliu/pytorch-cifar): no 7x7 stem or
auxiliary heads, every conv followed by batch norm and the activation, and the 5x5 branch as two
3x3 convs. Inception branches: 1x1 | 1x1 -> 3x3 | 1x1 -> 3x3 -> 3x3 | maxpool3 -> 1x1,
concatenated. Activation sites ($ACT): every conv (1 + 9 x 7 = 64).""")
    c.net(channels=3, input="3x32x32", classes=10)
    c.conv("pre.conv", 192, 3, act=None)
    c.bn("pre.bn", act="$ACT")
    prev = "pre.bn_act"

    def cbr(name, f, k, inputs):
        c.conv(name + ".conv", f, k, inputs=inputs)
        c.bn(name + ".bn", act="$ACT")
        return name + ".bn_act"

    def inception(p, n1, n3r, n3, n5r, n5, pp):
        nonlocal prev
        b1 = cbr(p + ".b1", n1, 1, prev)
        b2 = cbr(p + ".b2.0", n3r, 1, prev)
        b2 = cbr(p + ".b2.1", n3, 3, b2)
        b3 = cbr(p + ".b3.0", n5r, 1, prev)
        b3 = cbr(p + ".b3.1", n5, 3, b3)
        b3 = cbr(p + ".b3.2", n5, 3, b3)
        c.sec("maxpool", name=p + ".b4.pool", inputs=prev, size=3, stride=1, pad=1)
        b4 = cbr(p + ".b4", pp, 1, p + ".b4.pool")
        c.sec("concat", name=p, inputs="%s, %s, %s, %s" % (b1, b2, b3, b4))
        prev = p

    inception("a3", 64, 96, 128, 16, 32, 32)
    inception("b3", 128, 128, 192, 32, 96, 64)
    c.sec("maxpool", name="pool3", size=3, stride=2, pad=1)
    prev = "pool3"
    inception("a4", 192, 96, 208, 16, 48, 64)
    inception("b4", 160, 112, 224, 24, 64, 64)
    inception("c4", 128, 128, 256, 24, 64, 64)
    inception("d4", 112, 144, 288, 32, 64, 64)
    inception("e4", 256, 160, 320, 32, 128, 128)
    c.sec("maxpool", name="pool4", size=3, stride=2, pad=1)
    prev = "pool4"
    inception("a5", 256, 160, 320, 32, 128, 128)
    inception("b5", 384, 192, 384, 48, 128, 128)
    c.sec("gap", name="avgpool")
    c.sec("dense", name="linear", out="$CLASSES")
    c.write("googlenet-cifar")


# ---- seed 002's GoogLeNet (Hu et al.'s GoogLeNet_model.py) --------------------------------------
def googlenet_hu():
    c = Cfg("""Seed 002's GoogLeNet (Hu et al.'s GoogLeNet_model.py): conv7x7/2 64, pool, conv3x3 192 x2, pool, inception 3a-3b, pool, 4a-4e, pool, 5a-5b (true 5x5 branches), average pool, dropout 0.1, fc.
Input exactly 3x32x32 (the code reshapes the last 1x1 map to 1024 features). Every conv is conv
(bias) -> batch norm (TensorFlow decay 0.999, eps 1e-3) -> activation ($ACT: 3 + 6 per inception
= 57 sites). TensorFlow 'SAME' padding throughout: the 7x7/2 stem pads 2 before and 3 after,
3x3/2 max pools pad 0 before and 1 after. Differences: weights start from PyTorch's default, not
N(0, 0.01); the code's softmax before the cross-entropy is not repeated.""")
    c.net(channels=3, height=32, width=32, classes=10)
    bn = dict(momentum=0.001, eps=0.001)

    def cbr(name, f, k, inputs=None, stride=1, pad=None):
        c.conv(name, f, k, stride=stride, pad=pad, inputs=inputs)
        c.bn(name + ".bn", act="$ACT", **bn)
        return name + ".bn_act"

    x = cbr("conv_1", 64, 7, stride=2, pad="2,3")
    c.sec("maxpool", name="max_pool_1", size=3, stride=2, pad="0,1")
    x = cbr("conv_2", 192, 3)
    x = cbr("conv_3", 192, 3)
    c.sec("maxpool", name="max_pool_2", size=3, stride=2, pad="0,1")
    prev = "max_pool_2"

    def inception(p, n1, n3r, n3, n5r, n5, pp):
        nonlocal prev
        b1 = cbr(p + ".conv_11", n1, 1, inputs=prev)
        b2 = cbr(p + ".conv_33_reduce", n3r, 1, inputs=prev)
        b2 = cbr(p + ".conv_33", n3, 3, inputs=b2)
        b3 = cbr(p + ".conv_55_reduce", n5r, 1, inputs=prev)
        b3 = cbr(p + ".conv_55", n5, 5, inputs=b3)
        c.sec("maxpool", name=p + ".pool", inputs=prev, size=3, stride=1, pad=1)
        b4 = cbr(p + ".conv_pool", pp, 1, inputs=p + ".pool")
        c.sec("concat", name=p, inputs="%s, %s, %s, %s" % (b1, b2, b3, b4))
        prev = p

    inception("inception_3a", 64, 96, 128, 16, 32, 32)
    inception("inception_3b", 128, 128, 192, 32, 96, 64)
    c.sec("maxpool", name="max_pool_3", size=3, stride=2, pad="0,1")
    prev = "max_pool_3"
    inception("inception_4a", 192, 96, 208, 16, 48, 64)
    inception("inception_4b", 160, 112, 224, 24, 64, 64)
    inception("inception_4c", 128, 128, 256, 24, 64, 64)
    inception("inception_4d", 112, 144, 288, 32, 64, 64)
    inception("inception_4e", 256, 160, 320, 32, 128, 128)
    c.sec("maxpool", name="max_pool_4", size=3, stride=2, pad="0,1")
    prev = "max_pool_4"
    inception("inception_5a", 256, 160, 320, 32, 128, 128)
    inception("inception_5b", 384, 192, 384, 48, 128, 128)
    c.sec("gap", name="avg_pool_1")
    c.sec("dropout", name="dropout_1", p=0.1)
    c.sec("dense", name="linear_1", out="$CLASSES")
    c.write("googlenet-hu")


# ---- DenseNet-BC (Huang et al. 2017), depth 100, k = 12 ---------------------------------------
def densenet_bc(depth=100, k=12):
    n = (depth - 4) // 6
    c = Cfg("""DenseNet-BC-%d (k = %d) for CIFAR (Huang et al. 2017): 3 dense blocks of %d bottleneck layers (BN-act-conv1x1 4k, BN-act-conv3x3 k), transitions with compression 0.5.
Input 3x32x32 (any size: global pooling head). Stem conv3x3 2k; transition = BN -> act -> conv1x1 (half the channels) -> avgpool 2;
head BN -> act -> global average pool -> fc. Convs have no bias. Activation sites ($ACT): two per
bottleneck layer, one per transition and the head (%d).""" % (depth, k, n, 2 * 3 * n + 2 + 1))
    c.net(channels=3, input="3x32x32", classes=10)
    ch = 2 * k
    c.conv("conv1", ch, 3, bias=0)
    prev = "conv1"
    for blk in range(3):
        for i in range(n):
            p = "dense%d.%d" % (blk + 1, i)
            c.bn(p + ".bn1", act="$ACT", inputs=prev)
            c.conv(p + ".conv1", 4 * k, 1, bias=0)
            c.bn(p + ".bn2", act="$ACT")
            c.conv(p + ".conv2", k, 3, bias=0)
            c.sec("concat", name=p + ".cat", inputs="%s, %s" % (prev, p + ".conv2"))
            prev = p + ".cat"
            ch += k
        if blk < 2:
            p = "trans%d" % (blk + 1)
            ch //= 2
            c.bn(p + ".bn", act="$ACT")
            c.conv(p + ".conv", ch, 1, bias=0)
            c.sec("avgpool", name=p + ".pool", size=2)
            prev = p + ".pool"
    c.bn("bn", act="$ACT")
    c.sec("gap", name="avgpool")
    c.sec("dense", name="linear", out="$CLASSES")
    c.write("densenet-bc")


# ---- seed 002's DenseNet (Hu et al.'s Densenet_Cifar10.py) ----------------------------------
def densenet_hu(k=24, blocks=(6, 12, 48, 32)):
    c = Cfg("""Seed 002's DenseNet (Hu et al.'s Densenet_Cifar10.py): conv7x7/2 48, dense blocks of 6-12-48-32 bottleneck layers (k = 24, dropout 0.2), 3 transitions (compression 0.5), BN-act-pool-fc.
Input 3x32x32 (any size: global pooling head). Bottleneck = BN -> act -> conv1x1 4k -> dropout
-> BN -> act -> conv3x3 k -> dropout, concatenated to its input; transition = BN -> act ->
conv1x1 (half) -> dropout -> avgpool 2. Convs have no bias; the stem pads 2 before, 3 after as
TensorFlow's 'SAME'. Batch norm as tf.contrib's (decay 0.9 = momentum 0.1, eps 1e-3). The code's
activation at the sites ($ACT) was leaky ReLU 0.2 in its last run. Difference: weights start
from PyTorch's default, not TensorFlow's Glorot uniform.""")
    c.net(channels=3, input="3x32x32", classes=10)
    bn = dict(eps=0.001)
    ch = 2 * k
    c.conv("conv0", ch, 7, stride=2, pad="2,3", bias=0)
    prev = "conv0"
    for bi, nl in enumerate(blocks):
        for i in range(nl):
            p = "dense%d.%d" % (bi + 1, i)
            c.bn(p + ".bn1", act="$ACT", inputs=prev, **bn)
            c.conv(p + ".conv1", 4 * k, 1, bias=0)
            c.sec("dropout", name=p + ".drop1", p=0.2)
            c.bn(p + ".bn2", act="$ACT", **bn)
            c.conv(p + ".conv2", k, 3, bias=0)
            c.sec("dropout", name=p + ".drop2", p=0.2)
            c.sec("concat", name=p + ".cat", inputs="%s, %s" % (prev, p + ".drop2"))
            prev = p + ".cat"
            ch += k
        if bi < len(blocks) - 1:
            p = "trans%d" % (bi + 1)
            ch //= 2
            c.bn(p + ".bn", act="$ACT", **bn)
            c.conv(p + ".conv", ch, 1, bias=0)
            c.sec("dropout", name=p + ".drop", p=0.2)
            c.sec("avgpool", name=p + ".pool", size=2)
            prev = p + ".pool"
    c.bn("bn", act="$ACT", **bn)
    c.sec("gap", name="avgpool")
    c.sec("dense", name="linear", out="$CLASSES")
    c.write("densenet-hu")


# ---- EfficientNet-B0 as torchvision.models.efficientnet_b0 --------------------------------------
def efficientnet_b0():
    c = Cfg("""EfficientNet-B0 as torchvision.models.efficientnet_b0: stem conv3x3/2 32, 16 MBConv blocks (depthwise convs, squeeze-excitation, swish), conv1x1 1280, pool, dropout 0.2, fc; 5,288,548 parameters for 1000 classes.
Exactly torchvision's parameters. Every swish is an activation site ($ACT, default = silu for
sites --act-sites leaves out); the stem's is site 1, so seed 000's experiment (only the stem
swapped) is --act-sites first, and `--act silu` gives the original network. Squeeze-excitation
gates keep their sigmoid. Batch norm eps 1e-5, momentum 0.1 as torchvision 0.14. Differences:
torchvision's stochastic depth (dropping residual branches in training) is not modelled. Any
input of at least 32x32 works; the default is 3x224x224.""")
    c.net(channels=3, input="3x224x224", classes=1000)
    bn = {}  # torchvision 0.14's efficientnet_b0: BatchNorm2d defaults (eps 1e-5, momentum 0.1)
    c.conv("features.0.0", 32, 3, stride=2, pad=1, bias=0)
    c.bn("features.0.1", act="$ACT", default="silu", **bn)
    prev = "features.0.1_act"
    cin = 32
    stages = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
              (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]
    for si, (e, k, s, cout, reps) in enumerate(stages):
        for r in range(reps):
            stride = s if r == 0 else 1
            p = "features.%d.%d" % (si + 1, r)
            exp = cin * e
            block_in = x = prev
            if e != 1:
                c.conv(p + ".expand", exp, 1, bias=0, inputs=x)
                c.bn(p + ".expand.bn", act="$ACT", default="silu", **bn)
                x = p + ".expand.bn_act"
            c.conv(p + ".dw", exp, k, stride=stride, groups=exp, bias=0, inputs=x)
            c.bn(p + ".dw.bn", act="$ACT", default="silu", **bn)
            dw = p + ".dw.bn_act"
            sq = max(1, cin // 4)
            c.sec("gap", name=p + ".se.pool")
            c.conv(p + ".se.fc1", sq, 1, act="$ACT", default="silu")
            c.conv(p + ".se.fc2", exp, 1, act="sigmoid")
            c.sec("scale", name=p + ".se", inputs="%s, %s" % (dw, p + ".se.fc2_act"))
            c.conv(p + ".project", cout, 1, bias=0)
            c.bn(p + ".project.bn", **bn)
            prev = p + ".project.bn"
            if stride == 1 and cin == cout:
                c.sec("shortcut", name=p + ".add", inputs="%s, %s" % (prev, block_in))
                prev = p + ".add"
            cin = cout
    c.conv("features.8.0", 1280, 1, bias=0, inputs=prev)
    c.bn("features.8.1", act="$ACT", default="silu", **bn)
    c.sec("gap", name="avgpool")
    c.sec("dropout", name="classifier.0", p=0.2)
    c.sec("dense", name="classifier.1", out="$CLASSES")
    c.write("efficientnet-b0")


def main():
    cifar_resnet(20)
    cifar_resnet(56)
    tv_resnet("resnet18", "basic", (2, 2, 2, 2), "11,689,512")
    tv_resnet("resnet50", "bottleneck", (3, 4, 6, 3), "25,557,032")
    vgg11()
    for b in (1, 2, 3):
        shallow_vgg(b)
    sqrtnet(False)
    sqrtnet(True)
    lenet_hu()
    alexnet_cifar()
    googlenet_cifar()
    googlenet_hu()
    densenet_bc()
    densenet_hu()
    efficientnet_b0()


if __name__ == "__main__":
    main()
