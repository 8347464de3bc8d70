"""Network form: the matrix-level equations of BP1-BP4, lambdified.

With one sample per column (A_0 = X of shape (n_0, B)), a network is the Wengert list

    Z_l = W_l A_(l-1) + b_l,   A_l = act_l(Z_l)   (l = 1..N),   L = mean of loss(A_N, Y)

and its backward pass is the four equations of seed 003, over whole batches:

    BP1  δ_N = dL/dA_N ⊙ act_N'(Z_N)            (or a fused form, see :mod:`.losses`)
    BP2  δ_l = (W_(l+1)ᵀ δ_(l+1)) ⊙ act_l'(Z_l)
    BP3  dL/db_l = δ_l 1      (the add gate distributes; broadcasting b over the batch sums)
    BP4  dL/dW_l = δ_l A_(l-1)ᵀ   (summed over the batch by the product itself)

None of it is written by hand: act' is each activation's local rule from the op table
(σ' = a(1 − a) from the layer's own output, tanh' = 1 − a², relu' = [z > 0]), and the
two products of BP2 and BP4 are the op table's vector-Jacobian product of ``matmul``
(:data:`symbackprop.ops.MATRIX_VJP`), applied to SymPy matrix symbols and translated
into calls. SymPy's algebra on the other names is elementwise, as numpy's is. So a
784-16-16-10 network costs six matrix products and a few elementwise passes.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import ops
from ..network import LOSS_NAME
from .backends import Backend
from .codegen import lambdify_list
from .kernel import Kernel
from .losses import hidden_local, output_layer

matmul = sp.Function("matmul")
transpose = sp.Function("transpose")
batch_sum = sp.Function("batch_sum")
batch_mean = sp.Function("batch_mean")
softmax_cols = sp.Function("softmax_cols")


def _array(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


def _to_calls(expr, arrays: dict) -> sp.Expr:
    """A SymPy matrix expression (MatMul, Transpose of MatrixSymbols) as calls of the
    ``matmul`` and ``transpose`` primitives over the array symbols."""
    if isinstance(expr, sp.MatrixSymbol):
        return arrays[expr.name]
    if isinstance(expr, sp.Transpose):
        return transpose(_to_calls(expr.arg, arrays))
    if isinstance(expr, sp.MatMul):
        factors = [_to_calls(f, arrays) for f in expr.args]
        result = factors[0]
        for f in factors[1:]:
            result = matmul(result, f)
        return result
    raise TypeError(f"no array form for {type(expr).__name__}")


def _activation(act: str, Z) -> sp.Expr:
    if act == "linear":
        return Z
    if act == "softmax":
        return softmax_cols(Z)
    return ops.build(act, Z)


class NetworkKernel(Kernel):
    """Kernels over the matrix-level equations of a ``[network]`` problem."""

    form = "network"

    def __init__(self, problem, backend: Backend, cse: bool = True):
        super().__init__(problem, backend)
        net = self.network = problem.network
        depth = net.depth
        W = {layer: _array(f"W{layer}") for layer in range(1, depth + 1)}
        b = {layer: _array(f"b{layer}") for layer in range(1, depth + 1)}
        Z = {layer: _array(f"Z{layer}") for layer in range(1, depth + 1)}
        A = {layer: _array(f"A{layer}") for layer in range(0, depth + 1)}
        D = {layer: _array(f"delta{layer}") for layer in range(1, depth + 1)}
        Y, per_sample, batch = _array("Y"), _array("L_sample"), _array("batch")

        forward = []
        for layer in range(1, depth + 1):
            forward.append((Z[layer], matmul(W[layer], A[layer - 1]) + b[layer]))
            forward.append((A[layer], _activation(net.activations[layer - 1], Z[layer])))
        last = output_layer(net.loss, net.activations[-1], net.layers[-1], A[depth], Z[depth], Y)
        forward += last.extra
        forward.append((per_sample, last.per_sample))

        backward = [(D[depth], last.delta / batch)]  # BP1, for the batch-mean loss
        grads = []
        shapes = {"B": sp.Symbol("B", integer=True, positive=True)}
        for layer in range(depth, 0, -1):
            n, m = net.layers[layer], net.layers[layer - 1]
            Wm = sp.MatrixSymbol(W[layer].name, n, m)
            Am = sp.MatrixSymbol(A[layer - 1].name, m, shapes["B"])
            Dm = sp.MatrixSymbol(D[layer].name, n, shapes["B"])
            arrays = {W[layer].name: W[layer], A[layer - 1].name: A[layer - 1], D[layer].name: D[layer]}
            dW, dA = (_to_calls(e, arrays) for e in ops.MATRIX_VJP["matmul"]((Wm, Am), Dm))
            gW, gb = _array(f"dW{layer}"), _array(f"db{layer}")
            backward += [(gW, dW), (gb, batch_sum(D[layer]))]  # BP4, BP3
            grads = [gW, gb] + grads
            if layer > 1:  # BP2
                act = net.activations[layer - 2]
                backward.append((D[layer - 1], dA * hidden_local(act, Z[layer - 1], A[layer - 1])))

        self.note = last.note
        params = [x for layer in range(1, depth + 1) for x in (W[layer], b[layer])]
        args = params + [A[0], Y, batch]
        self._grad_fn, self.source = lambdify_list(
            args, forward + backward, [batch_mean(per_sample), *grads], backend, cse)
        self._loss_fn, _ = lambdify_list(args, forward, [batch_mean(per_sample)], backend, cse)
        values = [x for layer in range(1, depth + 1) for x in (Z[layer], A[layer])]
        self._forward_fn, _ = lambdify_list(args, forward, [*values, per_sample], backend, cse)
        self._value_names = [x for layer in range(1, depth + 1) for x in (f"z{layer}", f"a{layer}")]

        all_shapes = net.shapes()
        self.parameter_shapes = {p: all_shapes[p] for p in net.parameters}
        self.input_shapes = {"x": all_shapes["x"], "y": all_shapes["y"]}
        self._bias = {f"b{layer}" for layer in range(1, depth + 1)}

    def _args(self, params: dict, data: dict) -> list:
        """Arguments in the column layout: biases as (n, 1) columns, X and Y transposed
        (views, not copies)."""
        self._check_params(params)
        batch = self._batch_size(data)
        asarray = self.backend.asarray
        args = [asarray(params[p]).reshape(-1, 1) if p in self._bias else asarray(params[p])
                for p in self.parameter_shapes]
        for name in ("x", "y"):
            if name in data:
                args.append(asarray(data[name]).reshape(batch, -1).T)
            else:
                const = self._leaf_values(name, self.input_shapes[name])
                args.append(asarray(np.repeat(const.reshape(-1, 1), batch, axis=1)))
        args.append(float(batch))
        return args

    def loss_and_grad(self, params: dict, data: dict) -> tuple[float, dict]:
        loss, *grads = self._grad_fn(*self._args(params, data))
        out = {}
        for (name, shape), g in zip(self.parameter_shapes.items(), grads, strict=True):
            out[name] = g.reshape(shape)
        return float(loss), out

    def loss(self, params: dict, data: dict) -> float:
        return float(self._loss_fn(*self._args(params, data))[0])

    def forward(self, params: dict, data: dict) -> dict:
        """``z1, a1, ..., zN, aN`` with shape (B, n) and the per-sample loss ``L``, (B,)."""
        *values, per_sample = self._forward_fn(*self._args(params, data))
        out = {name: v.T for name, v in zip(self._value_names, values, strict=True)}
        out[LOSS_NAME] = per_sample.reshape(-1)
        return out
