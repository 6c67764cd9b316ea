"""Decoder-only LLM test models in the form Hugging Face / optimum exports write them (issue #15).

Llama-style (RMSNorm, rotary embeddings from cos/sin caches, grouped-query attention, SwiGLU) and
GPT-2-style (LayerNormalization, tanh GELU, learned positions, fused QKV Gemm + Split) decoders
with the merged-decoder interface: inputs `input_ids`, `attention_mask`, `position_ids`,
`past_key_values.{i}.key/value` [B, KVH, P, D]; outputs `logits` and `present.{i}.key/value`
[B, KVH, P + S, D]. The node sequences follow transformers 4.36's modeling code as torch.onnx
traces it (shapes through Shape/Gather/Concat, the causal mask built with ConstantOfShape/Range/
Less/Where and concatenated with a zero block for the past, the padding mask with Unsqueeze/
Expand/Cast/Sub/Where, masked_fill as Where). All shapes are static, so no --shape pins.
Imported by make_models.py (LLM_MODELS); uses onnx.helper and numpy only.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT
I64 = TensorProto.INT64
FMIN = float(np.finfo(np.float32).min)
n = helper.make_node


class _G:
    """A graph under construction: nodes, initializers, fresh names."""

    def __init__(self, rng, external=None):
        self.rng, self.nodes, self.inits, self.k = rng, [], [], 0
        # external: a side-file name; weights are then external data of that file, never
        # generated (real-size models for timing-only runs; the file is made sparse, all zeros,
        # by write_external()).
        self.external, self.ext_bytes = external, 0

    def c(self, arr, name=None):
        self.k += 1
        name = name or f"const_{self.k}"
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def i64(self, *v):
        return self.c(np.array(v, dtype=np.int64))

    def s64(self, v):  # an int64 scalar (Gather indices, Range bounds)
        return self.c(np.array(v, dtype=np.int64))

    def f(self, v):
        return self.c(np.array(v, dtype=np.float32))

    def w(self, name, *shape, scale=None, offset=0.0):
        if self.external:
            t = onnx.TensorProto(name=name, data_type=F, dims=list(shape))
            t.data_location = onnx.TensorProto.EXTERNAL
            length = int(np.prod(shape)) * 4
            for k, v in (("location", self.external), ("offset", str(self.ext_bytes)),
                         ("length", str(length))):
                e = t.external_data.add()
                e.key, e.value = k, v
            self.ext_bytes += length
            self.inits.append(t)
            return name
        s = scale if scale is not None else 1.0 / np.sqrt(shape[0])
        return self.c((offset + self.rng.standard_normal(shape) * s).astype(np.float32), name)

    def op(self, op_type, ins, name, nout=1, **attrs):
        outs = [name] if nout == 1 else [f"{name}_{i}" for i in range(nout)]
        self.nodes.append(n(op_type, ins, outs, name=name, **attrs))
        return outs[0] if nout == 1 else outs


def _symbolic(inputs, outputs):
    """The dynamic axes optimum declares: batch_size, sequence_length, past_sequence_length and
    their sum (trnsim pins them from the inputs' .npy files)."""
    syms = {"input_ids": ["batch_size", "sequence_length"],
            "attention_mask": ["batch_size", "past_sequence_length + sequence_length"],
            "position_ids": ["batch_size", "sequence_length"],
            "logits": ["batch_size", "sequence_length", None]}
    for v in inputs + outputs:
        past = v.name.startswith("past_key_values")
        names = syms.get(v.name, ["batch_size", None, "past_sequence_length" if past else
                                  "past_sequence_length + sequence_length", None])
        for d, sym in zip(v.type.tensor_type.shape.dim, names):
            if sym:
                d.dim_param = sym


def _finish(name, g, inputs, outputs, feeds, opset, dynamic=False):
    if dynamic:
        _symbolic(inputs, outputs)
    gr = helper.make_graph(g.nodes, name, inputs, outputs, initializer=g.inits)
    m = helper.make_model(gr, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="trnsim-tests")
    m.ir_version = 8
    if not g.external:  # the checker wants external data files to exist: checked on the real
        onnx.checker.check_model(m)  # sizes' small twins
    onnx.shape_inference.infer_shapes(m, strict_mode=True)
    return m, feeds


def _feeds(rng, B, S, P, pad, V, L, KVH, D):
    """input_ids, a left-padded attention_mask (row b has pad[b] leading zeros over the P + S
    positions), position_ids as generate() makes them (cumsum(mask) - 1, 1 at pads), pasts."""
    T = P + S
    mask = np.ones((B, T), np.int64)
    for b, k in enumerate(pad):
        mask[b, :k] = 0
    pos = np.cumsum(mask, axis=1) - 1
    pos[mask == 0] = 1
    feeds = {"input_ids": rng.integers(0, V, size=(B, S)).astype(np.int64),
             "attention_mask": mask, "position_ids": pos[:, P:].astype(np.int64)}
    for i in range(L):
        for kv in ("key", "value"):
            feeds[f"past_key_values.{i}.{kv}"] = rng.standard_normal((B, KVH, P, D)).astype(np.float32)
    return feeds


def _io(B, S, P, V, L, KVH, D):
    vi = helper.make_tensor_value_info
    inputs = [vi("input_ids", I64, [B, S]), vi("attention_mask", I64, [B, P + S]),
              vi("position_ids", I64, [B, S])]
    outputs = [vi("logits", F, [B, S, V])]
    for i in range(L):
        for kv in ("key", "value"):
            inputs.append(vi(f"past_key_values.{i}.{kv}", F, [B, KVH, P, D]))
            outputs.append(vi(f"present.{i}.{kv}", F, [B, KVH, P + S, D]))
    return inputs, outputs


def _shapes(g):
    """bsz, seq (scalars and 1-d) from Shape(input_ids), past length from Shape(past key 0)."""
    ids_shape = g.op("Shape", ["input_ids"], "ids_shape")
    bsz = g.op("Gather", [ids_shape, g.s64(0)], "bsz", axis=0)
    seq = g.op("Gather", [ids_shape, g.s64(1)], "seq", axis=0)
    past_shape = g.op("Shape", ["past_key_values.0.key"], "past_shape")
    past = g.op("Gather", [past_shape, g.s64(2)], "past_len", axis=0)
    src = g.op("Add", [seq, past], "src_len")
    u = lambda x: g.op("Unsqueeze", [x, g.i64(0)], x + "_1d")
    return bsz, seq, past, src, u(bsz), u(seq), u(past), u(src)


def _llama_mask(g, sh):
    """transformers' _prepare_4d_causal_attention_mask: causal [S, S] of finfo.min above the
    diagonal, a zero block for the past, expanded to [B, 1, S, P + S]; the padding mask
    1 - mask masked to finfo.min; combined with masked_fill (Where)."""
    bsz, seq, past, src, bsz1, seq1, past1, src1 = sh
    full = g.op("ConstantOfShape", [g.op("Concat", [seq1, seq1], "cm_shape", axis=0)], "cm_full",
                value=helper.make_tensor("v", F, [1], [FMIN]))
    cond = g.op("Range", [g.s64(0), seq, g.s64(1)], "cm_range")
    cond1 = g.op("Add", [cond, g.s64(1)], "cm_range1")
    cond1r = g.op("Reshape", [cond1, g.op("Concat", [seq1, g.i64(1)], "cm_col", axis=0)],
                  "cm_range1_col")
    lt = g.op("Less", [cond, cond1r], "cm_less")
    causal = g.op("Where", [lt, g.f(0.0), full], "cm_tri")
    zeros = g.op("ConstantOfShape", [g.op("Concat", [seq1, past1], "cm_past_shape", axis=0)],
                 "cm_past_zeros", value=helper.make_tensor("v", F, [1], [0.0]))
    causal = g.op("Concat", [zeros, causal], "cm_with_past", axis=-1)
    causal = g.op("Unsqueeze", [causal, g.i64(0, 1)], "cm_4d")
    shape4 = g.op("Concat", [bsz1, g.i64(1), seq1, src1], "mask_shape", axis=0)
    causal = g.op("Expand", [causal, shape4], "cm_expand")
    am = g.op("Unsqueeze", ["attention_mask", g.i64(1, 2)], "am_4d")
    am = g.op("Expand", [am, shape4], "am_expand")
    am = g.op("Cast", [am], "am_float", to=F)
    inv = g.op("Sub", [g.f(1.0), am], "am_invert")
    invb = g.op("Cast", [inv], "am_bool", to=TensorProto.BOOL)
    expm = g.op("Where", [invb, g.f(FMIN), inv], "am_fill")
    expb = g.op("Cast", [expm], "am_fill_bool", to=TensorProto.BOOL)
    return g.op("Where", [expb, g.f(FMIN), causal], "attn_mask")


def _llama_mask_v440(g, sh, B, S, T):
    """transformers 4.40's _update_causal_mask (eager/SDPA, torch.onnx): full(min) [S, T],
    triu(diagonal=1) unless S == 1, times arange(T) > cache_position (a Cast bool and Mul),
    expanded to [B, 1, S, T]; padding_mask = causal + attention_mask == 0 masked to min with
    Where, written back into causal_mask[..., :mask_length] (a ScatterND)."""
    bsz, seq, past, src, bsz1, seq1, past1, src1 = sh
    full = g.op("ConstantOfShape", [g.op("Concat", [seq1, src1], "cm_shape", axis=0)], "cm_full",
                value=helper.make_tensor("v", F, [1], [FMIN]))
    cm = g.op("Trilu", [full, g.s64(1)], "cm_triu", upper=1) if S != 1 else full
    cache_pos = g.op("Range", [past, src, g.s64(1)], "cache_position")
    gt = g.op("Greater", [g.op("Range", [g.s64(0), src, g.s64(1)], "cm_arange"),
                          g.op("Reshape", [cache_pos, g.i64(-1, 1)], "cm_cache_col")], "cm_greater")
    cm = g.op("Mul", [cm, g.op("Cast", [gt], "cm_greater_f", to=F)], "cm_mul")
    shape4 = g.op("Concat", [bsz1, g.i64(1, -1, -1)], "mask_shape", axis=0)
    cm = g.op("Expand", [g.op("Unsqueeze", [cm, g.i64(0, 1)], "cm_4d"),
                         g.op("Where", [g.op("Equal", [shape4, g.i64(-1)], "mask_shape_eq"),
                                        g.op("Shape", [g.op("Unsqueeze", [cm, g.i64(0, 1)],
                                                            "cm_4d_s")], "cm_4d_shape"),
                                        shape4], "mask_shape_fix")], "cm_expand")
    am = g.op("Cast", [g.op("Unsqueeze", ["attention_mask", g.i64(1, 2)], "am_4d")], "am_float",
              to=F)
    head = g.op("Slice", [cm, g.i64(0), src1, g.i64(3), g.i64(1)], "cm_head")
    pad = g.op("Equal", [g.op("Add", [head, am], "pm_add"), g.f(0.0)], "pm_eq")
    filled = g.op("Where", [pad, g.f(FMIN), head], "pm_fill")
    # causal_mask[:, :, :, :mask_length] = filled: index_put as ScatterND over the first three
    # axes (indices [B, 1, S, 3], constant once the shapes fold).
    idx = np.stack(np.meshgrid(np.arange(B), [0], np.arange(S), indexing="ij"), axis=-1)
    return g.op("ScatterND", [cm, g.c(idx.astype(np.int64)), filled], "attn_mask")


def _rms(g, x, name, D, eps=1e-6):
    """LlamaRMSNorm: to(float32), pow(2).mean(-1), rsqrt(var + eps) as 1 / Sqrt, weight *."""
    xf = g.op("Cast", [x], name + "_cast", to=F)
    var = g.op("ReduceMean", [g.op("Pow", [xf, g.f(2.0)], name + "_pow")], name + "_mean",
               axes=[-1], keepdims=1)
    rs = g.op("Div", [g.f(1.0), g.op("Sqrt", [g.op("Add", [var, g.f(eps)], name + "_eps")],
                                     name + "_sqrt")], name + "_rsqrt")
    y = g.op("Mul", [xf, rs], name + "_norm")
    return g.op("Mul", [g.w(name + ".weight", D, scale=0.1, offset=1.0), y], name + "_scale")


def _rope_runtime(g, sh, D):
    """transformers 4.40's LlamaRotaryEmbedding.forward(x, position_ids): inv_freq [D/2]
    expanded to [B, D/2, 1] @ position_ids[:, None, :].float() (a K = 1 MatMul), transposed,
    cat(freqs, freqs), Cos and Sin at run time, then unsqueeze(1) in apply_rotary_pos_emb."""
    bsz1 = sh[4]
    inv = (1.0 / (10000 ** (np.arange(0, D, 2, dtype=np.float32) / D))).astype(np.float32)
    invx = g.op("Expand", [g.c(inv.reshape(1, -1, 1), "rotary_emb.inv_freq"),
                           g.op("Concat", [bsz1, g.i64(1, 1)], "rope_inv_shape", axis=0)],
                "rope_inv_expand")
    pos = g.op("Cast", [g.op("Unsqueeze", ["position_ids", g.i64(1)], "rope_pos_unsq")],
               "rope_pos_float", to=F)
    fr = g.op("Transpose", [g.op("MatMul", [invx, pos], "rope_freqs_mm")], "rope_freqs",
              perm=[0, 2, 1])
    emb = g.op("Concat", [fr, fr], "rope_emb", axis=-1)
    rope = {}
    for t, op in (("cos", "Cos"), ("sin", "Sin")):
        x = g.op(op, [emb], f"rope_{t}_raw")
        x = g.op("Cast", [g.op("Mul", [x, g.f(1.0)], f"rope_{t}_scaling")], f"rope_{t}_cast", to=F)
        rope[t] = g.op("Unsqueeze", [x, g.i64(1)], f"rope_{t}")
    return rope


def _rotate_half(g, x, name, D):
    x1 = g.op("Slice", [x, g.i64(0), g.i64(D // 2), g.i64(3), g.i64(1)], name + "_x1")
    x2 = g.op("Slice", [x, g.i64(D // 2), g.i64(2 ** 62), g.i64(3), g.i64(1)], name + "_x2")
    return g.op("Concat", [g.op("Neg", [x2], name + "_neg"), x1], name + "_rot", axis=-1)


def write_external(model, path):
    """Saves a model built with external weights and makes its side file (sparse zeros)."""
    onnx.save(model, path)
    import os
    side = None
    for t in model.graph.initializer:
        for e in t.external_data:
            if e.key == "location":
                side = os.path.join(os.path.dirname(path), e.value)
    total = sum(int(next(e.value for e in t.external_data if e.key == "length"))
                for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL)
    if side:
        with open(side, "wb") as f:
            f.truncate(total)


def llama(name, B, S, P, pad=(), L=2, V=100, Dm=64, H=4, KVH=2, FF=128, max_pos=32,
          form="v436", dynamic=False, external=None):
    """A Llama-style merged decoder: L layers, hidden Dm, H query heads of D = Dm / H, KVH
    key/value heads (repeat_kv as Unsqueeze/Expand/Reshape), SwiGLU MLP of FF, untied LM head.
    form "v436": transformers 4.36 (cos/sin caches Gathered by position_ids, the
    _prepare_4d_causal_attention_mask mask, eager attention: Div by sqrt(D)); "v440":
    transformers 4.40+ (rotary computed from position_ids with Cos/Sin at run time, the
    _update_causal_mask mask, SDPA: q and k^T each scaled by D^-1/4). dynamic: the inputs'
    and outputs' dims symbolic, as optimum exports them."""
    D, rep = Dm // H, H // KVH

    def build(rng):
        g = _G(rng, external)
        sh = _shapes(g)
        bsz, seq, past, src, bsz1, seq1, past1, src1 = sh
        if form == "v440":
            mask = _llama_mask_v440(g, sh, B, S, P + S)
        else:
            mask = _llama_mask(g, sh)
        # LlamaRotaryEmbedding: cos/sin caches [max_pos, D] sliced to the kv length, then
        # cos[position_ids].unsqueeze(1).
        inv = 1.0 / (10000 ** (np.arange(0, D, 2, dtype=np.float32) / D))
        fr = np.outer(np.arange(max_pos, dtype=np.float32), inv)
        emb = np.concatenate([fr, fr], axis=-1)
        rope = {}
        for t, fn in (("cos", np.cos), ("sin", np.sin)) if form == "v436" else ():
            cache = g.c(fn(emb).astype(np.float32), f"rotary_emb.{t}_cached")
            sl = g.op("Slice", [cache, g.i64(0), src1, g.i64(0)], f"rope_{t}_slice")
            ga = g.op("Gather", [sl, "position_ids"], f"rope_{t}_gather", axis=0)
            rope[t] = g.op("Unsqueeze", [ga, g.i64(1)], f"rope_{t}")
        if form == "v440":
            rope = _rope_runtime(g, sh, D)
        h = g.op("Gather", [g.w("embed_tokens.weight", V, Dm, scale=1.0), "input_ids"], "embed",
                 axis=0)
        heads_shape = lambda nh, nm: g.op("Concat", [bsz1, seq1, g.i64(nh), g.i64(D)], nm, axis=0)
        for i in range(L):
            p = f"layers.{i}"
            x = _rms(g, h, p + ".input_layernorm", Dm)
            qkv = {}
            for w, nh in (("q", H), ("k", KVH), ("v", KVH)):
                t = g.op("MatMul", [x, g.w(f"{p}.{w}_proj", Dm, nh * D)], f"{p}_{w}_proj")
                t = g.op("Reshape", [t, heads_shape(nh, f"{p}_{w}_shape")], f"{p}_{w}_view")
                qkv[w] = g.op("Transpose", [t], f"{p}_{w}_t", perm=[0, 2, 1, 3])
            for w in ("q", "k"):  # q * cos + rotate_half(q) * sin
                a = g.op("Mul", [qkv[w], rope["cos"]], f"{p}_{w}_cos")
                b = g.op("Mul", [_rotate_half(g, qkv[w], f"{p}_{w}", D), rope["sin"]],
                         f"{p}_{w}_sin")
                qkv[w] = g.op("Add", [a, b], f"{p}_{w}_rope")
            kv = {}
            for w, io in (("k", "key"), ("v", "value")):
                cat = g.op("Concat", [f"past_key_values.{i}.{io}", qkv[w]], f"present.{i}.{io}",
                           axis=2)
                # repeat_kv: x[:, :, None].expand(B, KVH, rep, T, D).reshape(B, H, T, D)
                e = g.op("Unsqueeze", [cat, g.i64(2)], f"{p}_{w}_rep_unsq")
                e = g.op("Expand", [e, g.op("Concat", [bsz1, g.i64(KVH, rep), src1, g.i64(D)],
                                                f"{p}_{w}_rep_shape", axis=0)], f"{p}_{w}_rep_exp")
                kv[w] = g.op("Reshape", [e, g.op("Concat", [bsz1, g.i64(H), src1, g.i64(D)],
                                                 f"{p}_{w}_rep_shape2", axis=0)], f"{p}_{w}_rep")
            kt = g.op("Transpose", [kv["k"]], f"{p}_k_tt", perm=[0, 1, 3, 2])
            if form == "v440":  # SDPA's export: sqrt(scale) on q and on k^T
                qs = g.f(D ** -0.25)
                sc = g.op("MatMul", [g.op("Mul", [qkv["q"], qs], f"{p}_q_scale"),
                                     g.op("Mul", [kt, qs], f"{p}_k_scale")], f"{p}_scores")
            else:
                sc = g.op("MatMul", [qkv["q"], kt], f"{p}_scores")
                sc = g.op("Div", [sc, g.f(np.sqrt(D))], f"{p}_scale")
            sc = g.op("Add", [sc, mask], f"{p}_masked")
            pr = g.op("Softmax", [sc], f"{p}_softmax", axis=-1)
            pr = g.op("Cast", [pr], f"{p}_probs", to=F)
            o = g.op("MatMul", [pr, kv["v"]], f"{p}_context")
            o = g.op("Transpose", [o], f"{p}_ctx_t", perm=[0, 2, 1, 3])
            o = g.op("Reshape", [o, g.op("Concat", [bsz1, seq1, g.i64(Dm)], f"{p}_merge_shape",
                                         axis=0)], f"{p}_ctx")
            o = g.op("MatMul", [o, g.w(f"{p}.o_proj", Dm, Dm)], f"{p}_o_proj")
            h = g.op("Add", [h, o], f"{p}_residual1")
            x = _rms(g, h, p + ".post_attention_layernorm", Dm)
            gt = g.op("MatMul", [x, g.w(f"{p}.gate_proj", Dm, FF)], f"{p}_gate")
            gt = g.op("Mul", [gt, g.op("Sigmoid", [gt], f"{p}_gate_sigmoid")], f"{p}_silu")
            up = g.op("MatMul", [x, g.w(f"{p}.up_proj", Dm, FF)], f"{p}_up")
            dn = g.op("MatMul", [g.op("Mul", [gt, up], f"{p}_gate_up"),
                                 g.w(f"{p}.down_proj", FF, Dm)], f"{p}_down")
            h = g.op("Add", [h, dn], f"{p}_residual2")
        x = _rms(g, h, "norm", Dm)
        g.op("MatMul", [x, g.w("lm_head", Dm, V)], "logits")
        inputs, outputs = _io(B, S, P, V, L, KVH, D)
        return _finish(name, g, inputs, outputs, _feeds(np.random.default_rng(7), B, S, P, pad,
                                                        V, L, KVH, D), opset=14,
                       dynamic=dynamic)
    return build


def gpt2(name, B, S, P, pad=(), L=2, V=100, Dm=64, H=4, max_pos=32, dynamic=False):
    """A GPT-2-style merged decoder: LayerNormalization (opset 17), Conv1D as Reshape/Gemm/
    Reshape, fused QKV Split, causal mask Sliced from the bool `bias` buffer and applied with
    Where, padding mask (1 - mask) * finfo.min added, gelu_new (tanh form), tied LM head."""
    D, FF = Dm // H, 4 * Dm

    def build(rng):
        g = _G(rng)
        bsz, seq, past, src, bsz1, seq1, past1, src1 = _shapes(g)
        ids = g.op("Reshape", ["input_ids", g.op("Concat", [g.i64(-1), seq1], "ids_shape2", axis=0)],
                   "ids_view")
        pos = g.op("Reshape", ["position_ids", g.op("Concat", [g.i64(-1), seq1], "pos_shape2",
                                                    axis=0)], "pos_view")
        wte = g.rng.standard_normal((V, Dm)).astype(np.float32)
        h = g.op("Add", [g.op("Gather", [g.c(wte, "wte.weight"), ids], "wte", axis=0),
                         g.op("Gather", [g.w("wpe.weight", max_pos, Dm, scale=0.5), pos], "wpe",
                              axis=0)], "embed")
        am = g.op("Reshape", ["attention_mask", g.op("Concat", [bsz1, g.i64(-1)], "am_shape",
                                                     axis=0)], "am_view")
        am = g.op("Unsqueeze", [am, g.i64(1, 2)], "am_4d")
        am = g.op("Cast", [am], "am_float", to=F)
        am = g.op("Mul", [g.op("Sub", [g.f(1.0), am], "am_invert"), g.f(FMIN)], "attn_mask")
        bias = g.c(np.tril(np.ones((1, 1, max_pos, max_pos), dtype=bool)), "attn.bias")
        start = g.op("Sub", [src1, seq1], "causal_start")
        causal = g.op("Slice", [bias, start, src1, g.i64(2), g.i64(1)], "causal_rows")
        causal = g.op("Slice", [causal, g.i64(0), src1, g.i64(3), g.i64(1)], "causal")
        def conv1d(t, k_in, k_out, nm):
            t = g.op("Reshape", [t, g.i64(-1, k_in)], nm + "_flat")
            t = g.op("Gemm", [t, g.w(nm + ".weight", k_in, k_out, scale=0.1),
                              g.w(nm + ".bias", k_out, scale=0.05)], nm)
            return g.op("Reshape", [t, g.op("Concat", [bsz1, seq1, g.i64(k_out)], nm + "_shape",
                                            axis=0)], nm + "_view")

        def ln(t, nm):
            return g.op("LayerNormalization", [t, g.w(nm + ".weight", Dm, scale=0.1, offset=1.0),
                                               g.w(nm + ".bias", Dm, scale=0.1)], nm, axis=-1,
                        epsilon=1e-5)
        for i in range(L):
            p = f"h.{i}"
            qkv = conv1d(ln(h, p + ".ln_1"), Dm, 3 * Dm, p + ".attn.c_attn")
            q, k, v = g.op("Split", [qkv, g.i64(Dm, Dm, Dm)], p + "_split", nout=3, axis=2)
            hs = g.op("Concat", [bsz1, seq1, g.i64(H, D)], p + "_heads_shape", axis=0)
            t = {}
            for w, x in (("q", q), ("k", k), ("v", v)):
                t[w] = g.op("Transpose", [g.op("Reshape", [x, hs], f"{p}_{w}_view")], f"{p}_{w}_t",
                            perm=[0, 2, 1, 3])
            key = g.op("Concat", [f"past_key_values.{i}.key", t["k"]], f"present.{i}.key", axis=-2)
            val = g.op("Concat", [f"past_key_values.{i}.value", t["v"]], f"present.{i}.value",
                       axis=-2)
            sc = g.op("MatMul", [t["q"], g.op("Transpose", [key], f"{p}_k_tt", perm=[0, 1, 3, 2])],
                      f"{p}_scores")
            sc = g.op("Div", [sc, g.f(np.sqrt(D))], f"{p}_scale")
            sc = g.op("Where", [causal, sc, g.f(FMIN)], f"{p}_causal")
            sc = g.op("Add", [sc, am], f"{p}_masked")
            pr = g.op("Softmax", [sc], f"{p}_softmax", axis=-1)
            o = g.op("MatMul", [pr, val], f"{p}_context")
            o = g.op("Transpose", [o], f"{p}_ctx_t", perm=[0, 2, 1, 3])
            o = g.op("Reshape", [o, g.op("Concat", [bsz1, seq1, g.i64(Dm)], f"{p}_merge_shape",
                                         axis=0)], f"{p}_ctx")
            h = g.op("Add", [conv1d(o, Dm, Dm, p + ".attn.c_proj"), h], f"{p}_residual1")
            f = conv1d(ln(h, p + ".ln_2"), Dm, FF, p + ".mlp.c_fc")
            # gelu_new: 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
            c = g.op("Add", [f, g.op("Mul", [g.f(0.044715), g.op("Pow", [f, g.f(3.0)], p + "_pow3")],
                                     p + "_cubic")], p + "_inner")
            c = g.op("Tanh", [g.op("Mul", [g.f(np.sqrt(2 / np.pi)), c], p + "_scaled")],
                     p + "_tanh")
            f = g.op("Mul", [g.op("Mul", [g.f(0.5), f], p + "_half"),
                             g.op("Add", [g.f(1.0), c], p + "_one_plus")], p + "_gelu")
            h = g.op("Add", [h, conv1d(f, FF, Dm, p + ".mlp.c_proj")], f"{p}_residual2")
        h = ln(h, "ln_f")
        g.op("MatMul", [h, g.c(np.ascontiguousarray(wte.T), "lm_head.weight")], "logits")
        inputs, outputs = _io(B, S, P, V, L, H, D)
        return _finish(name, g, inputs, outputs, _feeds(np.random.default_rng(7), B, S, P, pad,
                                                        V, L, H, D), opset=17,
                       dynamic=dynamic)
    return build


LLM_MODELS = {
    # Prefill with a zero-length past (the first step of a merged decoder): past [1, 2, 0, 16].
    "llama_prefill": llama("llama_prefill", B=1, S=8, P=0),
    # One decode step: S = 1 over a past of 7.
    "llama_decode": llama("llama_decode", B=1, S=1, P=7),
    # Batch 2, the second row left-padded by 3 (its pad query rows see only masked keys).
    "llama_pad_b2": llama("llama_pad_b2", B=2, S=6, P=0, pad=(0, 3)),
    # A batch-2 decode step whose past holds padding.
    "llama_decode_pad_b2": llama("llama_decode_pad_b2", B=2, S=1, P=5, pad=(2, 0)),
    # transformers 4.40+ export form: Cos/Sin rotary at run time, Trilu/Greater/ScatterND mask,
    # SDPA scaling.
    "llama_v440_prefill": llama("llama_v440_prefill", B=1, S=8, P=0, form="v440"),
    "llama_v440_decode_pad_b2": llama("llama_v440_decode_pad_b2", B=2, S=1, P=5, pad=(2, 0),
                                      form="v440"),
    "llama_v440_pad_b2": llama("llama_v440_pad_b2", B=2, S=6, P=0, pad=(0, 3), form="v440"),
    # Symbolic batch_size / sequence_length / past_sequence_length, pinned by the inputs (the
    # past to 0).
    "llama_v440_dyn_prefill": llama("llama_v440_dyn_prefill", B=2, S=6, P=0, pad=(0, 3),
                                    form="v440", dynamic=True),
    "gpt2_kv_prefill": gpt2("gpt2_kv_prefill", B=1, S=8, P=0),
    "gpt2_kv_decode": gpt2("gpt2_kv_decode", B=1, S=1, P=7),
    "gpt2_kv_pad_b2": gpt2("gpt2_kv_pad_b2", B=2, S=6, P=0, pad=(0, 3)),
}
