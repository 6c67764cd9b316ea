// Slice parameters (shared by inference, the reference kernel and the lowering).
#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "compiler/ops/op_fns.h"
#include "support/error.h"

namespace trnsim::compiler {

namespace {
std::vector<int64_t> ints_of(const Node& n, const char* attr,
                             const std::vector<const Value*>& in, size_t idx, bool required) {
  if (n.has_attr(attr)) return n.attr_ints(attr);
  if (idx < in.size() && in[idx]) {
    std::vector<int64_t> v;
    for (double d : in[idx]->data) {
      // int64 extremes (INT64_MAX as "to the end") do not survive a double round trip exactly.
      if (d >= 9.2e18) v.push_back(std::numeric_limits<int64_t>::max());
      else if (d <= -9.2e18) v.push_back(std::numeric_limits<int64_t>::min());
      else v.push_back(static_cast<int64_t>(d));
    }
    return v;
  }
  if (n.has_input(static_cast<int>(idx)))
    throw InputError(fmt::format("Slice: input '{}' must be a compile-time constant", attr));
  if (required) throw InputError(fmt::format("Slice: '{}' is missing", attr));
  return {};
}
}  // namespace

SliceWindow slice_window(const Node& n, const Shape& s, const std::vector<const Value*>& in) {
  auto starts = ints_of(n, "starts", in, 1, true);
  auto ends = ints_of(n, "ends", in, 2, true);
  auto axes = ints_of(n, "axes", in, 3, false);
  auto steps = ints_of(n, "steps", in, 4, false);
  const int64_t r = static_cast<int64_t>(s.size());
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    throw InputError("Slice: starts/ends/axes/steps differ in length");
  SliceWindow w;
  w.start.assign(r, 0);
  w.step.assign(r, 1);
  w.count = s;
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t a = normalize_axis(axes[i], r);
    int64_t dim = s[a], step = steps[i];
    if (step == 0) throw InputError("Slice: step 0");
    auto clampi = [&](int64_t v, int64_t lo, int64_t hi) {
      if (v < 0 && v > std::numeric_limits<int64_t>::min() + dim) v += dim;
      else if (v < 0) v = lo;
      return std::clamp(v, lo, hi);
    };
    int64_t b, e;
    if (step > 0) {
      b = clampi(starts[i], 0, dim);
      e = clampi(ends[i], 0, dim);
      w.count[a] = std::max<int64_t>(0, (e - b + step - 1) / step);
    } else {
      b = clampi(starts[i], -1, dim - 1);
      e = clampi(ends[i], -1, dim - 1);
      if (ends[i] < 0 && ends[i] + dim < 0) e = -1;
      w.count[a] = std::max<int64_t>(0, (b - e + (-step) - 1) / (-step));
    }
    w.start[a] = b;
    w.step[a] = step;
  }
  return w;
}

std::vector<TypeShape> infer_slice(const Node& n, const std::vector<const Tensor*>& in) {
  if (in.empty() || !in[0]) throw InputError("Slice: input 0 is missing");
  std::vector<const Value*> vals;
  for (auto* t : in) vals.push_back(t && t->is_const() ? &*t->value : nullptr);
  auto w = slice_window(n, in[0]->shape, vals);
  return {{in[0]->dtype, w.count}};
}

}  // namespace trnsim::compiler
