// Functional executor: Tensor Engine instructions (matmul, transpose).
#include <cstring>
#include <string>

#include "models/exec/exec_internal.h"

namespace trnsim::model::detail {

namespace {
typedef float V4 __attribute__((vector_size(16)));
}  // namespace

void exec_matmul(const Ctx& c) {
  Tile dst = resolve(c, 0);
  Tile stat = resolve(c, 1);
  Tile mov = resolve(c, 2);
  const bool acc = c.op(3).i == static_cast<int64_t>(isa::AccFlag::Acc);
  const int64_t K = stat.np, M = stat.nfree, N = mov.nfree;
  if (mov.np != K)
    c.fault("stationary has " + std::to_string(K) + " partitions but moving has " +
            std::to_string(mov.np));
  if (dst.np != M || dst.nfree != N)
    c.fault("dst is " + std::to_string(dst.np) + "x" + std::to_string(dst.nfree) +
            " but stationary^T x moving is " + std::to_string(M) + "x" + std::to_string(N));
  std::vector<float> res(static_cast<size_t>(M * N), 0.0f);
  std::vector<float> srow(static_cast<size_t>(M)), mrow(static_cast<size_t>(N));
  // k outermost keeps every dst element's sum in k order while the inner loop vectorises.
  for (int64_t k = 0; k < K; ++k) {
    load_row_f32(stat, static_cast<int>(k), srow.data());
    load_row_f32(mov, static_cast<int>(k), mrow.data());
    const float* __restrict mv = mrow.data();
    for (int64_t m = 0; m < M; ++m) {
      const float a = srow[m];
      float* __restrict r = res.data() + m * N;
      // GCC vector extension: 4 lanes of the same mul-then-add, so results are bit-identical
      // to the scalar loop (the -O2 auto-vectoriser does not take this loop).
      int64_t n = 0;
      for (; n + 4 <= N; n += 4) {
        V4 x, y;
        std::memcpy(&x, r + n, sizeof x);
        std::memcpy(&y, mv + n, sizeof y);
        x += a * y;
        std::memcpy(r + n, &x, sizeof x);
      }
      for (; n < N; ++n) r[n] += a * mv[n];
    }
  }
  if (acc) {
    std::vector<float> old(static_cast<size_t>(N));
    for (int64_t m = 0; m < M; ++m) {
      load_row_f32(dst, static_cast<int>(m), old.data());
      float* r = res.data() + m * N;
      for (int64_t n = 0; n < N; ++n) r[n] = old[n] + r[n];
    }
  }
  store_all_f32(dst, res);
}

void exec_transpose(const Ctx& c) {
  Tile dst = resolve(c, 0);
  Tile src = resolve(c, 1);
  const int64_t P = src.np, F = src.nfree;
  if (dst.np != F || dst.nfree != P)
    c.fault("dst is " + std::to_string(dst.np) + "x" + std::to_string(dst.nfree) +
            " but the transpose of src is " + std::to_string(F) + "x" + std::to_string(P));
  std::vector<float> in = load_all_f32(src);
  std::vector<float> out(in.size());
  for (int64_t p = 0; p < P; ++p)
    for (int64_t f = 0; f < F; ++f) out[f * P + p] = in[p * F + f];
  store_all_f32(dst, out);
}

}  // namespace trnsim::model::detail
