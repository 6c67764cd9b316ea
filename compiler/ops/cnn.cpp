// Window geometry of Conv/ConvTranspose/pooling, Pad/Resize index maps, and the CNN ops' shape
// inference hooks.
#include "compiler/ops/cnn.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "compiler/ops/op_fns.h"
#include "support/error.h"

namespace trnsim::compiler {

namespace {

// Reads the spatial attributes shared by conv and pooling into g (kernel already set).
void window_attrs(const Node& n, WindowGeom& g, bool transpose) {
  const size_t sp = static_cast<size_t>(g.spatial);
  auto two = [&](const char* k, int64_t def) {
    auto v = n.attr_ints(k, std::vector<int64_t>(sp, def));
    if (v.size() != sp) throw InputError(fmt::format("attribute {} must have {} values", k, sp));
    return sp == 1 ? std::vector<int64_t>{def, v[0]} : v;
  };
  auto s = two("strides", 1), d = two("dilations", 1);
  g.sh = s[0], g.sw = s[1], g.dh = d[0], g.dw = d[1];
  if (g.sh < 1 || g.sw < 1 || g.dh < 1 || g.dw < 1)
    throw InputError("strides and dilations must be >= 1");
  auto p = n.attr_ints("pads", std::vector<int64_t>(2 * sp, 0));
  if (p.size() != 2 * sp) throw InputError(fmt::format("attribute pads must have {} values", 2 * sp));
  if (sp == 1) p = {0, p[0], 0, p[1]};
  g.pt = p[0], g.pl = p[1], g.pb = p[2], g.pr = p[3];
  for (int64_t v : p)
    if (v < 0) throw InputError("negative pads are not supported");
  std::string ap = n.attr_string("auto_pad", "NOTSET");
  if (ap == "VALID") {
    g.pt = g.pl = g.pb = g.pr = 0;
  } else if (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
    if (transpose) return;  // conv_transpose_geom: needs output_padding
    auto same = [&](int64_t in, int64_t k, int64_t s2, int64_t d2, int64_t& b, int64_t& e) {
      int64_t out = (in + s2 - 1) / s2;
      int64_t total = std::max<int64_t>(0, (out - 1) * s2 + (k - 1) * d2 + 1 - in);
      b = ap == "SAME_UPPER" ? total / 2 : total - total / 2;
      e = total - b;
    };
    same(g.H, g.KH, g.sh, g.dh, g.pt, g.pb);
    same(g.W, g.KW, g.sw, g.dw, g.pl, g.pr);
  } else if (ap != "NOTSET") {
    throw InputError(fmt::format("auto_pad {} is not supported", ap));
  }
}

void input_dims(const Shape& x, WindowGeom& g) {
  if (x.size() != 3 && x.size() != 4)
    throw InputError(fmt::format("input {} must be [N,C,W] or [N,C,H,W]", shape_str(x)));
  g.spatial = static_cast<int>(x.size()) - 2;
  g.N = x[0], g.C = x[1];
  g.H = g.spatial == 2 ? x[2] : 1;
  g.W = x.back();
}

void out_dims(WindowGeom& g, bool ceil_mode) {
  auto o = [&](int64_t in, int64_t k, int64_t s, int64_t d, int64_t b, int64_t e) {
    int64_t span = in + b + e - ((k - 1) * d + 1);
    if (span < 0) throw InputError("the window is larger than the padded input");
    int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (out - 1) * s >= in + b) --out;  // last window must start inside
    return out;
  };
  g.OH = o(g.H, g.KH, g.sh, g.dh, g.pt, g.pb);
  g.OW = o(g.W, g.KW, g.sw, g.dw, g.pl, g.pr);
}

}  // namespace

