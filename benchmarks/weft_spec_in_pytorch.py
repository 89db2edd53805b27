"""Builds the PyTorch network that a weft model spec describes (a spec file as written, or the
resolved spec stored in a model file): the same layers with weft's defaults for unset settings,
initialised by the same rules (he_normal, glorot_uniform, ...; biases zero), so that training
the two starts from the same distribution. Shared by benchmarks/compare (through
pytorch_workload.py) and weft_model_in_pytorch.py.
Handles conv1d/2d/3d, dense, batch_norm, layer_norm, max/avg pooling, flatten, dropout and the
elementwise activations; anything else stops with a message naming the layer.
"""
import math

import torch

nn = torch.nn

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "identity": nn.Identity, "selu": nn.SELU,
               "silu": nn.SiLU, "swish": nn.SiLU, "hard_sigmoid": nn.Hardsigmoid, "gelu": nn.GELU}

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
        return ACTIVATIONS[kind]()
    if kind in ("conv1d", "conv2d", "conv3d"):
        conv = {"conv1d": nn.Conv1d, "conv2d": nn.Conv2d, "conv3d": nn.Conv3d}[kind]
        module = conv(in_shape[0], layer["filters"], layer["kernel"], stride=layer.get("stride", 1),
                      padding=layer.get("padding", 0), dilation=layer.get("dilation", 1),
                      groups=layer.get("groups", 1), bias=layer.get("bias", True))
        _initialise(module, layer, "he_uniform")
        return module
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
        return pools[kind](layer["kernel"], stride=layer["kernel"] if stride == "kernel" else stride,
                           padding=layer.get("padding", 0))
    if kind == "flatten":
        return nn.Flatten()
    if kind == "dropout":
        return nn.Dropout(layer.get("rate", 0.5))
    raise SystemExit(f"{kind}: no PyTorch counterpart in weft_spec_in_pytorch.py")


def network(spec):
    """nn.Sequential for spec["layers"] on input spec["input"]; returns (network, modules by layer).
    conv's and dense's "activation": "relu" (weft fuses it) becomes a ReLU module after the layer's
    own, which stays the one returned for that layer (its weights are loaded into it)."""
    shape = list(spec["input"])
    modules, sequence = [], []
    for layer in spec["layers"]:
        module = module_for(layer, shape)
        with torch.no_grad():
            shape = list(module.eval()(torch.zeros([2] + shape)).shape[1:])
        modules.append(module)
        sequence.append(module)
        if layer.get("activation", "none") == "relu":
            sequence.append(nn.ReLU())
    return nn.Sequential(*sequence).train(), modules
