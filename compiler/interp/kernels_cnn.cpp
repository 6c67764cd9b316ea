// Reference kernels of Conv, ConvTranspose, MaxPool/AveragePool, global pooling, Pad, Resize.
#include <algorithm>
#include <cmath>
#include <limits>

#include "compiler/ops/cnn.h"
#include "compiler/ops/op_fns.h"
#include "support/error.h"

namespace trnsim::compiler {

namespace {
void finish(const Node& n, Value& out) {
  std::string act = n.attr_string("_act", "");
  const OpInfo* info = act.empty() ? nullptr : find_op(act);
  for (double& d : out.data) {
    if (info) d = info->unary(d, n);
    d = round_to(out.dtype, d);
  }
}
}  // namespace

std::vector<Value> eval_conv(const Node& n, const std::vector<const Value*>& in) {
  const Value &x = *in[0], &w = *in[1];
  const Value* b = in.size() > 2 ? in[2] : nullptr;
  WindowGeom g = conv_geom(n, x.shape, w.shape);
  Value out(x.dtype, window_out_shape(g));
  const int64_t cg = g.C / g.G, mg = g.M / g.G;
  for (int64_t nn = 0; nn < g.N; ++nn)
    for (int64_t m = 0; m < g.M; ++m) {
      const int64_t grp = m / mg;
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          double acc = b ? b->data[m] : 0.0;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t kh = 0; kh < g.KH; ++kh) {
              const int64_t ih = oh * g.sh - g.pt + kh * g.dh;
              if (ih < 0 || ih >= g.H) continue;
              for (int64_t kw = 0; kw < g.KW; ++kw) {
                const int64_t iw = ow * g.sw - g.pl + kw * g.dw;
                if (iw < 0 || iw >= g.W) continue;
                acc += x.data[((nn * g.C + grp * cg + c) * g.H + ih) * g.W + iw] *
                       w.data[((m * cg + c) * g.KH + kh) * g.KW + kw];
              }
            }
          out.data[((nn * g.M + m) * g.OH + oh) * g.OW + ow] = acc;
        }
    }
  finish(n, out);
  return {out};
}

std::vector<Value> eval_conv_transpose(const Node& n, const std::vector<const Value*>& in) {
  const Value &x = *in[0], &w = *in[1];
  const Value* b = in.size() > 2 ? in[2] : nullptr;
  WindowGeom g = conv_transpose_geom(n, x.shape, w.shape);
  Value out(x.dtype, window_out_shape(g));
  const int64_t cg = g.C / g.G, mg = g.M / g.G;
  for (int64_t nn = 0; nn < g.N; ++nn)
    for (int64_t c = 0; c < g.C; ++c) {
      const int64_t grp = c / cg;
      for (int64_t ih = 0; ih < g.H; ++ih)
        for (int64_t iw = 0; iw < g.W; ++iw) {
          const double xv = x.data[((nn * g.C + c) * g.H + ih) * g.W + iw];
          for (int64_t mm = 0; mm < mg; ++mm)
            for (int64_t kh = 0; kh < g.KH; ++kh) {
              const int64_t oh = ih * g.sh - g.pt + kh * g.dh;
              if (oh < 0 || oh >= g.OH) continue;
              for (int64_t kw = 0; kw < g.KW; ++kw) {
                const int64_t ow = iw * g.sw - g.pl + kw * g.dw;
                if (ow < 0 || ow >= g.OW) continue;
                out.data[((nn * g.M + grp * mg + mm) * g.OH + oh) * g.OW + ow] +=
                    xv * w.data[((c * mg + mm) * g.KH + kh) * g.KW + kw];
              }
            }
        }
    }
  if (b)
    for (int64_t i = 0; i < out.numel(); ++i) out.data[i] += b->data[(i / (g.OH * g.OW)) % g.M];
  finish(n, out);
  return {out};
}

std::vector<Value> eval_pool(const Node& n, const std::vector<const Value*>& in) {
  const Value& x = *in[0];
  WindowGeom g = pool_geom(n, x.shape);
  const bool mx = n.op == "MaxPool";
  const bool include_pad = n.attr_int("count_include_pad", 0) != 0;
  Value out(x.dtype, window_out_shape(g));
  for (int64_t r = 0; r < g.N * g.C; ++r)
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        double acc = mx ? -std::numeric_limits<double>::infinity() : 0.0;
        for (int64_t kh = 0; kh < g.KH; ++kh) {
          const int64_t ih = oh * g.sh - g.pt + kh * g.dh;
          if (ih < 0 || ih >= g.H) continue;
          for (int64_t kw = 0; kw < g.KW; ++kw) {
            const int64_t iw = ow * g.sw - g.pl + kw * g.dw;
            if (iw < 0 || iw >= g.W) continue;
            const double v = x.data[(r * g.H + ih) * g.W + iw];
            acc = mx ? std::max(acc, v) : acc + v;
          }
        }
        if (!mx) acc /= static_cast<double>(avg_pool_count(g, oh, ow, include_pad));
        out.data[(r * g.OH + oh) * g.OW + ow] = acc;
      }
  finish(n, out);
  return {out};
}

std::vector<Value> eval_global_pool(const Node& n, const std::vector<const Value*>& in) {
  const Value& x = *in[0];
  Shape s = x.shape;
  const int64_t rows = s[0] * s[1], hw = x.numel() / std::max<int64_t>(rows, 1);
  for (size_t i = 2; i < s.size(); ++i) s[i] = 1;
  Value out(x.dtype, s);
  const bool mx = n.op == "GlobalMaxPool";
  for (int64_t r = 0; r < rows; ++r) {
    double acc = mx ? -std::numeric_limits<double>::infinity() : 0.0;
    for (int64_t i = 0; i < hw; ++i) {
      const double v = x.data[r * hw + i];
      acc = mx ? std::max(acc, v) : acc + v;
    }
    out.data[r] = mx ? acc : acc / static_cast<double>(hw);
  }
  finish(n, out);
  return {out};
}

namespace {
Value apply_map(const GatherMap& m, const Value& x) {
  Value out(x.dtype, m.out_shape);
  // Integers through a one-term map of weight 1 (Pad, nearest Resize): copied exactly (through
  // double they were exact only below 2^53).
  if (!isa::dtype_is_float(x.dtype) && m.terms.size() == 1 &&
      std::all_of(m.terms[0].w.begin(), m.terms[0].w.end(), [](double w) { return w == 1.0; })) {
    const auto& idx = m.terms[0].idx;
    const int64_t c = double_to_int64(m.constant);
    for (int64_t r = 0; r < m.rows; ++r)
      for (int64_t j = 0; j < m.out_free; ++j) {
        const int64_t i = idx[j];
        out.data.set_int(r * m.out_free + j, i == m.in_free ? c : x.data.int_at(r * m.in_free + i));
      }
    return out;
  }
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t j = 0; j < m.out_free; ++j) {
      double acc = 0.0;
      for (const auto& t : m.terms) {
        const int64_t i = t.idx[j];
        const double v = i == m.in_free ? m.constant : x.data[r * m.in_free + i];
        acc += v * t.w[j];
      }
      out.data[r * m.out_free + j] = round_to(out.dtype, acc);
    }
  return out;
}
}  // namespace

std::vector<Value> eval_pad(const Node& n, const std::vector<const Value*>& in) {
  return {apply_map(pad_map(n, in[0]->shape, in), *in[0])};
}

std::vector<Value> eval_resize(const Node& n, const std::vector<const Value*>& in) {
  return {apply_map(resize_map(n, in[0]->shape, in), *in[0])};
}

}  // namespace trnsim::compiler
