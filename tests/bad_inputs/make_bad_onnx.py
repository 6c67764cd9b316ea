#!/usr/bin/python3
"""Writes the bad ONNX models of the bad-input suite (tests/bad_inputs/onnx/*.onnx).

usage: make_bad_onnx.py [OUT_DIR]     (default: the onnx/ folder beside this script)

Every model is deterministic (fixed seeds, fixed producer), so re-running the script reproduces
the committed files byte for byte. The expected exit code and message of each file are in
tests/bad_inputs/manifest.tsv. Uses onnx.helper and numpy only (/usr/bin/python3 on Debian 12).
Models are built without onnx.checker: most of them are invalid on purpose.
"""
import os
import random
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT
I64 = TensorProto.INT64


def model(nodes, inputs, outputs, inits=(), opset=17, name="bad"):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="trnsim-bad-inputs")
    m.ir_version = 8
    return m


def vi(name, shape, t=F):
    return helper.make_tensor_value_info(name, t, shape)


def const(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def good_mlp():
    rng = np.random.default_rng(1)
    w = (rng.standard_normal((64, 32)) * 0.1).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="fc"),
             helper.make_node("Relu", ["h"], ["y"], name="relu")]
    return model(nodes, [vi("x", [8, 64])], [vi("y", [8, 32])], [const("w", w)])


