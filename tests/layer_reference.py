"""An independent forward pass of networks of typed layers, in numpy, from PyTorch's
formulas (array operations, not the package's element-by-element equations), with
gradients by central finite differences and, where PyTorch is installed, by its autograd
through ``torch.nn.functional``.

It reads the problem's TOML table itself and shares no code with the package.
"""

from __future__ import annotations

import numpy as np

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _conv2d(x, K, b, stride, pad):
    x = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    f, c, kh, kw = K.shape
    oh, ow = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    out = np.empty((f, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, i, j] = np.tensordot(K, window, axes=([1, 2, 3], [0, 1, 2])) + b
    return out


def _pool(x, size, stride, reduce):
    c, h, w = x.shape
    oh, ow = (h - size) // stride + 1, (w - size) // stride + 1
    out = np.empty((c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, i, j] = reduce(x[:, i * stride:i * stride + size, j * stride:j * stride + size],
                                  axis=(1, 2))
    return out


def _recurrent(kind, x, W, U, b, hidden, last, nudge=None):
    """``nudge`` = (part, t, j, amount) adds ``amount`` inside step t: to element j of the
    pre-activation (``pre``: a plain RNN's; ``r``, ``z``: a GRU gate's; ``n``: the GRU
    candidate's, W_n x + b_n; ``hn``: U_n h, before r multiplies it)."""
    h = np.zeros(hidden)
    c = np.zeros(hidden)
    states = []
    for t, x_t in enumerate(x):
        gx, gh = W @ x_t + b, U @ h
        add = {}
        if nudge is not None and nudge[1] == t:
            add[nudge[0]] = np.eye(hidden)[nudge[2]] * nudge[3]
        if kind == "rnn":
            h = np.tanh(gx + gh + add.get("pre", 0))
        elif kind == "lstm":
            i, f, g, o = np.split(gx + gh, 4)
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            h = _sigmoid(o) * np.tanh(c)
        else:
            (rx, zx, nx), (rh, zh, nh) = np.split(gx, 3), np.split(gh, 3)
            r, z = _sigmoid(rx + rh + add.get("r", 0)), _sigmoid(zx + zh + add.get("z", 0))
            n = np.tanh(nx + add.get("n", 0) + r * (nh + add.get("hn", 0)))
            h = (1 - z) * n + z * h
        states.append(h)
    return states[-1] if last else np.array(states)


def _attention(x, Wq, Wk, Wv, d, causal, nudge=None):
    """``nudge`` = ("s", t, u, amount) adds ``amount`` to the score s[t][u]."""
    q, k, v = x @ Wq.T, x @ Wk.T, x @ Wv.T
    scores = q @ k.T / np.sqrt(d)
    if nudge is not None:
        scores[nudge[1], nudge[2]] += nudge[3]
    if causal:
        scores = np.where(np.tril(np.ones_like(scores)) > 0, scores, -np.inf)
    return _softmax(scores) @ v


def _loss(name, a, y):
    if name == "cce":
        return -np.sum(y * np.log(a))
    if name == "half_sse":
        return np.sum((y - a) ** 2) / 2
    if name == "sse":
        return np.sum((y - a) ** 2)
    if name == "mse":
        return np.mean((y - a) ** 2)
    if name == "bce":
        return -np.sum(y * np.log(a) + (1 - y) * np.log(1 - a))
    raise ValueError(name)


def max_pool_gap(table: dict) -> float:
    """The smallest gap between the largest and the second largest value of any max-pool
    window: at a tie (gap 0) the loss has no derivative, only PyTorch's convention."""
    gaps = [np.inf]
    params = parameters(table)
    net = table["network"]
    x = np.array(table["inputs"]["x"], float)
    for pos, layer in enumerate(net["layers"], 1):
        if layer["type"] == "maxpool":
            size, stride = layer["size"], layer.get("stride", layer["size"])
            _pool(x, size, stride, lambda w, axis: gaps.extend(
                np.diff(np.sort(w.reshape(w.shape[0], -1), axis=1)[:, -2:], axis=1).ravel())
                or np.zeros(w.shape[0]))
        if layer["type"] in ("batchnorm", "dropout"):
            break
        x = _layer(layer["type"], layer, pos, x, params)
    return float(min(gaps))


def forward(table: dict, params: dict[str, np.ndarray], nudge=None) -> tuple[float, dict]:
    """The loss and every layer's output ``a{pos}`` (a list over samples when batched);
    ``nudge`` = (pos, ...) perturbs a quantity inside layer pos (``_recurrent``,
    ``_attention``)."""
    net = table["network"]
    batch = table.get("batch")
    if batch is None:
        xs, ys = [np.array(table["inputs"]["x"], float)], [np.array(table["inputs"]["y"], float)]
    else:
        count = len(table["data"]["x"]) if batch == "all" else batch
        xs = list(np.array(table["data"]["x"][:count], float))
        ys = list(np.array(table["data"]["y"][:count], float))
    outputs = {}
    for pos, layer in enumerate(net["layers"], 1):
        kind = layer["type"]
        if kind == "batchnorm":
            X = np.array(xs)
            axes = (0, 2, 3) if X.ndim == 4 else (0,)
            mu, var = X.mean(axis=axes, keepdims=True), X.var(axis=axes, keepdims=True)
            shape = (1, -1, 1, 1) if X.ndim == 4 else (1, -1)
            X = (params[f"gamma{pos}"].reshape(shape) * (X - mu) / np.sqrt(var + layer.get("eps", 1e-5))
                 + params[f"beta{pos}"].reshape(shape))
            xs = list(X)
        elif kind == "dropout":
            mask = np.array(layer["mask"], float)
            masks = [mask] if batch is None else list(mask)
            xs = [x * m / (1 - layer["p"]) for x, m in zip(xs, masks, strict=True)]
        else:
            inner = nudge[1:] if nudge is not None and nudge[0] == pos else None
            xs = [_layer(kind, layer, pos, x, params, inner) for x in xs]
        outputs[f"a{pos}"] = xs[0] if batch is None else np.array(xs)
    losses = [_loss(net["loss"], x, y) for x, y in zip(xs, ys, strict=True)]
    return float(np.mean(losses)), outputs


def _layer(kind, layer, pos, x, p, nudge=None):
    if kind == "dense":
        return x @ p[f"W{pos}"].T + p[f"b{pos}"]
    if kind == "conv2d":
        return _conv2d(x, p[f"K{pos}"], p[f"b{pos}"], layer.get("stride", 1), layer.get("padding", 0))
    if kind in ("maxpool", "avgpool"):
        size = layer["size"]
        return _pool(x, size, layer.get("stride", size), np.max if kind == "maxpool" else np.mean)
    if kind == "flatten":
        return x.reshape(-1)
    if kind == "layernorm":
        mu, var = x.mean(axis=-1, keepdims=True), x.var(axis=-1, keepdims=True)
        return p[f"gamma{pos}"] * (x - mu) / np.sqrt(var + layer.get("eps", 1e-5)) + p[f"beta{pos}"]
    if kind in GATES:
        return _recurrent(kind, x, p[f"W{pos}"], p[f"U{pos}"], p[f"b{pos}"], layer["hidden"],
                          layer.get("last", False), nudge)
    if kind == "attention":
        return _attention(x, p[f"Wq{pos}"], p[f"Wk{pos}"], p[f"Wv{pos}"], layer["d"],
                          layer.get("causal", False), nudge)
    if kind == "sigmoid":
        return _sigmoid(x)
    if kind == "tanh":
        return np.tanh(x)
    if kind == "relu":
        return np.maximum(x, 0)
    if kind == "softmax":
        return _softmax(x)
    if kind == "linear":
        return x
    raise ValueError(kind)


def parameters(table: dict) -> dict[str, np.ndarray]:
    return {name: np.array(value, float) for name, value in table["parameters"].items()}


def central_differences(table: dict, h: float = 1e-6) -> dict[str, np.ndarray]:
    """dL/dp for every parameter element, by (L(p + h) − L(p − h)) / 2h."""
    params = parameters(table)
    grads = {}
    for name, value in params.items():
        grad = np.empty_like(value)
        for index in np.ndindex(*value.shape):
            plus, minus = dict(params), dict(params)
            plus[name], minus[name] = value.copy(), value.copy()
            plus[name][index] += h
            minus[name][index] -= h
            grad[index] = (forward(table, plus)[0] - forward(table, minus)[0]) / (2 * h)
        grads[name] = grad
    return grads


def inner_gradient(table: dict, pos: int, part: str, t: int, j: int, h: float = 1e-6) -> float:
    """dL/d(a quantity inside layer pos) by central differences: a pre-activation's
    element j at step t, or the score s[t][j] (``_recurrent``, ``_attention``)."""
    params = parameters(table)
    plus = forward(table, params, (pos, part, t, j, h))[0]
    minus = forward(table, params, (pos, part, t, j, -h))[0]
    return (plus - minus) / (2 * h)


def torch_gradients(table: dict, torch) -> tuple[float, dict[str, np.ndarray]]:
    """The loss and dL/dp by PyTorch's autograd through torch.nn.functional's layers."""
    F = torch.nn.functional
    params = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for n, v in parameters(table).items()}
    net = table["network"]
    batch = table.get("batch")
    if batch is None:
        x = torch.tensor([table["inputs"]["x"]], dtype=torch.float64)
        y = torch.tensor([table["inputs"]["y"]], dtype=torch.float64)
    else:
        count = len(table["data"]["x"]) if batch == "all" else batch
        x = torch.tensor(table["data"]["x"][:count], dtype=torch.float64)
        y = torch.tensor(table["data"]["y"][:count], dtype=torch.float64)
    for pos, layer in enumerate(net["layers"], 1):
        kind, p = layer["type"], params
        if kind == "dense":
            x = F.linear(x, p[f"W{pos}"], p[f"b{pos}"])
        elif kind == "conv2d":
            x = F.conv2d(x, p[f"K{pos}"], p[f"b{pos}"], stride=layer.get("stride", 1),
                         padding=layer.get("padding", 0))
        elif kind == "maxpool":
            x = F.max_pool2d(x, layer["size"], layer.get("stride", layer["size"]))
        elif kind == "avgpool":
            x = F.avg_pool2d(x, layer["size"], layer.get("stride", layer["size"]))
        elif kind == "flatten":
            x = x.flatten(1)
        elif kind == "batchnorm":
            x = F.batch_norm(x, None, None, p[f"gamma{pos}"], p[f"beta{pos}"], training=True,
                             eps=layer.get("eps", 1e-5))
        elif kind == "layernorm":
            x = F.layer_norm(x, x.shape[-1:], p[f"gamma{pos}"], p[f"beta{pos}"], layer.get("eps", 1e-5))
        elif kind == "dropout":
            mask = torch.tensor(layer["mask"], dtype=torch.float64)
            x = x * (mask if batch is not None else mask.unsqueeze(0)) / (1 - layer["p"])
        elif kind in GATES:
            x = _torch_recurrent(torch, kind, x, p[f"W{pos}"], p[f"U{pos}"], p[f"b{pos}"],
                                 layer["hidden"], layer.get("last", False))
        elif kind == "attention":
            q, k, v = (x @ p[f"W{w}{pos}"].T for w in "qkv")
            x = F.scaled_dot_product_attention(q, k, v, is_causal=layer.get("causal", False))
        elif kind == "softmax":
            x = torch.softmax(x, dim=-1)
        elif kind in ("sigmoid", "tanh", "relu"):
            x = getattr(torch, kind)(x)
    loss = net["loss"]
    per = {"cce": lambda: -(y * torch.log(x)).sum(-1),
           "half_sse": lambda: ((y - x) ** 2).sum(-1) / 2,
           "sse": lambda: ((y - x) ** 2).sum(-1),
           "mse": lambda: ((y - x) ** 2).mean(-1),
           "bce": lambda: -(y * torch.log(x) + (1 - y) * torch.log(1 - x)).sum(-1)}[loss]()
    total = per.mean()
    total.backward()
    return float(total.detach()), {n: t.grad.numpy() for n, t in params.items()}


def _torch_recurrent(torch, kind, x, W, U, b, hidden, last):
    """PyTorch's own cells, with the file's one bias as b_ih and b_hh = 0."""
    zero = torch.zeros_like(b)
    h = torch.zeros(x.shape[0], hidden, dtype=torch.float64)
    c = torch.zeros_like(h)
    states = []
    for t in range(x.shape[1]):
        if kind == "rnn":
            h = torch.rnn_tanh_cell(x[:, t], h, W, U, b, zero)
        elif kind == "lstm":
            h, c = torch.lstm_cell(x[:, t], (h, c), W, U, b, zero)
        else:
            h = torch.gru_cell(x[:, t], h, W, U, b, zero)
        states.append(h)
    return states[-1] if last else torch.stack(states, dim=1)
