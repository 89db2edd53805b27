"""Builds the PyTorch network that a weft model spec describes (a spec file as written, or the
resolved spec stored in a model file): the same layers with weft's defaults for unset settings,
initialised by the same rules (he_normal, glorot_uniform, ...; biases zero), so that training
the two starts from the same distribution. Shared by benchmarks/compare (through
pytorch_workload.py) and weft_model_in_pytorch.py.
Handles conv and conv_transpose (1d/2d/3d, or "dims"), dense, batch_norm, layer_norm, max/avg and
global pooling, flatten, reshape, dropout and spatial_dropout, softmax and log_softmax, every
elementwise activation weft registers and the merge layers (add, subtract, multiply, concat) of
graph specs; anything else stops with a message naming the layer.
"""
import functools
import math
import operator

import torch

nn = torch.nn

# weft's elementwise activations (modules/layers/activations.cpp, smooth_activations.cpp) with
# their settings, weft's defaults where a spec file leaves them out; each is PyTorch's definition.
ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "identity": nn.Identity, "selu": nn.SELU,
               "silu": nn.SiLU, "swish": nn.SiLU, "hard_sigmoid": nn.Hardsigmoid,
               "gelu": lambda c: nn.GELU(approximate=c.get("approximate", "none")),
               "leaky_relu": lambda c: nn.LeakyReLU(c.get("slope", 0.01)),
               "elu": lambda c: nn.ELU(c.get("alpha", 1.0)),
               "softplus": lambda c: nn.Softplus(c.get("beta", 1.0), c.get("threshold", 20.0))}
PARAMETRIC = ("gelu", "leaky_relu", "elu", "softplus")

# weft's initializers by name, as PyTorch's init functions (fan_in / fan_out as PyTorch counts them).
INITIALIZERS = {
    "he_normal": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
    "kaiming_normal": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
    "he_uniform": lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"),
    "kaiming_uniform": lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"),
    "glorot_normal": nn.init.xavier_normal_, "xavier_normal": nn.init.xavier_normal_,
    "glorot_uniform": nn.init.xavier_uniform_, "xavier_uniform": nn.init.xavier_uniform_,
    "lecun_normal": lambda w: nn.init.normal_(w, std=math.sqrt(1 / nn.init._calculate_fan_in_and_fan_out(w)[0])),
    "zeros": nn.init.zeros_, "ones": nn.init.ones_,
}


def _initialise(module, layer, default_init):
    for tensor, key, default in ((module.weight, "init", default_init), (getattr(module, "bias", None), "bias_init", "zeros")):
        if tensor is None:
            continue
        name = layer.get(key, default)
        name = name if isinstance(name, str) else name.get("type")
        if name not in INITIALIZERS:
            raise SystemExit(f"{layer['type']}: initializer {name!r} has no PyTorch counterpart in this script")
        with torch.no_grad():
            INITIALIZERS[name](tensor)


def module_for(layer, in_shape):
    """The PyTorch module for one weft layer spec on per-sample input shape in_shape."""
    kind = layer["type"]
    if kind in ACTIVATIONS:
        return ACTIVATIONS[kind](layer) if kind in PARAMETRIC else ACTIVATIONS[kind]()
    if kind in ("softmax", "log_softmax"):  # over the features, or the channels at each position
        return nn.Softmax(dim=1) if kind == "softmax" else nn.LogSoftmax(dim=1)
    if kind.startswith("conv"):
        return _conv(layer, in_shape)
    if kind == "dense":
        module = nn.Linear(in_shape[0], layer["units"], bias=layer.get("bias", True))
        _initialise(module, layer, "glorot_uniform")
        return module
    if kind == "batch_norm":
        norm = {1: nn.BatchNorm1d, 2: nn.BatchNorm1d, 3: nn.BatchNorm2d, 4: nn.BatchNorm3d}[len(in_shape)]
        return norm(in_shape[0], eps=layer.get("eps", 1e-5), momentum=layer.get("momentum", 0.1),
                    affine=layer.get("affine", True))
    if kind == "layer_norm":
        axes = layer.get("axes", 0) or len(in_shape)
        return nn.LayerNorm(in_shape[len(in_shape) - axes:], eps=layer.get("eps", 1e-5),
                            elementwise_affine=layer.get("affine", True))
    pools = {"max_pool1d": nn.MaxPool1d, "max_pool2d": nn.MaxPool2d, "max_pool3d": nn.MaxPool3d,
             "avg_pool1d": nn.AvgPool1d, "avg_pool2d": nn.AvgPool2d, "avg_pool3d": nn.AvgPool3d}
    if kind in pools:
        stride = layer.get("stride", "kernel")
        settings = dict(stride=layer["kernel"] if stride == "kernel" else stride, padding=layer.get("padding", 0),
                        ceil_mode=layer.get("ceil_mode", False))
        if kind.startswith("max"):
            settings["dilation"] = layer.get("dilation", 1)
        else:
            settings["count_include_pad"] = layer.get("count_include_pad", True)
        return pools[kind](layer["kernel"], **settings)
    if kind == "flatten":
        return nn.Flatten()
    if kind == "reshape":  # per sample: the batch axis stays
        return Reshape(layer["shape"])
    if kind in MERGES:
        return Merge(kind, layer.get("axis", 0))
    if kind in ("global_avg_pool", "global_max_pool"):
        return GlobalPool(kind == "global_max_pool")
    if kind == "dropout":  # inverted dropout, as weft's: the identity in eval mode
        return nn.Dropout(layer.get("rate", 0.5))
    if kind == "spatial_dropout":  # whole channels of (N, C, spatial...)
        dropout = {2: nn.Dropout1d, 3: nn.Dropout2d, 4: nn.Dropout3d}.get(len(in_shape))
        if dropout is None:
            raise SystemExit(f"spatial_dropout: per-sample input {in_shape} has no PyTorch channel dropout")
        return dropout(layer.get("rate", 0.5))
    raise SystemExit(f"{kind}: no PyTorch counterpart in weft_spec_in_pytorch.py")