WindowGeom conv_geom(const Node& n, const Shape& x, const Shape& w) {
  WindowGeom g;
  input_dims(x, g);
  if (w.size() != x.size()) throw InputError("Conv weight rank differs from the input's");
  g.G = n.attr_int("group", 1);
  g.M = w[0];
  if (g.G < 1 || g.C % g.G != 0 || g.M % g.G != 0 || w[1] != g.C / g.G)
    throw InputError(fmt::format("Conv weight {} does not fit input {} with group {}",
                                 shape_str(w), shape_str(x), g.G));
  g.KH = g.spatial == 2 ? w[2] : 1;
  g.KW = w.back();
  auto ks = n.attr_ints("kernel_shape", {});
  if (!ks.empty() && ks.back() != g.KW) throw InputError("kernel_shape differs from the weight");
  window_attrs(n, g, false);
  out_dims(g, false);
  return g;
}

WindowGeom conv_transpose_geom(const Node& n, const Shape& x, const Shape& w) {
  WindowGeom g;
  input_dims(x, g);
  if (w.size() != x.size()) throw InputError("ConvTranspose weight rank differs from the input's");
  g.G = n.attr_int("group", 1);
  if (g.G < 1 || w[0] != g.C || g.C % g.G != 0)
    throw InputError(fmt::format("ConvTranspose weight {} does not fit input {} with group {}",
                                 shape_str(w), shape_str(x), g.G));
  g.M = w[1] * g.G;
  g.KH = g.spatial == 2 ? w[2] : 1;
  g.KW = w.back();
  window_attrs(n, g, true);
  auto op = n.attr_ints("output_padding", std::vector<int64_t>(g.spatial, 0));
  if (op.size() != static_cast<size_t>(g.spatial))
    throw InputError("output_padding has the wrong number of values");
  g.oph = g.spatial == 2 ? op[0] : 0;
  g.opw = op.back();
  // Pads from the output size, as ONNX Runtime computes them: output_shape, or auto_pad SAME
  // (output = input x stride); SAME_UPPER puts the smaller half first (ONNX's formula).
  const std::string ap = n.attr_string("auto_pad", "NOTSET");
  const bool same = ap == "SAME_UPPER" || ap == "SAME_LOWER";
  auto os = n.attr_ints("output_shape", {});
  if (!os.empty() && os.size() != static_cast<size_t>(g.spatial) &&
      os.size() != static_cast<size_t>(g.spatial) + 2)
    throw InputError("output_shape has the wrong number of values");
  if (!os.empty() && os.size() > static_cast<size_t>(g.spatial)) os.erase(os.begin(), os.begin() + 2);
  if (!os.empty() || same) {
    auto pads = [&](int64_t in, int64_t k, int64_t s2, int64_t d2, int64_t adj, int64_t out,
                    bool from_shape, int64_t& b, int64_t& e) {
      const int64_t total = s2 * (in - 1) + adj + (k - 1) * d2 + 1 - out;
      if (from_shape && total < 0)
        throw InputError("ConvTranspose output_shape larger than the full output is not supported");
      const int64_t t = std::max<int64_t>(0, total);
      const bool upper = ap == "SAME_UPPER";
      b = upper ? t / 2 : t - t / 2;
      e = t - b;
    };
    const int64_t oh = os.empty() ? g.H * g.sh : g.spatial == 2 ? os[0] : 1;
    const int64_t ow = os.empty() ? g.W * g.sw : os.back();
    if (g.spatial == 2) pads(g.H, g.KH, g.sh, g.dh, g.oph, oh, !os.empty(), g.pt, g.pb);
    pads(g.W, g.KW, g.sw, g.dw, g.opw, ow, !os.empty(), g.pl, g.pr);
  }
  g.OH = g.sh * (g.H - 1) + g.oph + (g.KH - 1) * g.dh + 1 - g.pt - g.pb;
  g.OW = g.sw * (g.W - 1) + g.opw + (g.KW - 1) * g.dw + 1 - g.pl - g.pr;
  if (g.OH < 1 || g.OW < 1) throw InputError("ConvTranspose output would be empty");
  return g;
}

