#!/usr/bin/env python3
"""Eager-PyTorch reference for bench_steps: the same supernet search steps nas runs, written as
a user would write them in plain eager PyTorch (in the style of DARTS's public code), so that
benchmarks/run.py can print each C++ time next to its ratio to this program's time.

  steps.py --step darts1|darts2|gdas|enas|controller|spos|darts_v2 --size published|small
           --batch N [--device cpu|cuda] [--warmup 1] [--reps 5] [--threads T]
           [--channels-last] [--count] [--profile table.txt]

The networks mirror nas's modules layer for layer (include/nas/ops/darts.hpp,
nn/mixed_edge.hpp, nn/supernet.hpp, nn/darts_network.hpp, controller/controller.hpp), so that
the parameter counts are the C++ library's; the optimizers and their settings are the C++
defaults (DartsOptions, GdasOptions, WeightTraining, ReinforceOptions, FromScratchOptions).
Prints one JSON line with the same fields as bench_steps.
"""
import argparse
import json
import math
import resource
import statistics
import time
import warnings

warnings.filterwarnings("ignore", message="Failed to initialize NumPy")  # numpy is optional
import torch  # noqa: E402
import torch.nn as nn
import torch.nn.functional as F

# The eight DARTS primitives, in DARTS's order (nas::ops::darts_ops).
PRIMITIVES = ["none", "max_pool_3x3", "avg_pool_3x3", "skip_connect",
              "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"]
NODES = 4  # computed nodes per cell; nodes 0 and 1 are the two inputs
# The edges of the DARTS cell, sorted by target then source: their index is the row of alpha.
EDGES = [(src, node) for node in range(2, 2 + NODES) for src in range(node)]
EDGE_INDEX = {edge: e for e, edge in enumerate(EDGES)}
# (images' channels, resolution, channels of the first cells, cells)
SIZES = {"published": (3, 32, 16, 8), "small": (1, 28, 8, 5)}
CLASSES = 10

# DARTS V2 as DARTS's genotypes.py writes it: (op, input) pairs, two per node.
DARTS_V2 = {
    "normal": [("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
               ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)],
    "reduce": [("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
               ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)],
}


# ---------------------------------------------------------------------------------------------
# Operations (layer order, no conv bias, padding and affine flags as nas::ops)

def relu_conv_bn(c_in, c_out, affine):
    return nn.Sequential(nn.ReLU(), nn.Conv2d(c_in, c_out, 1, bias=False),
                         nn.BatchNorm2d(c_out, affine=affine))


class FactorizedReduce(nn.Module):
    """Halves the resolution: two 1x1 stride-2 convs (one on the input shifted by a pixel)."""

    def __init__(self, c_in, c_out, affine):
        super().__init__()
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x):
        x = F.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


class Zero(nn.Module):
    def __init__(self, stride):
        super().__init__()
        self.stride = stride

    def forward(self, x):
        return x.mul(0.) if self.stride == 1 else x[:, :, ::self.stride, ::self.stride].mul(0.)


def sep_conv(c, k, stride, affine):
    return nn.Sequential(
        nn.ReLU(), nn.Conv2d(c, c, k, stride, k // 2, groups=c, bias=False),
        nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c, affine=affine),
        nn.ReLU(), nn.Conv2d(c, c, k, 1, k // 2, groups=c, bias=False),
        nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c, affine=affine))


def dil_conv(c, k, stride, affine):
    return nn.Sequential(
        nn.ReLU(), nn.Conv2d(c, c, k, stride, k - 1, dilation=2, groups=c, bias=False),
        nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c, affine=affine))


OPS = {
    "none": lambda c, s, affine: Zero(s),
    "max_pool_3x3": lambda c, s, affine: nn.MaxPool2d(3, s, padding=1),
    "avg_pool_3x3": lambda c, s, affine: nn.AvgPool2d(3, s, padding=1, count_include_pad=False),
    "skip_connect": lambda c, s, affine: nn.Identity() if s == 1 else FactorizedReduce(c, c, affine),
    "sep_conv_3x3": lambda c, s, affine: sep_conv(c, 3, s, affine),
    "sep_conv_5x5": lambda c, s, affine: sep_conv(c, 5, s, affine),
    "dil_conv_3x3": lambda c, s, affine: dil_conv(c, 3, s, affine),
    "dil_conv_5x5": lambda c, s, affine: dil_conv(c, 5, s, affine),
}


