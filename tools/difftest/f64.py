"""Float64 reference for arbitration: the graph with every float32 tensor turned into float64,
run in ONNX Runtime. A node whose op ONNX Runtime has no double kernel for (Conv, Erf, Resize,
LSTM, ...) is wrapped in Casts (double -> float -> op -> double), found from the session's load
(or run) error one node at a time; the rest of the graph still runs in double, so the reference is exact up to
the fp32 rounding of those nodes' own arithmetic. Graphs that still fail give no reference (and
a mismatch then counts as wrong)."""
import os
import re

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, shape_inference

FLOAT, DOUBLE = TensorProto.FLOAT, TensorProto.DOUBLE
# float inputs that must stay float32 whatever the data type (op -> input slots)
KEEP_FLOAT = {"Resize": (1, 2), "Upsample": (1,)}
MAX_WRAPS = 16


def _elem_types(model):
    inferred = shape_inference.infer_shapes(model)
    g = inferred.graph
    types = {}
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        types[vi.name] = vi.type.tensor_type.elem_type
    for init in g.initializer:
        types[init.name] = init.data_type
    return types


def _convert_graph(g, keep):
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        if vi.type.tensor_type.elem_type == FLOAT:
            vi.type.tensor_type.elem_type = DOUBLE
    for i, init in enumerate(g.initializer):
        if init.data_type == FLOAT and init.name not in keep:
            g.initializer[i].CopyFrom(numpy_helper.from_array(
                numpy_helper.to_array(init).astype(np.float64), init.name))
    for n in g.node:
        for a in n.attribute:
            if n.op_type == "Cast" and a.name == "to" and a.i == FLOAT:
                a.i = DOUBLE
            if a.type == onnx.AttributeProto.TENSOR and a.t.data_type == FLOAT and \
                    not (n.op_type == "Constant" and n.output[0] in keep):
                a.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(a.t).astype(np.float64),
                                                     a.t.name))
            if a.type == onnx.AttributeProto.GRAPH:
                _convert_graph(a.g, keep)


def to_double(model):
    m = onnx.ModelProto()
    m.CopyFrom(model)
    keep = set()
    for n in m.graph.node:
        for slot in KEEP_FLOAT.get(n.op_type, ()):
            if slot < len(n.input) and n.input[slot]:
                keep.add(n.input[slot])
    _convert_graph(m.graph, keep)
    return m


def wrap_node(model, node_name, types):
    """Runs node `node_name` in float32 between Casts."""
    g = model.graph
    idx = next(i for i, n in enumerate(g.node) if n.name == node_name)
    n = g.node[idx]
    keep = KEEP_FLOAT.get(n.op_type, ())
    before, after = [], []
    for i, name in enumerate(n.input):
        if name and types.get(name) == FLOAT and i not in keep:
            new = f"{name}__f32_{node_name}"
            before.append(helper.make_node("Cast", [name], [new], to=FLOAT,
                                           name=f"{node_name}__in{i}"))
            n.input[i] = new
    for i, name in enumerate(n.output):
        if name and types.get(name) == FLOAT:
            new = f"{name}__f32"
            after.append(helper.make_node("Cast", [new], [name], to=DOUBLE,
                                          name=f"{node_name}__out{i}"))
            n.output[i] = new
    for a in n.attribute:   # Cast back to float32 inside the wrapped node
        if n.op_type == "Cast" and a.name == "to" and a.i == DOUBLE:
            a.i = FLOAT
    for k, extra in enumerate(before):
        g.node.insert(idx + k, extra)
    pos = idx + len(before) + 1
    for k, extra in enumerate(after):
        g.node.insert(pos + k, extra)


NO_KERNEL = re.compile(r"Could not find an implementation for \w+\(\d+\) node with name '([^']+)'|"
                       r"running \w+ node\. Name:'([^']+)'.*double")


def reference64(ort, model_path, inputs, work):
    """{output name: float64/other ndarray} from ONNX Runtime in double, or {} if impossible."""
    model = onnx.load(model_path)
    try:
        types = _elem_types(model)
    except Exception:
        return {}
    m = to_double(model)
    d = os.path.join(work, "f64")
    os.makedirs(d, exist_ok=True)
    ins = {}
    for name, path in inputs.items():
        a = np.load(path)
        if a.dtype == np.float32:
            a = a.astype(np.float64)
        p = os.path.join(d, f"in_{name}.npy")
        np.save(p, a)
        ins[name] = p
    path = os.path.join(d, "model64.onnx")
    for _ in range(MAX_WRAPS):
        onnx.save(m, path)
        rep = ort.run(path, ins, os.path.join(d, "out"))
        if rep["ok"]:
            return {n: np.load(o["file"]) for n, o in rep["outputs"].items()}
        hit = NO_KERNEL.search(rep["error"])
        if not hit:
            return {}
        try:
            wrap_node(m, hit.group(1) or hit.group(2), types)
        except StopIteration:   # a node inside an If branch
            return {}
    return {}