WindowGeom pool_geom(const Node& n, const Shape& x) {
  WindowGeom g;
  input_dims(x, g);
  g.M = g.G = g.C;
  auto ks = n.attr_ints("kernel_shape", {});
  if (ks.size() != static_cast<size_t>(g.spatial))
    throw InputError("kernel_shape must have one value per spatial axis");
  g.KH = g.spatial == 2 ? ks[0] : 1;
  g.KW = ks.back();
  window_attrs(n, g, false);
  if (n.attr_int("storage_order", 0) != 0) throw InputError("storage_order 1 is not supported");
  out_dims(g, n.attr_int("ceil_mode", 0) != 0);
  return g;
}

Shape window_out_shape(const WindowGeom& g) {
  if (g.spatial == 1) return {g.N, g.M, g.OW};
  return {g.N, g.M, g.OH, g.OW};
}

int64_t avg_pool_count(const WindowGeom& g, int64_t oh, int64_t ow, bool include_pad) {
  auto span = [&](int64_t o, int64_t s, int64_t k, int64_t b, int64_t e, int64_t in) {
    int64_t st = o * s - b;
    int64_t en = std::min(st + k, in + e);
    if (include_pad) return en - st;
    return std::min(en, in) - std::max<int64_t>(st, 0);
  };
  return span(oh, g.sh, g.KH, g.pt, g.pb, g.H) * span(ow, g.sw, g.KW, g.pl, g.pr, g.W);
}

namespace {

// out index -> in index (or -1 = constant) along one padded axis.
int64_t pad_index(int64_t o, int64_t before, int64_t in, const std::string& mode) {
  int64_t i = o - before;
  if (i >= 0 && i < in) return i;
  if (mode == "constant") return -1;
  if (mode == "edge") return std::clamp<int64_t>(i, 0, in - 1);
  // reflect (no edge repeat)
  if (in == 1) return 0;
  const int64_t period = 2 * (in - 1);
  int64_t m = ((i % period) + period) % period;
  return m < in ? m : period - m;
}

// Builds the flat gather map from per-axis terms: for each axis a list of (index, weight)
// candidates per output coordinate (index -1 = constant).
struct AxisTerms {
  std::vector<std::vector<std::pair<int64_t, double>>> per_out;  // [out coord][candidate]
};

// Only the output shape, no elements to gather (shape inference, or an empty output whose
// other axes may still be huge).
GatherMap empty_map(const Shape& out) {
  GatherMap m;
  m.rows = m.out_free = 0;
  m.out_shape = out;
  return m;
}

GatherMap build_map(const Shape& x, const Shape& out, const std::vector<AxisTerms>& axes) {
  GatherMap m;
  m.out_shape = out;
  const int64_t r = static_cast<int64_t>(x.size());
  m.axis = r;
  for (int64_t a = 0; a < r; ++a) {
    bool identity = x[a] == out[a];
    for (int64_t o = 0; identity && o < out[a]; ++o)
      identity = axes[a].per_out[o].size() == 1 && axes[a].per_out[o][0].first == o &&
                 axes[a].per_out[o][0].second == 1.0;
    if (!identity) {
      m.axis = a;
      break;
    }
  }
  for (int64_t a = 0; a < m.axis; ++a) m.rows *= x[a];
  m.in_free = 1;
  m.out_free = 1;
  for (int64_t a = m.axis; a < r; ++a) m.in_free *= x[a], m.out_free *= out[a];
  // Number of candidates is the same for every coordinate of an axis (1, 2 or 4).
  int64_t nterms = 1;
  std::vector<int64_t> cands(r, 1);
  for (int64_t a = m.axis; a < r; ++a) {
    cands[a] = out[a] ? static_cast<int64_t>(axes[a].per_out[0].size()) : 1;
    nterms *= cands[a];
  }
  m.terms.resize(nterms);
  for (auto& t : m.terms) {
    t.idx.assign(m.out_free, 0);
    t.w.assign(m.out_free, 1.0);
  }
  std::vector<int64_t> coord(r, 0);
  for (int64_t j = 0; j < m.out_free; ++j) {
    int64_t rem = j;
    for (int64_t a = r - 1; a >= m.axis; --a) coord[a] = rem % out[a], rem /= out[a];
    for (int64_t t = 0; t < nterms; ++t) {
      int64_t tr = t, flat = 0, stride = 1;
      double w = 1.0;
      bool konst = false;
      for (int64_t a = r - 1; a >= m.axis; --a) {
        const auto& c = axes[a].per_out[coord[a]][tr % cands[a]];
        tr /= cands[a];
        if (c.first < 0) konst = true;
        w *= c.second;
        flat += c.first * stride;
        stride *= x[a];
      }
      m.terms[t].idx[j] = konst ? m.in_free : flat;
      m.terms[t].w[j] = w;
    }
  }
  return m;
}

}  // namespace

