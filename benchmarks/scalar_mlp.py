"""A sigmoid MLP written in graph form with one scalar name per weight, for benchmarks.

Sizes [4, 8, 8, 2] give 130 parameters (weights and biases). Values are drawn from a
fixed seed with two decimals, so every run measures the same problem.
"""

from __future__ import annotations

import random
from decimal import Decimal


def scalar_mlp_table(sizes: list[int], seed: int = 0) -> dict:
    """A graph-form problem table: z{l}_{i} = Σ_j w{l}_{i}_{j} h{l-1}_{j} + b{l}_{i},
    h{l}_{i} = sigmoid(z{l}_{i}), E = ½ Σ (t_k - h_k)²."""
    rng = random.Random(seed)

    def number() -> Decimal:
        return Decimal(rng.randint(-100, 100)) / 100

    inputs = {f"x_{j}": number() for j in range(sizes[0])}
    parameters = {}
    graph = {}
    previous = list(inputs)
    for layer in range(1, len(sizes)):
        current = []
        for i in range(sizes[layer]):
            terms = []
            for j, h in enumerate(previous):
                w = f"w{layer}_{i}_{j}"
                parameters[w] = number()
                terms.append(f"{w}*{h}")
            b = f"b{layer}_{i}"
            parameters[b] = number()
            graph[f"z{layer}_{i}"] = " + ".join(terms + [b])
            graph[f"h{layer}_{i}"] = f"sigmoid(z{layer}_{i})"
            current.append(f"h{layer}_{i}")
        previous = current
    for k in range(sizes[-1]):
        inputs[f"t_{k}"] = Decimal(rng.randint(0, 1))
    graph["E"] = "(" + " + ".join(f"(t_{k} - {h})**2" for k, h in enumerate(previous)) + ")/2"
    return {"graph": graph, "inputs": inputs, "parameters": parameters,
            "learning_rate": Decimal("0.5"), "output": "E"}