def add_all(parts):
    out = parts[0]
    for p in parts[1:]:
        out = out + p
    return out


def cell_plan(layers, channels, stem_channels):
    """(c_prev_prev, c_prev, c, reduction, reduction_prev) of each cell of the DARTS CIFAR
    skeleton: reductions at 1/3 and 2/3 of the depth, each cell outputs 4 nodes x c."""
    c_pp, c_p, c, reduction_prev = stem_channels, stem_channels, channels, False
    for i in range(layers):
        reduction = i in (layers // 3, 2 * layers // 3)
        if reduction:
            c *= 2
        yield c_pp, c_p, c, reduction, reduction_prev
        c_pp, c_p, reduction_prev = c_p, NODES * c, reduction


def stem(in_channels, c_stem):
    return nn.Sequential(nn.Conv2d(in_channels, c_stem, 3, padding=1, bias=False),
                         nn.BatchNorm2d(c_stem))


# ---------------------------------------------------------------------------------------------
# The supernet: every op on every edge; one forward mixes them by softmax (DARTS), one Gumbel
# sample (GDAS) or a fixed path (ENAS, SPOS).

class MixedOp(nn.Module):
    def __init__(self, c, stride):
        super().__init__()
        self.ops = nn.ModuleList()
        for name in PRIMITIVES:
            op = OPS[name](c, stride, False)
            if "pool" in name:  # DARTS follows pools by an affine-free batch norm in search
                op = nn.Sequential(op, nn.BatchNorm2d(c, affine=False))
            self.ops.append(op)

    def forward(self, x, mix, e):
        kind, data = mix
        if kind == "softmax":  # every op, zero op included, as DARTS's MixedOp
            return sum(w * op(x) for w, op in zip(data[e], self.ops))
        if kind == "gumbel":  # the sampled op, scaled by its hard weight; the other entries of
            h, index = data   # h (value zero) are added so that every alpha gets a gradient
            k = index[e]
            return self.ops[k](x) * h[e, k] + (h[e].sum() - h[e, k])
        ks = data[e]  # path: the kept ops of this edge, unweighted (none: the edge is off)
        return add_all([self.ops[k](x) for k in ks]) if ks else None


class SearchCell(nn.Module):
    def __init__(self, c_pp, c_p, c, reduction, reduction_prev):
        super().__init__()
        self.reduction = reduction
        self.preprocess0 = (FactorizedReduce(c_pp, c, False) if reduction_prev
                            else relu_conv_bn(c_pp, c, False))
        self.preprocess1 = relu_conv_bn(c_p, c, False)
        self.edges = nn.ModuleList(MixedOp(c, 2 if reduction and src < 2 else 1)
                                   for src, _ in EDGES)

    def forward(self, s0, s1, mix):
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for node in range(2, 2 + NODES):
            parts = [self.edges[EDGE_INDEX[(src, node)]](states[src], mix, EDGE_INDEX[(src, node)])
                     for src in range(node)]
            states.append(add_all([p for p in parts if p is not None]))
        return torch.cat(states[2:], dim=1)


class Supernet(nn.Module):
    def __init__(self, in_channels, channels, layers, relax, tau=10.0):
        super().__init__()
        self.relax, self.tau, self.path = relax, tau, None
        self.stem = stem(in_channels, 3 * channels)
        self.cells = nn.ModuleList(SearchCell(*p) for p in cell_plan(layers, channels, 3 * channels))
        self.classifier = nn.Linear(NODES * self.cells[-1].preprocess1[1].out_channels, CLASSES)
        if relax != "path":  # alpha of the normal and the reduction cell, 1e-3 * N(0, 1)
            self.alphas = nn.ParameterList(
                nn.Parameter(1e-3 * torch.randn(len(EDGES), len(PRIMITIVES))) for _ in range(2))

    def weight_parameters(self):
        return [p for name, p in self.named_parameters() if not name.startswith("alphas")]

    def arch_parameters(self):
        return list(self.alphas) if self.relax != "path" else []

    def mix(self, kind):
        if self.relax == "softmax":
            return "softmax", F.softmax(self.alphas[kind], dim=-1)
        if self.relax == "gumbel":  # GDAS: hard Gumbel-max sample, straight-through weights
            log_p = F.log_softmax(self.alphas[kind], dim=-1)
            while True:
                gumbels = -torch.empty_like(log_p).exponential_().log()
                probs = F.softmax((log_p + gumbels) / self.tau, dim=-1)
                if torch.isfinite(gumbels).all() and torch.isfinite(probs).all():
                    break
            index = probs.detach().argmax(-1, keepdim=True)
            one_hot = torch.zeros_like(probs).scatter_(-1, index, 1.0)
            return "gumbel", (probs - probs.detach() + one_hot, index.squeeze(-1).tolist())
        return "path", self.path[kind]

    def set_path(self, genotype):
        """Runs only the ops of `genotype` ({kind: [(op, input), ...]}) from now on."""
        self.path = []
        for kind in ("normal", "reduce"):
            per_edge = [[] for _ in EDGES]
            for i, (op, src) in enumerate(genotype[kind]):
                per_edge[EDGE_INDEX[(src, 2 + i // 2)]].append(PRIMITIVES.index(op))
            self.path.append(per_edge)

    def forward(self, x):
        mixes = [self.mix(0), self.mix(1)]  # one mix per cell kind, shared by its cells
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, mixes[cell.reduction])
        return self.classifier(F.adaptive_avg_pool2d(s1, 1).flatten(1))


# ---------------------------------------------------------------------------------------------
# The discrete network of a genotype (DARTS's model.py layout, affine batch norms everywhere)

class Cell(nn.Module):
    def __init__(self, genotype, c_pp, c_p, c, reduction, reduction_prev):
        super().__init__()
        self.preprocess0 = (FactorizedReduce(c_pp, c, True) if reduction_prev
                            else relu_conv_bn(c_pp, c, True))
        self.preprocess1 = relu_conv_bn(c_p, c, True)
        self.inputs = [src for _, src in genotype]
        self.ops = nn.ModuleList(OPS[op](c, 2 if reduction and src < 2 else 1, True)
                                 for op, src in genotype)

    def forward(self, s0, s1):
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for i in range(NODES):
            a, b = 2 * i, 2 * i + 1
            states.append(self.ops[a](states[self.inputs[a]]) + self.ops[b](states[self.inputs[b]]))
        return torch.cat(states[2:], dim=1)


class Network(nn.Module):
    def __init__(self, genotype, in_channels, channels, layers):
        super().__init__()
        self.stem = stem(in_channels, 3 * channels)
        self.cells = nn.ModuleList(Cell(genotype["reduce" if p[3] else "normal"], *p)
                                   for p in cell_plan(layers, channels, 3 * channels))
        self.classifier = nn.Linear(NODES * self.cells[-1].preprocess1[1].out_channels, CLASSES)

    def forward(self, x):
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(F.adaptive_avg_pool2d(s1, 1).flatten(1))


# ---------------------------------------------------------------------------------------------
# ENAS's controller: an LSTM over the decisions of both cell kinds; per node, 2 inputs chosen
# by attention over the earlier nodes (ascending), then 2 ops (zero op excluded).

class Controller(nn.Module):
    def __init__(self, hidden=100, temperature=1.0, tanh_constant=1.10, op_tanh_reduce=2.5,
                 init_range=0.1):
        super().__init__()
        self.temperature, self.tanh_constant = temperature, tanh_constant
        self.op_clip = tanh_constant / op_tanh_reduce
        self.lstm = nn.LSTMCell(hidden, hidden)
        self.start = nn.Parameter(torch.zeros(1, hidden))
        self.op_head = nn.ModuleList(nn.Linear(hidden, len(PRIMITIVES)) for _ in range(2))
        self.op_embed = nn.ModuleList(nn.Embedding(len(PRIMITIVES), hidden) for _ in range(2))
        self.anchor = nn.ModuleList(nn.Linear(hidden, hidden, bias=False) for _ in range(2))
        self.query = nn.ModuleList(nn.Linear(hidden, hidden, bias=False) for _ in range(2))
        self.v = nn.ModuleList(nn.Linear(hidden, 1, bias=False) for _ in range(2))
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-init_range, init_range)

    def log_probs(self, logits, clip, allowed):
        logits = logits.reshape(-1) / self.temperature
        if clip > 0:
            logits = clip * torch.tanh(logits)
        if not all(allowed):
            mask = torch.tensor(allowed, dtype=torch.bool, device=logits.device)
            logits = logits.masked_fill(~mask, float("-inf"))
        return F.log_softmax(logits, dim=0)

    def walk(self, forced=None):
        """Samples the decisions (or replays `forced`); returns them with the sum of their
        log-probabilities and of the entropies of their distributions."""
        log_prob = torch.zeros((), device=self.start.device)
        entropy = torch.zeros((), device=self.start.device)
        decisions = []

        def take(logits, clip, allowed):
            nonlocal log_prob, entropy
            lp = self.log_probs(logits, clip, allowed)
            if forced is None:
                c = torch.multinomial(lp.detach().exp(), 1).item()
            else:
                c = forced[len(decisions)]
            decisions.append(c)
            log_prob = log_prob + lp[c]
            finite = lp.masked_fill(~torch.isfinite(lp), 0.0)
            entropy = entropy - (finite.exp() * finite).sum()
            return c

        for kind in range(2):
            zeros = torch.zeros_like(self.start)
            state = (zeros, zeros)

            def step(x):
                nonlocal state
                state = self.lstm(x, state)
                return state[0]

            x = self.start
            anchors, keys = [], []
            for _ in range(2):  # the two inputs
                anchors.append(step(x))
                keys.append(self.anchor[kind](anchors[-1]))
            for node in range(2, 2 + NODES):
                inputs = []
                for j in range(2):
                    h = step(x)
                    scores = self.v[kind](torch.tanh(torch.cat(keys[:node]) + self.query[kind](h)))
                    allowed = [(j == 0 or p > inputs[-1]) and p + 2 - j <= node for p in range(node)]
                    inputs.append(take(scores, self.tanh_constant, allowed))
                    x = anchors[inputs[-1]]
                for j in range(2):
                    h = step(x)
                    allowed = [name != "none" for name in PRIMITIVES]
                    op = take(self.op_head[kind](h), self.op_clip, allowed)
                    x = self.op_embed[kind](torch.tensor([op], device=h.device))
                anchors.append(step(x))
                keys.append(self.anchor[kind](anchors[-1]))
                x = self.start
        return decisions, log_prob, entropy


def genotype_of(decisions):
    """Per node the decisions are [input, input, op, op]; -> {kind: [(op, input), ...]}."""
    out = {}
    for kind, name in enumerate(("normal", "reduce")):
        cell = []
        for i in range(NODES):
            d = decisions[(kind * NODES + i) * 4:][:4]
            cell += [(PRIMITIVES[d[2]], d[0]), (PRIMITIVES[d[3]], d[1])]
        out[name] = cell
    return out


def uniform_genotype(rng):
    """A uniformly random architecture (nas::sample): per node 2 distinct inputs, one nonzero
    op each."""
    out = {}
    for name in ("normal", "reduce"):
        cell = []
        for node in range(2, 2 + NODES):
            inputs = sorted(torch.randperm(node, generator=rng)[:2].tolist())
            ops = torch.randint(1, len(PRIMITIVES), (2,), generator=rng).tolist()
            cell += [(PRIMITIVES[o], i) for o, i in zip(ops, inputs)]
        out[name] = cell
    return out


# ---------------------------------------------------------------------------------------------
# The steps. Each builder returns (step, weight parameter count, architecture parameter count);
# step() runs one step and returns its losses (Python floats, as a training loop logs them).

def count(params):
    return sum(p.numel() for p in params)


def weight_sgd(params):  # DartsOptions / GdasOptions / WeightTraining / FromScratchOptions
    return torch.optim.SGD(params, lr=0.025, momentum=0.9, weight_decay=3e-4)


def weight_step(net, optimizer, params, x, y):
    optimizer.zero_grad()
    loss = F.cross_entropy(net(x), y)
    loss.backward()
    nn.utils.clip_grad_norm_(params, 5.0)
    optimizer.step()
    return loss.item()


def build_bilevel(args, place, train, valid):
    in_channels, _, channels, layers = SIZES[args.size]
    net = place(Supernet(in_channels, channels, layers, "gumbel" if args.step == "gdas" else "softmax"))
    weights, alphas = net.weight_parameters(), net.arch_parameters()
    w_opt = weight_sgd(weights)
    a_opt = torch.optim.Adam(alphas, lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)
    eta, momentum, wd = 0.025, 0.9, 3e-4

    def arch_step_first_order():
        a_opt.zero_grad()
        loss = F.cross_entropy(net(valid[0]), valid[1])
        loss.backward()
        a_opt.step()
        return loss.item()

    def arch_step_unrolled():
        # w' = w - eta * (momentum * buffer + dL_train/dw + wd * w), in place (w saved)
        grads = torch.autograd.grad(F.cross_entropy(net(train[0]), train[1]), weights,
                                    allow_unused=True)
        saved = [w.detach().clone() for w in weights]
        with torch.no_grad():
            for w, g in zip(weights, grads):
                d = (torch.zeros_like(w) if g is None else g) + wd * w
                buffer = w_opt.state.get(w, {}).get("momentum_buffer")
                if buffer is not None:
                    d = d + momentum * buffer
                w.sub_(eta * d)
        # dL_val(w', a)/da and dL_val(w', a)/dw'
        loss = F.cross_entropy(net(valid[0]), valid[1])
        grads = torch.autograd.grad(loss, alphas + weights, allow_unused=True)
        grads = [torch.zeros_like(t) if g is None else g for t, g in zip(alphas + weights, grads)]
        dalpha, vector = grads[:len(alphas)], grads[len(alphas):]
        # finite-difference Hessian-vector product at w
        eps = 0.01 / torch.sqrt(sum(v.pow(2).sum() for v in vector)).item()

        def alpha_grads_at(sign):
            with torch.no_grad():
                for w, s, v in zip(weights, saved, vector):
                    w.copy_(s + sign * eps * v)
            return torch.autograd.grad(F.cross_entropy(net(train[0]), train[1]), alphas)

        plus, minus = alpha_grads_at(1.0), alpha_grads_at(-1.0)
        with torch.no_grad():
            for w, s in zip(weights, saved):
                w.copy_(s)
        for a, d, p, m in zip(alphas, dalpha, plus, minus):
            a.grad = d - eta * (p - m) / (2 * eps)
        a_opt.step()
        return loss.item()

    def darts_step():  # architecture step on the valid batch, then weight step on the train batch
        net.train()
        arch = arch_step_first_order() if args.step == "darts1" else arch_step_unrolled()
        return [arch, weight_step(net, w_opt, weights, *train)]

    def gdas_step():  # weight step on one sample, then architecture step on another
        net.train()
        return [weight_step(net, w_opt, weights, *train), arch_step_first_order()]

    return (gdas_step if args.step == "gdas" else darts_step), count(weights), count(alphas)


def build_single_path(args, place, train, device):
    in_channels, _, channels, layers = SIZES[args.size]
    net = place(Supernet(in_channels, channels, layers, "path"))
    weights = net.weight_parameters()
    optimizer = weight_sgd(weights)
    rng = torch.Generator().manual_seed(0)
    arch_params = 0
    if args.step == "enas":
        controller = Controller().to(device)
        arch_params = count(controller.parameters())

        def path():
            with torch.no_grad():
                return genotype_of(controller.walk()[0])
    else:
        def path():
            return uniform_genotype(rng)

    def step():
        net.train()
        net.set_path(path())
        return [weight_step(net, optimizer, weights, *train)]

    return step, count(weights), arch_params


def build_controller(device):
    controller = Controller().to(device)
    optimizer = torch.optim.Adam(controller.parameters(), lr=0.0035)
    rewards = [0.1 * i for i in range(10)]
    baseline = None

    def step():  # 10 children proposed (no graph), then one REINFORCE update on them
        nonlocal baseline
        with torch.no_grad():
            children = [controller.walk()[0] for _ in rewards]
        mean = sum(rewards) / len(rewards)
        baseline = mean if baseline is None else 0.99 * baseline + 0.01 * mean
        controller.train()
        optimizer.zero_grad()
        loss = torch.zeros((), device=device)
        for decisions, reward in zip(children, rewards):
            _, log_prob, entropy = controller.walk(forced=decisions)
            loss = loss - (reward - baseline) * log_prob - 1e-4 * entropy
        loss = loss / len(children)
        loss.backward()
        optimizer.step()
        return [loss.item()]

    return step, 0, count(controller.parameters())


def build_darts_v2(args, place, train):
    in_channels, _, channels, layers = SIZES[args.size]
    net = place(Network(DARTS_V2, in_channels, channels, layers))
    params = list(net.parameters())
    optimizer = weight_sgd(params)

    def step():
        net.train()
        return [weight_step(net, optimizer, params, *train)]

    return step, count(params), 0


# ---------------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--step", required=True,
                        choices=["darts1", "darts2", "gdas", "enas", "controller", "spos", "darts_v2"])
    parser.add_argument("--size", required=True, choices=sorted(SIZES))
    parser.add_argument("--batch", required=True, type=int)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--warmup", default=1, type=int)
    parser.add_argument("--reps", default=5, type=int)
    parser.add_argument("--threads", default=0, type=int)
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--count", action="store_true")
    parser.add_argument("--profile", default=None,
                        help="after the timed steps, profile one more and write a table of the "
                             "ops' self time (grouped by op and input shape) to this file")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda:  # as bench_steps on CUDA: deterministic cuDNN
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    memory_format = torch.channels_last if args.channels_last else torch.contiguous_format

    in_channels, resolution, _, _ = SIZES[args.size]

    def batch(seed):
        torch.manual_seed(seed)
        x = torch.randn(args.batch, in_channels, resolution, resolution)
        y = torch.randint(10, (args.batch,))
        return x.to(device).contiguous(memory_format=memory_format), y.to(device)

    def place(module):
        return module.to(device=device, memory_format=memory_format)

    train, valid = batch(1), batch(2)
    torch.manual_seed(0)
    if args.step in ("darts1", "darts2", "gdas"):
        step, params, arch_params = build_bilevel(args, place, train, valid)
    elif args.step in ("enas", "spos"):
        step, params, arch_params = build_single_path(args, place, train, device)
    elif args.step == "controller":
        step, params, arch_params = build_controller(device)
    else:
        step, params, arch_params = build_darts_v2(args, place, train)

    times = []
    if not args.count:
        for _ in range(args.warmup):
            step()
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        for _ in range(args.reps):
            if cuda:
                torch.cuda.synchronize()
            start = time.perf_counter()
            losses = step()
            if cuda:
                torch.cuda.synchronize()
            times.append((time.perf_counter() - start) * 1e3)
            if not all(math.isfinite(l) for l in losses):
                raise SystemExit(f"steps.py: a loss is not finite: {losses}")

    if args.profile and not args.count:
        activities = [torch.profiler.ProfilerActivity.CPU]
        if cuda:
            activities.append(torch.profiler.ProfilerActivity.CUDA)
        with torch.profiler.profile(activities=activities, record_shapes=True) as prof:
            step()
            if cuda:
                torch.cuda.synchronize()
        sort = "self_cuda_time_total" if cuda else "self_cpu_time_total"
        with open(args.profile, "w") as f:
            f.write(prof.key_averages().table(sort_by=sort, row_limit=30) + "\n")
            f.write(prof.key_averages(group_by_input_shape=True).table(sort_by=sort, row_limit=40))

    print(json.dumps({
        "impl": "eager-pytorch", "step": args.step, "size": args.size, "batch": args.batch,
        "device": args.device, "channels_last": args.channels_last,
        "threads": torch.get_num_threads(), "torch": torch.__version__,
        "params": params, "arch_params": arch_params,
        "times_ms": [round(t, 3) for t in times],
        "median_ms": round(statistics.median(times), 3) if times else 0.0,
        "min_ms": round(min(times), 3) if times else 0.0,
        "max_ms": round(max(times), 3) if times else 0.0,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cuda_peak_mib": torch.cuda.max_memory_allocated() / 2**20 if cuda else None,
    }))


if __name__ == "__main__":
    main()