def models():
    """(file name, ModelProto or raw bytes) for every bad model."""
    n = helper.make_node
    good = good_mlp().SerializeToString()
    out = []

    # Not a model at all.
    out.append(("empty.onnx", b""))
    out.append(("truncated.onnx", good[: len(good) // 2]))
    rnd = random.Random(7)
    out.append(("random_bytes.onnx", bytes(rnd.randrange(256) for _ in range(512))))
    out.append(("text_file.onnx", b"this is not an onnx model\n"))
    out.append(("no_graph.onnx", onnx.ModelProto(ir_version=8).SerializeToString()))

    # Opsets outside the supported range, and none at all.
    relu = [n("Relu", ["x"], ["y"], name="relu")]
    out.append(("opset_too_old.onnx", model(relu, [vi("x", [4])], [vi("y", [4])], opset=3)))
    out.append(("opset_future.onnx", model(relu, [vi("x", [4])], [vi("y", [4])], opset=99)))
    m = model(relu, [vi("x", [4])], [vi("y", [4])])
    del m.opset_import[:]
    out.append(("no_opset.onnx", m))

    # Graph structure.
    out.append(("cyclic.onnx", model(
        [n("Relu", ["x"], ["a"], name="r0"), n("Add", ["a", "c"], ["b"], name="add"),
         n("Relu", ["b"], ["c"], name="r1")],
        [vi("x", [4])], [vi("c", [4])])))
    out.append(("missing_initializer.onnx", model(
        [n("MatMul", ["x", "w"], ["y"], name="fc")], [vi("x", [8, 64])], [vi("y", [8, 32])])))
    out.append(("output_not_produced.onnx", model(relu, [vi("x", [4])], [vi("z", [4])])))
    out.append(("unsupported_op.onnx", model(
        [n("Det", ["x"], ["y"], name="det")], [vi("x", [4, 4])], [vi("y", [])])))
    out.append(("custom_domain.onnx", model(
        [n("Relu", ["x"], ["y"], name="relu", domain="com.example")],
        [vi("x", [4])], [vi("y", [4])])))
    out.append(("unsupported_attr.onnx", model(
        [n("Relu", ["x"], ["y"], name="relu", frobnicate=3)], [vi("x", [4])], [vi("y", [4])])))

    # Shapes and dtypes.
    w = np.zeros((32, 16), dtype=np.float32)
    out.append(("mismatched_shapes.onnx", model(
        [n("MatMul", ["x", "w"], ["y"], name="fc")], [vi("x", [8, 64])], [vi("y", [8, 16])],
        [const("w", w)])))
    out.append(("add_broadcast_mismatch.onnx", model(
        [n("Add", ["x", "z"], ["y"], name="add")], [vi("x", [8, 3]), vi("z", [8, 5])],
        [vi("y", [8, 3])])))
    out.append(("absurd_dims.onnx", model(   # 2^40 elements of fp32 (4 TiB)
        relu, [vi("x", [1 << 20, 1 << 20])], [vi("y", [1 << 20, 1 << 20])])))
    out.append(("absurd_dims_matmul.onnx", model(
        [n("MatMul", ["x", "x"], ["y"], name="fc")],
        [vi("x", [1 << 31, 1 << 31])], [vi("y", [1 << 31, 1 << 31])])))
    out.append(("symbolic_dim.onnx", model(relu, [vi("x", ["batch", 4])], [vi("y", ["batch", 4])])))
    out.append(("negative_dim.onnx", model(relu, [vi("x", [-3, 4])], [vi("y", [-3, 4])])))
    out.append(("double_input.onnx", model(
        relu, [vi("x", [4], TensorProto.DOUBLE)], [vi("y", [4], TensorProto.DOUBLE)])))
    out.append(("reshape_bad_count.onnx", model(
        [n("Reshape", ["x", "s"], ["y"], name="reshape")], [vi("x", [4, 6])], [vi("y", [5, 5])],
        [const("s", np.array([5, 5], dtype=np.int64))])))
    out.append(("reshape_2d_shape.onnx", model(
        [n("Reshape", ["x", "s"], ["y"], name="reshape")], [vi("x", [4, 6])], [vi("y", [24])],
        [const("s", np.array([[24]], dtype=np.int64))])))
    out.append(("reshape_absurd.onnx", model(
        [n("Reshape", ["x", "s"], ["y"], name="reshape")], [vi("x", [4])],
        [vi("y", [1 << 20, 1 << 20])],
        [const("s", np.array([1 << 20, 1 << 20], dtype=np.int64))])))

    # Initializers that lie about their size.
    t = onnx.TensorProto(name="w", data_type=F, dims=[64, 32], raw_data=b"\0" * 16)
    out.append(("initializer_short.onnx", model(
        [n("MatMul", ["x", "w"], ["y"], name="fc")], [vi("x", [8, 64])], [vi("y", [8, 32])], [t])))
    t = onnx.TensorProto(name="w", data_type=F, dims=[1 << 20, 1 << 20])  # 2^40 elements, no data
    out.append(("initializer_absurd.onnx", model(
        [n("MatMul", ["x", "w"], ["y"], name="fc")], [vi("x", [8, 1 << 20])],
        [vi("y", [8, 1 << 20])], [t])))
    t = onnx.TensorProto(name="w", data_type=F, dims=[64, 32],
                         data_location=onnx.TensorProto.EXTERNAL)
    t.external_data.add(key="location", value="weights.bin")
    out.append(("external_data.onnx", model(
        [n("MatMul", ["x", "w"], ["y"], name="fc")], [vi("x", [8, 64])], [vi("y", [8, 32])], [t])))

    # External data that is short, misplaced or escapes the model's directory. The side files
    # (zeros) are bad inputs too: fed to compile themselves, they are not ONNX models.
    def ext(file, location, dims=(64, 32), **kv):
        t = onnx.TensorProto(name="w", data_type=F, dims=list(dims),
                             data_location=onnx.TensorProto.EXTERNAL)
        t.external_data.add(key="location", value=location)
        for k, v in kv.items():
            t.external_data.add(key=k, value=v)
        out.append((file, model([n("MatMul", ["x", "w"], ["y"], name="fc")], [vi("x", [8, 64])],
                                [vi("y", [8, 32])], [t])))
    out.append(("ext_short.bin", b"\0" * 4096))  # half of a [64, 32] fp32 tensor
    ext("ext_short.onnx", "ext_short.bin")
    ext("ext_offset_past_end.onnx", "ext_short.bin", offset="5000")
    ext("ext_length_past_end.onnx", "ext_short.bin", offset="96", length="4096")
    ext("ext_bad_offset.onnx", "ext_short.bin", offset="-8")
    ext("ext_absurd_dims.onnx", "ext_short.bin", dims=(1 << 20, 1 << 20))
    ext("ext_escape.onnx", "../onnx/ext_short.bin")
    ext("ext_absolute.onnx", "/etc/hostname")

    # ScatterND with runtime indices, Trilu with a runtime k: valid ONNX, refused in one line.
    out.append(("scatter_nd_runtime_indices.onnx", model(
        [n("ScatterND", ["x", "i", "u"], ["y"], name="scatter")],
        [vi("x", [4, 3]), vi("i", [2, 1], I64), vi("u", [2, 3])], [vi("y", [4, 3])])))
    out.append(("trilu_runtime_k.onnx", model(
        [n("Trilu", ["x", "k"], ["y"], name="tri")], [vi("x", [4, 4]), vi("k", [], I64)],
        [vi("y", [4, 4])])))

    # Valid models that cannot be split by batch over cores (--cores 2).
    out.append(("dp_softmax_batch.onnx", model(
        [n("Softmax", ["x"], ["y"], axis=0, name="softmax")], [vi("x", ["N", 6])], [vi("y", ["N", 6])])))
    out.append(("dp_transpose_batch.onnx", model(
        [n("Transpose", ["x"], ["y"], perm=[1, 0], name="t")], [vi("x", [4, 6])], [vi("y", [6, 4])])))
    out.append(("dp_reduce_all.onnx", model(
        [n("ReduceMean", ["x"], ["y"], keepdims=1, name="mean")], [vi("x", [4, 6])], [vi("y", [1, 1])])))
    out.append(("dp_odd_batch.onnx", model(
        [n("Relu", ["x"], ["y"], name="relu")], [vi("x", [3, 6])], [vi("y", [3, 6])])))
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "onnx")
    os.makedirs(out_dir, exist_ok=True)
    for name, m in models():
        data = m if isinstance(m, bytes) else m.SerializeToString()
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(models())} models to {out_dir}")


if __name__ == "__main__":
    main()
