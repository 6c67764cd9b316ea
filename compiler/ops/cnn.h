// Geometry shared by the CNN ops' inference, reference kernels and lowerings: 2-D window
// geometry of Conv/ConvTranspose/pooling (1-D is H = 1), and the per-output index maps of
// Pad and Resize.
#pragma once

#include <vector>

#include "compiler/ir/graph.h"

namespace trnsim::compiler {

// A 2-D sliding window over an [N, C, H, W] input (1-D inputs use H = 1, KH = 1).
struct WindowGeom {
  int64_t N = 1, C = 1, H = 1, W = 1;
  int64_t M = 1, G = 1;   // output channels, groups (pooling: M = C, G = C)
  int64_t KH = 1, KW = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pt = 0, pl = 0, pb = 0, pr = 0;  // pads (may exceed the input for ConvTranspose)
  int64_t OH = 1, OW = 1;
  int64_t oph = 0, opw = 0;  // ConvTranspose output_padding
  int spatial = 2;           // 1 or 2
};

// Conv: x [N,C,(H,)W], w [M,C/G,(KH,)KW]. Throws InputError on unsupported forms.
WindowGeom conv_geom(const Node& n, const Shape& x, const Shape& w);
// ConvTranspose: w [C, M/G, (KH,)KW]; pads/output_padding/strides/dilations as in ONNX.
WindowGeom conv_transpose_geom(const Node& n, const Shape& x, const Shape& w);
// MaxPool / AveragePool (kernel_shape, ceil_mode, auto_pad).
WindowGeom pool_geom(const Node& n, const Shape& x);
// Output shape [N, M, (OH,) OW].
Shape window_out_shape(const WindowGeom& g);
// AveragePool divisor of output (oh, ow), as ONNX Runtime computes it.
int64_t avg_pool_count(const WindowGeom& g, int64_t oh, int64_t ow, bool include_pad);

// Pad/Resize as a gather over the trailing axes [axis, rank): rows = prod(shape[:axis]) keep
// their place; every output element of a row is a weighted sum of input elements of that row.
struct GatherMap {
  int64_t axis = 0, rows = 1, in_free = 1, out_free = 1;
  // terms[t].idx[j]: input element (in [0, in_free), or in_free = the constant) of output j;
  // terms[t].w[j]: its weight (empty = 1).
  struct Term {
    std::vector<int64_t> idx;
    std::vector<double> w;
  };
  std::vector<Term> terms;
  double constant = 0.0;  // value of index in_free (Pad constant mode)
  Shape out_shape;
};
// With shape_only the attributes are checked and only out_shape is filled: shape inference
// runs before the graph's sizes are checked against the chip, so it must not build a map of
// an absurd output.
GatherMap pad_map(const Node& n, const Shape& x, const std::vector<const Value*>& in,
                  bool shape_only = false);
GatherMap resize_map(const Node& n, const Shape& x, const std::vector<const Value*>& in,
                     bool shape_only = false);

}  // namespace trnsim::compiler
