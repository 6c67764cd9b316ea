#!/usr/bin/python3
"""Minimises a failing graph of the differential tester.

usage: minimise.py CASE_DIR DEST_DIR --trnsim BIN [--dtype fp32|bf16]

CASE_DIR is a folder kept by run.py (model.onnx, in_*.npy, meta.json, result.json). Cuts nodes
while the same failure persists: the same class, and for refusals and faults the same message
pattern. A cut edge (an input of a kept node whose producer is gone) becomes a new graph input fed
with ONNX Runtime's value of that tensor in the original graph (an initializer if it was a
compile-time constant, so folding still happens), so the rest of the graph sees what it saw.
First the graph outputs are cut down to one failing output, then nodes are removed one at a time,
last first, until no single removal keeps the failure. DEST_DIR gets model.onnx, in_*.npy, the
reduced graph's ONNX Runtime outputs ref_*.npy, case.json and why.txt (graphs, expected/got,
repro command).
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, shape_inference

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import core  # noqa: E402
import f64  # noqa: E402

SAVABLE = {TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.INT64, TensorProto.BOOL,
           TensorProto.INT32, TensorProto.INT8, TensorProto.UINT8}
NP_TO_ONNX = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float16): TensorProto.FLOAT16,
              np.dtype(np.int64): TensorProto.INT64, np.dtype(np.bool_): TensorProto.BOOL,
              np.dtype(np.int32): TensorProto.INT32, np.dtype(np.int8): TensorProto.INT8,
              np.dtype(np.uint8): TensorProto.UINT8}
MAX_TIMEOUT_TRIES = 6   # each try of a timeout case costs the full time limit


def node_inputs(n):
    """Names a node reads, including outer-scope names used inside If branches."""
    names = [i for i in n.input if i]
    for a in n.attribute:
        if a.type == onnx.AttributeProto.GRAPH:
            inner = {o for m in a.g.node for o in m.output}
            for m in a.g.node:
                names += [i for i in node_inputs(m) if i not in inner]
    return names


class Case:
    def __init__(self, case_dir, trnsim, dtype, work):
        self.dir, self.trnsim, self.dtype, self.work = case_dir, trnsim, dtype, work
        self.model = onnx.load(os.path.join(case_dir, "model.onnx"))
        self.meta = json.load(open(os.path.join(case_dir, "meta.json")))
        self.result = json.load(open(os.path.join(case_dir, "result.json")))
        g = self.model.graph
        self.inputs = {i.name: os.path.join(case_dir, f"in_{i.name}.npy") for i in g.input}
        self.inits = {t.name: t for t in g.initializer}
        self.consts = {n.output[0]: n for n in g.node if n.op_type == "Constant"}
        self.nodes = [n for n in g.node if n.op_type != "Constant"]
        self.const_names = set(self.meta.get("const", []))
        self.ort = core.OrtWorker()
        self.values = self._all_values()
        self.tries = 0

    def _all_values(self):
        """ONNX Runtime's value of every tensor of the original graph: {name: npy path}."""
        m = onnx.ModelProto()
        m.CopyFrom(self.model)
        inferred = shape_inference.infer_shapes(m).graph
        types = {vi.name: vi.type.tensor_type.elem_type
                 for vi in list(inferred.value_info) + list(inferred.output)}
        have = {o.name for o in m.graph.output}
        for n in self.nodes:
            for o in n.output:
                if o and o not in have and types.get(o) in SAVABLE:
                    m.graph.output.append(helper.make_tensor_value_info(o, types[o], None))
        path = os.path.join(self.work, "all.onnx")
        onnx.save(m, path)
        rep = self.ort.run(path, self.inputs, os.path.join(self.work, "all_values"))
        if not rep["ok"]:
            raise SystemExit(f"ONNX Runtime cannot run {self.dir}: {rep['error']}")
        return {n: o["file"] for n, o in rep["outputs"].items()}

    def build(self, keep, outputs, where):
        """The reduced graph of node indices `keep` and graph `outputs`, in folder `where`.
        Returns (model path, {input: npy}) or None if a cut edge has no saved value."""
        # drop nodes that no output needs
        need, kept = set(outputs), []
        for i in sorted(keep, reverse=True):
            n = self.nodes[i]
            if any(o in need for o in n.output):
                kept.append(i)
                need.update(node_inputs(n))
        kept.sort()
        produced = {o for i in kept for o in self.nodes[i].output}
        os.makedirs(where, exist_ok=True)
        g_inputs, inits, consts, feeds = [], [], [], {}
        for name in sorted(need - produced):
            if name in self.inputs:
                src = self.inputs[name]
            elif name in self.inits:
                inits.append(self.inits[name])
                continue
            elif name in self.consts:
                consts.append(self.consts[name])
                continue
            elif name in self.values:
                src = self.values[name]
            else:
                return None
            arr = np.load(src)
            if name in self.const_names and name not in self.inputs:
                inits.append(numpy_helper.from_array(arr, name))
                continue
            path = os.path.join(where, f"in_{name}.npy")
            np.save(path, arr)
            feeds[name] = path
            g_inputs.append(helper.make_tensor_value_info(name, NP_TO_ONNX[arr.dtype], list(arr.shape)))
        g_outputs = []
        for o in outputs:
            arr = np.load(self.values[o], mmap_mode="r")
            g_outputs.append(helper.make_tensor_value_info(o, NP_TO_ONNX[arr.dtype], list(arr.shape)))
        g = helper.make_graph(consts + [self.nodes[i] for i in kept], self.model.graph.name,
                              g_inputs, g_outputs, initializer=inits)
        m = helper.make_model(g, opset_imports=self.model.opset_import, producer_name="trnsim-difftest")
        m.ir_version = self.model.ir_version
        path = os.path.join(where, "model.onnx")
        onnx.save(m, path)
        return path, feeds, kept

    def same_failure(self, res):
        want = self.result
        if res["class"] != want["class"]:
            return False
        if want["class"] in ("fault", "refusal"):   # the same message up to names and numbers
            return core.refusal_pattern(res.get("message", "")) == \
                core.refusal_pattern(want.get("message", ""))
        return True

    def check(self, keep, outputs):
        """(still fails the same way, result, build) for a candidate."""
        if self.result["class"] == "timeout":
            if self.tries >= MAX_TIMEOUT_TRIES:
                return False, None, None
        self.tries += 1
        where = os.path.join(self.work, f"try{self.tries}")
        shutil.rmtree(where, ignore_errors=True)
        built = self.build(keep, outputs, where)
        if built is None:
            return False, None, None
        path, feeds, kept = built
        res = core.evaluate(self.ort, self.trnsim, path, feeds, where, self.dtype,
                            f64=lambda m, i, w, bf16=False: f64.reference64(self.ort, m, i, w, bf16))
        return self.same_failure(res), res, (path, feeds, kept, where)

    def minimise(self):
        all_nodes = set(range(len(self.nodes)))
        outputs = [o.name for o in self.model.graph.output]
        failing = self.result.get("failed_outputs") or outputs[::-1]
        best = None
        for o in failing[:8]:   # one failing output alone, if the failure allows it
            ok, res, built = self.check(all_nodes, [o])
            if ok:
                outputs, best = [o], (res, built)
                break
        if best is None:
            ok, res, built = self.check(all_nodes, outputs)
            if not ok:
                return None   # does not reproduce (flaky?)
            best = (res, built)
        keep = set(best[1][2])
        changed = True
        while changed:
            changed = False
            for o in list(outputs) if len(outputs) > 1 else []:
                rest = [p for p in outputs if p != o]
                ok, res, built = self.check(keep, rest)
                if ok:
                    outputs, keep, best, changed = rest, set(built[2]), (res, built), True
            for i in sorted(keep, reverse=True):
                if any(o in outputs for o in self.nodes[i].output):
                    continue   # removing an output's producer leaves nothing to test
                ok, res, built = self.check(keep - {i}, outputs)
                if ok:
                    keep, best, changed = set(built[2]), (res, built), True
        return outputs, keep, best


