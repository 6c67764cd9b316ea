// Reference GEMMs the per-PE systolic array is checked against: plain fp32, fp32 in the array's
// accumulation order, and model::execute's matmul instruction; plus random bf16-exact operands.
#pragma once

#include <cstdint>
#include <vector>

#include "models/systolic/systolic_array.h"

namespace trnsim::model::systolic {

// A GEMM with operands uniform in [-1, 1) rounded to bf16, so the same values are exact both as
// fp32 and as the bf16 operands of a matmul instruction (and every product is exact in fp32).
GemmProblem random_problem(int64_t m, int64_t n, int64_t k, uint64_t seed);

// c[m][n] = sum over k = 0..K-1 in order, fp32: acc = acc + a*b starting from 0.
std::vector<float> plain_gemm(const GemmProblem& p);

// The array's order: os sums k = 0..K-1 like plain_gemm; ws/is sum each K block of `rows`
// (one row fold) from 0, then add the blocks in order (the first block is written, not added).
std::vector<float> array_order_gemm(const GemmProblem& p, Dataflow df, int rows);

// model::execute on matmul instructions with bf16 SBUF operands and an fp32 PSUM result: one
// matmul (acc=zero) for os, and for ws/is one per K block of `rows` (zero, then acc), the tiling
// a compiler would emit for that array. Operands are rounded to bf16 on the way in.
std::vector<float> execute_gemm(const GemmProblem& p, Dataflow df, int rows);

// Largest |c - plain_gemm| a different fp32 summation order can cause: K * 2^-23 * sum|a*b| per
// element (twice the gamma_K bound of one order), and the element where got - want is largest.
struct Compare {
  bool exact = true;          // got == want everywhere
  bool within = true;         // |got - want| <= bound everywhere
  double max_abs_err = 0;
  int64_t worst = -1;         // element index of max_abs_err (-1: none differs)
};
Compare compare_exact(const std::vector<float>& got, const std::vector<float>& want);
Compare compare_to_plain(const GemmProblem& p, const std::vector<float>& got);

}  // namespace trnsim::model::systolic