GatherMap pad_map(const Node& n, const Shape& x, const std::vector<const Value*>& in,
                  bool shape_only) {
  const int64_t r = static_cast<int64_t>(x.size());
  std::vector<int64_t> pads;
  double cv = 0.0;
  if (n.has_attr("pads")) {
    pads = n.attr_ints("pads");
    cv = n.attr_float("value", 0.0f);
  } else {
    if (in.size() < 2 || !in[1]) throw InputError("input 'pads' must be a compile-time constant");
    for (double d : in[1]->data) pads.push_back(static_cast<int64_t>(d));
    if (in.size() > 2 && in[2] && in[2]->numel() > 0) cv = in[2]->data[0];
  }
  std::vector<int64_t> axes;
  if (in.size() > 3 && in[3]) {
    for (double d : in[3]->data) axes.push_back(normalize_axis(static_cast<int64_t>(d), r));
  } else {
    for (int64_t a = 0; a < r; ++a) axes.push_back(a);
  }
  const int64_t na = static_cast<int64_t>(axes.size());
  if (static_cast<int64_t>(pads.size()) != 2 * na)
    throw InputError(fmt::format("pads has {} values, expected {}", pads.size(), 2 * na));
  std::vector<int64_t> before(r, 0), after(r, 0);
  for (int64_t i = 0; i < na; ++i) before[axes[i]] = pads[i], after[axes[i]] = pads[i + na];
  std::string mode = n.attr_string("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    throw InputError(fmt::format("Pad mode {} is not supported", mode));
  Shape out(r);
  for (int64_t a = 0; a < r; ++a) {
    if (__builtin_add_overflow(x[a], before[a], &out[a]) ||
        __builtin_add_overflow(out[a], after[a], &out[a]))
      throw InputError("Pad output is too large");
    if (out[a] < 0) throw InputError("Pad: negative output size");
    if (mode == "reflect" && (before[a] >= x[a] || after[a] >= x[a]) && (before[a] || after[a]))
      throw InputError("Pad reflect: pads must be smaller than the axis");
    if (x[a] == 0 && out[a] > 0 && mode != "constant") throw InputError("Pad of an empty axis");
  }
  if (shape_only || num_elements(out) == 0) return empty_map(out);
  std::vector<AxisTerms> at(r);
  for (int64_t a = 0; a < r; ++a) {
    at[a].per_out.resize(out[a]);
    for (int64_t o = 0; o < out[a]; ++o)
      at[a].per_out[o] = {{pad_index(o, before[a], x[a], mode), 1.0}};
  }
  GatherMap m = build_map(x, out, at);
  m.constant = cv;
  return m;
}

namespace {
// Resize follows ONNX Runtime's CPU kernel (the reference users compare against), which
// computes scales, output sizes and source coordinates in float: the index a nearest lookup
// picks depends on that rounding when a coordinate lands on a whole or half number.
float resize_coord(const std::string& ct, float o, float scale, float len_out, float len_in,
                   float roi_start, float roi_end) {
  if (ct == "asymmetric") return o / scale;
  if (ct == "pytorch_half_pixel") return len_out > 1 ? (o + 0.5f) / scale - 0.5f : 0.0f;
  if (ct == "tf_half_pixel_for_nn") return (o + 0.5f) / scale;
  if (ct == "align_corners") return len_out == 1 ? 0.0f : o * (len_in - 1) / (len_out - 1);
  if (ct == "tf_crop_and_resize")
    return len_out > 1 ? roi_start * (len_in - 1) +
                             (o * (roi_end - roi_start) * (len_in - 1)) / (len_out - 1)
                       : static_cast<float>(0.5 * (roi_start + roi_end) * (len_in - 1));
  return ((o + 0.5f) / scale) - 0.5f;  // half_pixel
}

int64_t resize_nearest(const std::string& nm, float x, bool downsample) {
  if (nm == "simple")  // Upsample and Resize-10
    return downsample ? static_cast<int64_t>(std::ceil(x)) : static_cast<int64_t>(x);
  const double fl = std::floor(static_cast<double>(x));
  if (nm == "floor") return static_cast<int64_t>(fl);
  if (nm == "ceil") return static_cast<int64_t>(std::ceil(x));
  // round_prefer_floor/ceil: a fraction within 1e-6 of one half is a tie, as in ONNX Runtime
  // since its fix of microsoft/onnxruntime#28291 (the float coordinate of an exact half, e.g.
  // 14.5 from 20 -> 6, often lands an ulp away); 500 probed cases agree with ONNX Runtime 1.30.
  const double fr = static_cast<double>(x) - fl;
  if (std::fabs(fr - 0.5) <= 1e-6) return static_cast<int64_t>(nm == "round_prefer_ceil" ? fl + 1 : fl);
  return static_cast<int64_t>(fr > 0.5 ? fl + 1 : fl);
}

// Keys cubic convolution weights of the 4 neighbours x_int-1 .. x_int+2 at fraction s.
std::array<float, 4> cubic_coeffs(float s, float a) {
  const float t = std::abs(s);
  return {((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a,
          ((a + 2) * t - (a + 3)) * t * t + 1,
          ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1,
          ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a};
}
}  // namespace

GatherMap resize_map(const Node& n, const Shape& x, const std::vector<const Value*>& in,
                     bool shape_only) {
  const int64_t r = static_cast<int64_t>(x.size());
  const Value* scales = nullptr;
  const Value* sizes = nullptr;
  const Value* roi = nullptr;
  if (in.size() == 2) {  // opset 10: X, scales
    scales = in[1];
  } else {
    if (in.size() > 1 && in[1] && in[1]->numel() > 0) roi = in[1];
    if (in.size() > 2 && in[2] && in[2]->numel() > 0) scales = in[2];
    if (in.size() > 3 && in[3] && in[3]->numel() > 0) sizes = in[3];
  }
  Value attr_scales;  // Upsample before opset 9: scales is an attribute
  if (n.op == "Upsample" && n.has_attr("scales")) {
    const auto& f = n.attrs.at("scales").floats;
    attr_scales = Value(DType::Fp32, {static_cast<int64_t>(f.size())});
    for (size_t i = 0; i < f.size(); ++i) attr_scales.data[i] = f[i];
    scales = &attr_scales;
  }
  if (n.has_attr("axes")) throw InputError("Resize axes is not supported");
  if (r == 0) throw InputError("Resize needs an input of rank >= 1");
  std::vector<float> sc(r, 1.0f);
  Shape out(x);
  if (sizes) {
    if (sizes->numel() != r) throw InputError("Resize sizes must have one value per axis");
    for (int64_t a = 0; a < r; ++a) {
      if (!(sizes->data[a] >= 0)) throw InputError("Resize sizes must be >= 0");
      if (!(sizes->data[a] < 9.2e18)) throw InputError("Resize output is too large");
      out[a] = static_cast<int64_t>(sizes->data[a]);
      if (x[a] == 0 && out[a] != 0) throw InputError("Resize of an empty axis to a non-empty one");
      sc[a] = x[a] ? static_cast<float>(out[a]) / static_cast<float>(x[a]) : 1.0f;
    }
  } else if (scales) {
    if (scales->numel() != r) throw InputError("Resize scales must have one value per axis");
    for (int64_t a = 0; a < r; ++a) {
      sc[a] = static_cast<float>(scales->data[a]);
      if (!(sc[a] > 0)) throw InputError("Resize scales must be > 0");
      const float o = sc[a] * static_cast<float>(x[a]);
      if (!(o < 9.2e18f)) throw InputError("Resize output is too large");
      out[a] = static_cast<int64_t>(o);
    }
  } else {
    throw InputError("Resize needs constant scales or sizes");
  }
  std::string mode = n.attr_string("mode", "nearest");
  // Upsample (opset 9) and Resize-10 (inputs X, scales) index like ONNX Runtime's legacy
  // upsampling: asymmetric coordinates, nearest truncates (rounds up when shrinking).
  const bool legacy = n.op == "Upsample" || in.size() == 2;
  std::string ct = legacy ? "asymmetric"
                          : n.attr_string("coordinate_transformation_mode", "half_pixel");
  std::string nm = legacy ? "simple" : n.attr_string("nearest_mode", "round_prefer_floor");
  if (mode == "bilinear" && n.op == "Upsample") mode = "linear";
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    throw InputError(fmt::format("Resize mode {} is not supported", mode));
  if (ct != "half_pixel" && ct != "asymmetric" && ct != "align_corners" &&
      ct != "pytorch_half_pixel" && ct != "tf_half_pixel_for_nn" && ct != "tf_crop_and_resize")
    throw InputError(fmt::format("Resize coordinate_transformation_mode {} is not supported", ct));
  if (mode == "nearest" && nm != "simple" && nm != "round_prefer_floor" &&
      nm != "round_prefer_ceil" && nm != "floor" && nm != "ceil")
    throw InputError(fmt::format("Resize nearest_mode {} is not supported", nm));
  const bool crop = ct == "tf_crop_and_resize";
  if (crop && (!roi || roi->numel() != 2 * r))
    throw InputError("Resize tf_crop_and_resize needs a constant roi of 2 x rank values");
  const float cubic_a = n.attr_float("cubic_coeff_a", -0.75f);
  const bool exclude_outside = n.attr_int("exclude_outside", 0) != 0;
  const float extrapolation = n.attr_float("extrapolation_value", 0.0f);
  if (shape_only || num_elements(out) == 0) return empty_map(out);
  std::vector<AxisTerms> at(r);
  bool same = out == x;  // ONNX Runtime copies the input when no axis changes size
  for (int64_t a = 0; a < r; ++a) {
    at[a].per_out.resize(out[a]);
    const float rs = crop ? static_cast<float>(roi->data[a]) : 0.0f;
    const float re = crop ? static_cast<float>(roi->data[r + a]) : 1.0f;
    const float len_in = static_cast<float>(x[a]), len_out = static_cast<float>(out[a]);
    // A scale of exactly 1 keeps coordinates (ONNX Runtime skips the transformation; for
    // nearest only on inputs of rank > 1).
    const bool keep = same || (sc[a] == 1.0f && (mode != "nearest" || r > 1));
    for (int64_t o = 0; o < out[a]; ++o) {
      auto& terms = at[a].per_out[o];
      const float c = keep ? static_cast<float>(o)
                           : resize_coord(ct, static_cast<float>(o), sc[a], len_out, len_in, rs, re);
      const bool outside = crop && !keep && (c < 0 || c > len_in - 1);
      if (mode == "nearest") {
        if (outside) {
          terms = {{-1, 1.0}};
          continue;
        }
        const int64_t i = keep ? o : resize_nearest(nm, c, sc[a] < 1);
        terms = {{std::clamp<int64_t>(i, 0, x[a] - 1), 1.0}};
      } else if (mode == "linear") {
        if (keep) {
          terms = {{o, 1.0}};
          continue;
        }
        if (outside) {
          terms = {{-1, 1.0}, {-1, 0.0}};
          continue;
        }
        const float v = std::max(0.0f, std::min(c, len_in - 1));
        const int64_t i1 = std::min(static_cast<int64_t>(v), x[a] - 1);
        const int64_t i2 = std::min(i1 + 1, x[a] - 1);
        float d1 = std::fabs(v - static_cast<float>(i1)), d2 = std::fabs(v - static_cast<float>(i2));
        if (i1 == i2) d1 = d2 = 0.5f;
        terms = {{i1, d2}, {i2, d1}};  // each neighbour weighs the other's distance
      } else {  // cubic
        if (keep) {  // the axis keeps its coordinates: one term (build_map: per axis)
          terms = {{o, 1.0}};
          continue;
        }
        if (outside) {
          terms = {{-1, 1.0}, {-1, 0.0}, {-1, 0.0}, {-1, 0.0}};
          continue;
        }
        const int64_t xi = static_cast<int64_t>(std::floor(c));
        std::array<float, 4> w = cubic_coeffs(c - static_cast<float>(xi), cubic_a);
        float sum = 1.0f;
        if (exclude_outside) {
          sum = 0.0f;
          for (int k = 0; k < 4; ++k) {
            const int64_t idx = xi - 1 + k;
            if (idx < 0 || idx >= x[a]) w[k] = 0.0f;
            sum += w[k];
          }
        }
        terms.clear();
        for (int k = 0; k < 4; ++k)
          terms.push_back({std::clamp<int64_t>(xi - 1 + k, 0, x[a] - 1),
                           static_cast<double>(w[k]) / static_cast<double>(sum)});
      }
    }
  }
  GatherMap m = build_map(x, out, at);
  m.constant = extrapolation;
  return m;
}

// ---- shape inference ----

namespace {
std::vector<const Value*> values(const std::vector<const Tensor*>& in) {
  std::vector<const Value*> v;
  for (const Tensor* t : in) v.push_back(t && t->is_const() ? &*t->value : nullptr);
  return v;
}
void need(const std::vector<const Tensor*>& in, size_t k) {
  if (in.size() < k || !in[0]) throw InputError(fmt::format("expected at least {} inputs", k));
  for (size_t i = 0; i < k; ++i)
    if (!in[i]) throw InputError(fmt::format("input {} is missing", i));
}
}  // namespace

std::vector<TypeShape> infer_conv(const Node& n, const std::vector<const Tensor*>& in) {
  need(in, 2);
  WindowGeom g = conv_geom(n, in[0]->shape, in[1]->shape);
  if (in.size() > 2 && in[2] && num_elements(in[2]->shape) != g.M)
    throw InputError("Conv bias must have one value per output channel");
  return {{in[0]->dtype, window_out_shape(g)}};
}

std::vector<TypeShape> infer_conv_transpose(const Node& n, const std::vector<const Tensor*>& in) {
  need(in, 2);
  WindowGeom g = conv_transpose_geom(n, in[0]->shape, in[1]->shape);
  if (in.size() > 2 && in[2] && num_elements(in[2]->shape) != g.M)
    throw InputError("ConvTranspose bias must have one value per output channel");
  return {{in[0]->dtype, window_out_shape(g)}};
}

std::vector<TypeShape> infer_pool(const Node& n, const std::vector<const Tensor*>& in) {
  need(in, 1);
  WindowGeom g = pool_geom(n, in[0]->shape);
  if (n.op == "AveragePool" && (g.dh != 1 || g.dw != 1))
    throw InputError("AveragePool dilations are not supported");
  return {{in[0]->dtype, window_out_shape(g)}};
}

std::vector<TypeShape> infer_global_pool(const Node&, const std::vector<const Tensor*>& in) {
  need(in, 1);
  Shape s = in[0]->shape;
  if (s.size() < 3) throw InputError("global pooling needs an input of rank >= 3");
  for (size_t i = 2; i < s.size(); ++i) s[i] = 1;
  return {{in[0]->dtype, s}};
}

std::vector<TypeShape> infer_pad(const Node& n, const std::vector<const Tensor*>& in) {
  need(in, 1);
  return {{in[0]->dtype, pad_map(n, in[0]->shape, values(in), true).out_shape}};
}

std::vector<TypeShape> infer_resize(const Node& n, const std::vector<const Tensor*>& in) {
  need(in, 1);
  return {{in[0]->dtype, resize_map(n, in[0]->shape, values(in), true).out_shape}};
}

}  // namespace trnsim::compiler
