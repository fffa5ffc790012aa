#!/usr/bin/env python3
"""Checks nas::export_network's files with Python PyTorch (ctest python.export).

    export_check.py DIR

DIR holds what examples/export_network wrote: darts.pt and nb201.pt (nas::export_network) and
io.pt (an input batch and each network's logits computed by nas). The DARTS network is rebuilt
here by a re-implementation of DARTS's NetworkCIFAR written for this test from the paper's
description of the evaluation network (not DARTS's code), its `load_state_dict(strict=True)` takes
the exported tensors, and its logits must equal nas's within 1e-5. Then it saves its own state as
a plain dict (DIR/python_state.pt) for nas to load back (export_network DIR --check).
"""

import collections
import sys

import torch
from torch import nn


class ReLUConvBN(nn.Module):
    def __init__(self, c_in, c_out, kernel, stride, padding):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(), nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=False),
                                nn.BatchNorm2d(c_out))

    def forward(self, x):
        return self.op(x)


class FactorizedReduce(nn.Module):
    """Halves the resolution with two 1x1 stride-2 convolutions, the second shifted by a pixel."""

    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x):
        x = torch.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


class SepConv(nn.Module):
    """Twice: ReLU, depthwise KxK, pointwise 1x1, batch norm (only the first block strides)."""

    def __init__(self, c, k, stride):
        super().__init__()
        p = k // 2
        self.op = nn.Sequential(
            nn.ReLU(), nn.Conv2d(c, c, k, stride, p, groups=c, bias=False), nn.Conv2d(c, c, 1, bias=False),
            nn.BatchNorm2d(c),
            nn.ReLU(), nn.Conv2d(c, c, k, 1, p, groups=c, bias=False), nn.Conv2d(c, c, 1, bias=False),
            nn.BatchNorm2d(c))

    def forward(self, x):
        return self.op(x)


class DilConv(nn.Module):
    """ReLU, depthwise KxK with dilation 2, pointwise 1x1, batch norm."""

    def __init__(self, c, k, stride):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(), nn.Conv2d(c, c, k, stride, k - 1, dilation=2, groups=c, bias=False),
                                nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        return self.op(x)


def make_op(name, c, stride):
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(c, c)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride, 1, count_include_pad=False)
    if name == "max_pool_3x3":
        return nn.MaxPool2d(3, stride, 1)
    if name.startswith("sep_conv_"):
        return SepConv(c, int(name[-1]), stride)
    if name.startswith("dil_conv_"):
        return DilConv(c, int(name[-1]), stride)
    raise ValueError(f"op {name} is not in this test's re-implementation")


class Cell(nn.Module):
    def __init__(self, pairs, concat, c_pp, c_p, c, reduction, reduction_prev):
        super().__init__()
        self.preprocess0 = FactorizedReduce(c_pp, c) if reduction_prev else ReLUConvBN(c_pp, c, 1, 1, 0)
        self.preprocess1 = ReLUConvBN(c_p, c, 1, 1, 0)
        self._ops = nn.ModuleList(make_op(op, c, 2 if reduction and j < 2 else 1) for op, j in pairs)
        self.inputs = [j for _, j in pairs]
        self.concat = list(concat)

    def forward(self, s0, s1):
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for node in range(len(self._ops) // 2):
            a, b = 2 * node, 2 * node + 1
            states.append(self._ops[a](states[self.inputs[a]]) + self._ops[b](states[self.inputs[b]]))
        return torch.cat([states[i] for i in self.concat], dim=1)


class AuxiliaryHeadCIFAR(nn.Module):
    def __init__(self, c, classes):
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(), nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False),
            nn.Conv2d(c, 128, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
            nn.Conv2d(128, 768, 2, bias=False), nn.BatchNorm2d(768), nn.ReLU())
        self.classifier = nn.Linear(768, classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


class NetworkCIFAR(nn.Module):
    def __init__(self, c, classes, layers, auxiliary, genotype, in_channels=3, stem_multiplier=3):
        super().__init__()
        c_curr = stem_multiplier * c
        self.stem = nn.Sequential(nn.Conv2d(in_channels, c_curr, 3, padding=1, bias=False), nn.BatchNorm2d(c_curr))
        c_pp, c_p, c_curr = c_curr, c_curr, c
        self.cells = nn.ModuleList()
        reduction_prev = False
        c_aux = None
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3)
            if reduction:
                c_curr *= 2
            pairs, concat = (genotype.reduce, genotype.reduce_concat) if reduction else (genotype.normal, genotype.normal_concat)
            self.cells.append(Cell(pairs, concat, c_pp, c_p, c_curr, reduction, reduction_prev))
            reduction_prev = reduction
            c_pp, c_p = c_p, len(concat) * c_curr
            if i == 2 * layers // 3:
                c_aux = c_p
        if auxiliary:
            self.auxiliary_head = AuxiliaryHeadCIFAR(c_aux, classes)
        self.classifier = nn.Linear(c_p, classes)

    def forward(self, x):
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(s1, 1), 1))


def main(folder):
    Genotype = collections.namedtuple("Genotype", "normal normal_concat reduce reduce_concat")
    exported = torch.load(f"{folder}/darts.pt")  # weights_only=True (torch's default)
    assert exported["format"] == "nas-network" and exported["format_version"] == 1, exported.keys()
    assert exported["names"] == "DARTS model.py", exported["names"]
    genotype = eval(exported["genotype"], {"__builtins__": {}}, {"Genotype": Genotype, "range": range})
    st = exported["stack"]
    assert st["skeleton"] == "darts_cifar", st
    model = NetworkCIFAR(st["channels"], st["classes"], st["layers"], bool(st["auxiliary"]), genotype,
                         st["input_channels"], st["stem_multiplier"])
    model.load_state_dict(exported["state_dict"], strict=True)  # every name and shape
    model.eval()
    io = torch.load(f"{folder}/io.pt")
    with torch.no_grad():
        logits = model(io["input"])
    diff = (logits - io["darts_logits"]).abs().max().item()
    print(f"darts.pt: {len(exported['state_dict'])} tensors taken by NetworkCIFAR.load_state_dict(strict=True); "
          f"logits differ from nas's by at most {diff:.2e}")
    assert diff <= 1e-5, diff
    assert logits.abs().max().item() > 1e-3, "degenerate logits: the check would prove nothing"

    nb201 = torch.load(f"{folder}/nb201.pt")
    assert nb201["names"] == "nas" and nb201["genotype"].startswith("|"), (nb201["names"], nb201["genotype"])
    assert all(isinstance(t, torch.Tensor) for t in nb201["state_dict"].values())
    print(f"nb201.pt: {len(nb201['state_dict'])} tensors in nas's names, genotype {nb201['genotype']}")

    torch.save(dict(model.state_dict()), f"{folder}/python_state.pt")


if __name__ == "__main__":
    main(sys.argv[1])