def describe(nodes, shapes):
    lines = []
    for n in nodes:
        attrs = []
        for a in n.attribute:
            v = helper.get_attribute_value(a)
            if isinstance(v, bytes):
                v = v.decode()
            elif isinstance(v, float):
                v = round(v, 6)
            elif a.type == onnx.AttributeProto.GRAPH:
                v = "<graph: " + ", ".join(m.op_type for m in v.node) + ">"
            elif a.type == onnx.AttributeProto.TENSOR:
                arr = numpy_helper.to_array(v)
                v = arr.tolist() if arr.size <= 8 else f"<{arr.dtype} {list(arr.shape)}>"
            attrs.append(f"{a.name}={v}")
        ins = ", ".join(f"{i}{shapes.get(i, '')}" for i in n.input)
        lines.append(f"  {n.name}: {n.op_type}({', '.join(attrs)}) <- {ins} -> {', '.join(n.output)}")
    return lines


def minimise_case(case_dir, dest, trnsim, dtype):
    work = tempfile.mkdtemp(prefix="difftest-min-")
    try:
        c = Case(case_dir, trnsim, dtype, work)
        out = c.minimise()
        c.ort.close()
        if out is None:
            print(f"{case_dir}: the failure does not reproduce")
            return None
        outputs, keep, (res, (path, feeds, kept, where)) = out
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(dest)
        shutil.copy(path, os.path.join(dest, "model.onnx"))
        for name, p in feeds.items():
            shutil.copy(p, os.path.join(dest, f"in_{name}.npy"))
        for f in os.listdir(os.path.join(where, "ort")):
            shutil.copy(os.path.join(where, "ort", f), os.path.join(dest, "ref_" + f))
        shapes = {}
        for name, p in list(c.inputs.items()) + list(c.values.items()):
            a = np.load(p, mmap_mode="r")
            shapes[name] = f"[{a.dtype} {list(a.shape)}]"
        for t in c.model.graph.initializer:
            shapes[t.name] = f"[{onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[t.data_type]} {list(t.dims)}] (const)"
        red = onnx.load(path)
        seed = c.meta.get("seed")
        lines = [f"seed {seed} (gen.py {seed} DIR regenerates the original, generator version "
                 f"{c.meta.get('gen_version')}), opset {c.meta['opset']}, dtype {dtype}",
                 f"class: {res['class']}",
                 f"minimised: {len(kept)} of {len(c.nodes)} nodes, outputs {outputs}"]
        lines += describe([n for n in red.graph.node], shapes)
        lines.append("original graph:")
        lines += ["  " + ln for ln in c.meta["nodes"]]
        lines.append("outputs of the original graph (trnsim vs ONNX Runtime):")
        for n, rec in c.result.get("outputs", {}).items():
            lines.append(f"  {n}: {json.dumps(rec)}")
        if c.result.get("message"):
            lines.append(f"  {c.result['message']}")
        lines.append(f"minimised graph: trnsim rc {res.get('rc')}"
                     + (f": {res['message']}" if res.get("message") else ""))
        for n, rec in res.get("outputs", {}).items():
            lines.append(f"  {n}: {json.dumps(rec)}")
        lines.append("repro (in this folder): " + core.repro_command("model.onnx", feeds, dtype))
        with open(os.path.join(dest, "why.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(os.path.join(dest, "case.json"), "w") as f:
            json.dump({"dtype": dtype, "class": res["class"], "seed": seed,
                       "pattern": res.get("pattern")}, f, indent=1)
        print(f"{case_dir} -> {dest}: {len(kept)} of {len(c.nodes)} nodes, {c.tries} tries")
        return dest
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("case")
    ap.add_argument("dest")
    ap.add_argument("--trnsim", required=True)
    ap.add_argument("--dtype", default="fp32")
    a = ap.parse_args()
    sys.exit(0 if minimise_case(a.case, a.dest, os.path.abspath(a.trnsim), a.dtype) else 1)


if __name__ == "__main__":
    main()
