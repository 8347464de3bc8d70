"""Network form: the matrix-level equations of BP1-BP4, lambdified.

With one sample per column (A_0 = X of shape (n_0, B)), a network is the Wengert list

    Z_l = W_l A_(l-1) + b_l,   A_l = act_l(Z_l)   (l = 1..N),   L = mean of loss(A_N, Y)

and its backward pass is the four equations BP1-BP4 of Lesson 5, over whole batches:

    BP1  δ_N = dL/dA_N ⊙ act_N'(Z_N)            (or a fused form, see :mod:`.losses`)
    BP2  δ_l = (W_(l+1)ᵀ δ_(l+1)) ⊙ act_l'(Z_l)
    BP3  dL/db_l = δ_l 1      (the add gate distributes; broadcasting b over the batch sums)
    BP4  dL/dW_l = δ_l A_(l-1)ᵀ   (summed over the batch by the product itself)

None of it is written by hand: act' is each activation's local rule from the op table
(σ' = a(1 − a) from the layer's own output, tanh' = 1 − a², relu' = [z > 0]), and the
two products of BP2 and BP4 are the op table's vector-Jacobian product of ``matmul``
(:data:`symbackprop.ops.MATRIX_VJP`), applied to SymPy matrix symbols and translated
into calls. SymPy's algebra on the other names is elementwise, as numpy's is. So a
784-16-16-10 network costs five matrix products and a few elementwise passes.

The arrays themselves are stored one sample per row, as data arrive (x of shape
(B, n_0)): every product is turned around on the way out, (W A)ᵀ = Aᵀ Wᵀ, so the
equations keep the lectures' columns while BLAS gets its fastest layout.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from .. import ops
from ..network import LINEAR, LOSS_NAME, whole_layer
from .backends import Backend
from .codegen import lambdify_list
from .kernel import Kernel
from .losses import OutputLayer, hidden_local, output_layer


class matmul(sp.Function):  # noqa: N801 - named as the primitive it calls
    """The matrix product of two arrays, printed ``a @ b``: it binds as ``*`` does."""

    precedence = PRECEDENCE["Mul"]


class transpose(sp.Function):  # noqa: N801
    """The transpose of an array, printed ``a.T``."""


batch_sum = sp.Function("batch_sum")
batch_mean = sp.Function("batch_mean")


def _array(name: str) -> sp.Symbol:
    return sp.Symbol(name, real=True)


def _to_calls(expr, batch_arrays: dict, params: dict, transposed: bool) -> sp.Expr:
    """A SymPy matrix expression (MatMul, Transpose of MatrixSymbols) as calls of the
    ``matmul`` and ``transpose`` primitives, in the stored layout.

    The equations are written as the lectures write them, one sample per column; the
    arrays are stored one sample per row (``batch_arrays`` hold the transpose of the
    matrix they name), the layout data arrive in and the one BLAS multiplies fastest.
    ``transposed`` asks for the code of the expression's transpose, and products are
    turned around as (P Q)ᵀ = Qᵀ Pᵀ, so no array is ever copied into another layout.
    """
    if isinstance(expr, sp.MatrixSymbol):
        stored_transposed = expr.name in batch_arrays
        array = batch_arrays.get(expr.name, params.get(expr.name))
        return array if stored_transposed == transposed else transpose(array)
    if isinstance(expr, sp.Transpose):
        return _to_calls(expr.arg, batch_arrays, params, not transposed)
    if isinstance(expr, sp.MatMul):
        factors = list(expr.args)
        if transposed:
            factors.reverse()
        codes = [_to_calls(f, batch_arrays, params, transposed) for f in factors]
        result = codes[0]
        for code in codes[1:]:
            result = matmul(result, code)
        return result
    raise TypeError(f"no array form for {type(expr).__name__}")


def _activation(act: str, Z) -> sp.Expr:
    """A layer's activation over its whole array: an elementwise op applied to it, a
    whole-layer one (softmax) by its layer form (the op table's ``layer_kernel``)."""
    if act == LINEAR:
        return Z
    if whole_layer(act):
        return sp.Function(ops.OPS[act].layer.kernel.call)(Z)
    return ops.build(act, Z)


class _Arrays:
    """The names of a network's arrays in the equations (W_l, b_l, Z_l, A_l, δ_l, Y, the
    loss per sample, the batch size), and how a matrix expression over them becomes
    calls in the stored layout."""

    def __init__(self, depth: int):
        layers = range(1, depth + 1)
        self.W = {layer: _array(f"W{layer}") for layer in layers}
        self.b = {layer: _array(f"b{layer}") for layer in layers}
        self.Z = {layer: _array(f"Z{layer}") for layer in layers}
        self.A = {layer: _array(f"A{layer}") for layer in range(0, depth + 1)}
        self.D = {layer: _array(f"delta{layer}") for layer in layers}
        self.Y, self.per_sample, self.batch = _array("Y"), _array("L_sample"), _array("batch")
        self.rows = sp.Symbol("B", integer=True, positive=True)
        self._batch_arrays = {**{a.name: a for a in self.A.values()},
                              **{d.name: d for d in self.D.values()}}
        self._weights = {w.name: w for w in self.W.values()}

    @staticmethod
    def matrix(symbol, n, m):
        return sp.MatrixSymbol(symbol.name, n, m)

    def calls(self, expr, transposed: bool) -> sp.Expr:
        return _to_calls(expr, self._batch_arrays, self._weights, transposed)


class NetworkKernel(Kernel):
    """Kernels over the matrix-level equations of a ``[network]`` problem."""

    form = "network"

    def __init__(self, problem, backend: Backend, cse: bool = True):
        super().__init__(problem, backend)
        net = self.network = problem.network
        arrays = _Arrays(net.depth)
        forward, last = self._forward_equations(arrays)
        backward, grads = self._backward_equations(arrays, last)
        self.note = last.note
        self._compile(arrays, forward, backward, grads, cse)
        self._record_shapes()

    def _forward_equations(self, arrays: _Arrays):
        """Z_l = W_l A_(l-1) + b_l and A_l = act_l(Z_l), layer by layer, then the loss per
        sample; the last layer as its loss wants it (fused or not, see :mod:`.losses`)."""
        net, depth = self.network, self.network.depth
        A, Z = arrays.A, arrays.Z
        last = output_layer(net.loss, net.activations[-1], net.layers[-1], A[depth], Z[depth],
                            arrays.Y)
        forward = []
        for layer in range(1, depth + 1):
            n, m = net.layers[layer], net.layers[layer - 1]
            product = arrays.matrix(arrays.W[layer], n, m) * arrays.matrix(A[layer - 1], m, arrays.rows)
            forward.append((Z[layer], arrays.calls(product, transposed=True) + arrays.b[layer]))
            if layer == depth and last.activation is not None:
                forward += last.extra + [(A[layer], last.activation)]
            else:
                forward.append((A[layer], _activation(net.activations[layer - 1], Z[layer])))
        if last.activation is None:
            forward += last.extra
        forward.append((arrays.per_sample, last.per_sample))
        return forward, last

    def _backward_equations(self, arrays: _Arrays, last: OutputLayer):
        """BP1 for the batch-mean loss, then per layer down BP4, BP3 and BP2, the matrix
        products from the op table's vector-Jacobian product of ``matmul``."""
        net, depth = self.network, self.network.depth
        W, A, D, matrix = arrays.W, arrays.A, arrays.D, arrays.matrix
        backward = [(D[depth], last.delta / arrays.batch)]  # BP1
        grads = []
        for layer in range(depth, 0, -1):
            n, m = net.layers[layer], net.layers[layer - 1]
            dW, dA = ops.MATRIX_VJP["matmul"](
                (matrix(W[layer], n, m), matrix(A[layer - 1], m, arrays.rows)),
                matrix(D[layer], n, arrays.rows))
            gW, gb = _array(f"dW{layer}"), _array(f"db{layer}")
            backward += [(gW, arrays.calls(dW, transposed=False)),  # BP4
                         (gb, batch_sum(D[layer]))]  # BP3
            grads = [gW, gb] + grads
            if layer > 1:  # BP2
                act = net.activations[layer - 2]
                backward.append((D[layer - 1], arrays.calls(dA, transposed=True)
                                 * hidden_local(act, arrays.Z[layer - 1], A[layer - 1])))
        return backward, grads

    def _compile(self, arrays: _Arrays, forward, backward, grads, cse: bool) -> None:
        """The three functions: loss and gradients, loss alone, forward values."""
        depth, backend, mean = self.network.depth, self.backend, batch_mean(arrays.per_sample)
        params = [x for layer in range(1, depth + 1) for x in (arrays.W[layer], arrays.b[layer])]
        args = params + [arrays.A[0], arrays.Y, arrays.batch]
        self._grad_fn, self.source = lambdify_list(
            args, forward + backward, [mean, *grads], backend, cse)
        self._loss_fn, _ = lambdify_list(args, forward, [mean], backend, cse)
        values = [x for layer in range(1, depth + 1) for x in (arrays.Z[layer], arrays.A[layer])]
        self._forward_fn, _ = lambdify_list(args, forward, [*values, arrays.per_sample],
                                            backend, cse)
        self._value_names = [x for layer in range(1, depth + 1) for x in (f"z{layer}", f"a{layer}")]

    def _record_shapes(self) -> None:
        """The shapes the arguments are checked against."""
        all_shapes = self.network.shapes()
        self.parameter_shapes = {p: all_shapes[p] for p in self.network.parameters}
        self.input_shapes = {"x": all_shapes["x"], "y": all_shapes["y"]}
        self._param_names = tuple(self.parameter_shapes)
        self._param_shape_list = list(self.parameter_shapes.values())
        self._widths = tuple(int(np.prod(self.input_shapes[n])) for n in ("x", "y"))

    def _args(self, params: dict, data: dict) -> list:
        """Arguments as stored: one sample per row, as the data and params come.

        The common case (every parameter and both inputs, arrays of the stored shapes) is
        checked in a few comparisons; a kernel called in a training loop spends no more
        than that on its arguments. Anything else takes the careful path, which converts
        what it can and names what is wrong.
        """
        try:
            asarray = self.backend.asarray
            args = [asarray(params[p]) for p in self._param_names]
            x, y = asarray(data["x"]), asarray(data["y"])
            batch = x.shape[0]
            if (len(data) == 2 and [a.shape for a in args] == self._param_shape_list
                    and x.shape == (batch, self._widths[0]) and y.shape == (batch, self._widths[1])):
                return [*args, x, y, float(batch)]
        except Exception:  # noqa: BLE001 - the careful path says what is wrong
            pass
        return self._careful_args(params, data)

    def _careful_args(self, params: dict, data: dict) -> list:
        self._check_params(params)
        batch = self._batch_size(data)
        asarray = self.backend.asarray
        args = [asarray(params[p]) for p in self.parameter_shapes]
        for name in ("x", "y"):
            if name in data:
                args.append(asarray(data[name]).reshape(batch, -1))
            else:
                const = self._leaf_values(name, self.input_shapes[name]).reshape(1, -1)
                args.append(asarray(np.repeat(const, batch, axis=0)))
        args.append(float(batch))
        return args

    def loss_and_grad(self, params: dict, data: dict) -> tuple[float, dict]:
        loss, *grads = self._grad_fn(*self._args(params, data))
        # each gradient comes out in its parameter's shape: dW (n, m) from the product,
        # db (n,) from the sum over the batch
        return float(loss), dict(zip(self._param_names, grads, strict=True))

    def loss(self, params: dict, data: dict) -> float:
        return float(self._loss_fn(*self._args(params, data))[0])

    def forward(self, params: dict, data: dict) -> dict:
        """``z1, a1, ..., zN, aN`` with shape (B, n) and the per-sample loss ``L``, (B,)."""
        *values, per_sample = self._forward_fn(*self._args(params, data))
        out = dict(zip(self._value_names, values, strict=True))
        out[LOSS_NAME] = per_sample.reshape(-1)
        return out
