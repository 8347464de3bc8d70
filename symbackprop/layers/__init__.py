"""Networks of typed layers (convolution, pooling, normalisation, dropout, recurrent
cells, attention): the ``[network]`` table whose ``layers`` lists tables with a ``type``.

:mod:`.spec` reads and checks the layers and their shapes; :mod:`.expand` writes each
layer out as scalar equations built from the op table's gates, so the chain-rule sweep,
exact values, claim keys and ``verify`` work on them as on any graph (docs/layers.md).
"""

from .expand import build_stack_graph
from .spec import LayerStack, is_layer_list, read_stack

__all__ = ["LayerStack", "build_stack_graph", "is_layer_list", "read_stack"]