def _conv(layer, in_shape):
    """conv1d/2d/3d, conv_transpose1d/2d/3d, or conv / conv_transpose with "dims". weft's weights
    have PyTorch's layouts: (filters, channels / groups, kernel...) for a convolution,
    (channels, filters / groups, kernel...) for a transposed one."""
    kind = layer["type"]
    transpose = kind.startswith("conv_transpose")
    family = "conv_transpose" if transpose else "conv"
    suffix = kind[len(family):]
    if suffix not in ("", "1d", "2d", "3d") or (suffix == "" and "dims" not in layer):
        raise SystemExit(f"{kind}: no PyTorch counterpart in weft_spec_in_pytorch.py")
    dims = int(suffix[0]) if suffix else int(layer["dims"])
    padding = layer.get("padding", 0)
    padding = 0 if padding == "valid" else padding  # "same" (conv only): PyTorch's, odd pixel after as weft
    settings = dict(stride=layer.get("stride", 1), padding=padding, dilation=layer.get("dilation", 1),
                    groups=layer.get("groups", 1), bias=layer.get("bias", True))
    if transpose:
        module = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)[dims - 1](
            in_shape[0], layer["filters"], layer["kernel"], output_padding=layer.get("output_padding", 0), **settings)
    else:
        module = (nn.Conv1d, nn.Conv2d, nn.Conv3d)[dims - 1](in_shape[0], layer["filters"], layer["kernel"], **settings)
    _initialise(module, layer, "he_uniform")
    return module


MERGES = ("add", "subtract", "multiply", "concat")


class Merge(nn.Module):
    """weft's merge layers; add/subtract/multiply broadcast as PyTorch does, which is weft's rule."""

    def __init__(self, kind, axis):
        super().__init__()
        self.kind, self.axis = kind, axis

    def forward(self, *xs):
        if self.kind == "concat":
            return torch.cat(xs, dim=self.axis + 1 if self.axis >= 0 else self.axis)  # after the batch axis
        op = {"add": operator.add, "subtract": operator.sub, "multiply": operator.mul}[self.kind]
        return functools.reduce(op, xs)  # left to right, weft's order


class Reshape(nn.Module):
    """weft's reshape: each sample to "shape" (one entry may be -1), the batch axis kept."""

    def __init__(self, shape):
        super().__init__()
        self.shape = list(shape)

    def forward(self, x):
        return x.reshape([len(x)] + self.shape)


class GlobalPool(nn.Module):
    def __init__(self, is_max):
        super().__init__()
        self.is_max = is_max

    def forward(self, x):
        x = x.flatten(2)
        return x.amax(2) if self.is_max else x.mean(2)


class Graph(nn.Module):
    """A weft model as a graph: every layer reads the named tensors of its "inputs" (default: the
    previous layer's output; the first layer: the model input), the output is spec["output"] or
    the last layer. Called with one tensor per model input, in weft's order (by name)."""

    def __init__(self, input_names, steps, output):
        super().__init__()
        self.input_names, self.output = input_names, output
        self.names = [name for name, _, _ in steps]
        self.reads = [reads for _, reads, _ in steps]
        self.steps = nn.ModuleList(step for _, _, step in steps)

    def forward(self, *inputs):
        values = dict(zip(self.input_names, inputs))
        for name, reads, step in zip(self.names, self.reads, self.steps):
            values[name] = step(*(values[r] for r in reads))
        return values[self.output]


def input_shapes(spec):
    """{name: per-sample shape} of a spec's model inputs, in weft's order."""
    return {"input": list(spec["input"])} if "input" in spec else dict(sorted(spec["inputs"].items()))


def network(spec):
    """The PyTorch network for spec["layers"] (a Graph; a chain is a graph); returns (network,
    modules by layer). conv's and dense's "activation": "relu" (weft fuses it) becomes a ReLU module
    after the layer's own, which stays the one returned for that layer (its weights are loaded into it)."""
    shapes = input_shapes(spec)
    previous = next(iter(shapes))
    modules, steps = [], []
    for index, layer in enumerate(spec["layers"]):
        name = layer.get("name", f"{layer['type']}_{index}")
        reads = layer.get("inputs", [previous])
        module = module_for(layer, shapes[reads[0]])
        with torch.no_grad():
            shapes[name] = list(module.eval()(*(torch.zeros([2] + shapes[r]) for r in reads)).shape[1:])
        modules.append(module)
        step = nn.Sequential(module, nn.ReLU()) if layer.get("activation", "none") == "relu" else module
        steps.append((name, reads, step))
        previous = name
    return Graph(list(input_shapes(spec)), steps, spec.get("output", previous)).train(), modules
