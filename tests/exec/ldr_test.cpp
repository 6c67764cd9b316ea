// Functional executor: ldr, the register load that data-dependent branches use.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "exec_test_util.h"
#include "support/error.h"

using namespace exec_test;

namespace {
int64_t load(Env& e, const AccessPattern& src) {
  model::InstrRef ref;
  ref.engine = isa::Engine::Sp;
  return model::load_register_value(instr(Opcode::Ldr, {I(3), A(src)}), e.st, ref);
}
}  // namespace

TEST_CASE("ldr: integers load exactly from SBUF and PSUM", "[exec]") {
  Env e;
  const auto i32 = sb(5, 1, 12, DType::Int32, {});
  e.put_i(i32, {-123456});
  CHECK(load(e, i32) == -123456);
  const auto i64 = sb(0, 1, 40, DType::Int64, {{1, 1}});
  e.put_i(i64, {(int64_t{1} << 60) + 7});  // beyond any float's exact range
  CHECK(load(e, i64) == (int64_t{1} << 60) + 7);
  const auto u8 = ps(31, 1, 4095, DType::Uint8, {});
  e.put_i(u8, {200});
  CHECK(load(e, u8) == 200);
}

TEST_CASE("ldr: floats truncate toward zero, saturate, NaN gives 0", "[exec]") {
  Env e;
  const auto f = sb(2, 1, 0, DType::Fp32, {});
  const std::vector<std::pair<float, int64_t>> cases = {
      {2.9f, 2},
      {-2.9f, -2},
      {0.5f, 0},  // a float condition of 0.5 loads 0: conditions are loaded as integers
      {1e30f, std::numeric_limits<int64_t>::max()},
      {-1e30f, std::numeric_limits<int64_t>::min()},
      {std::nanf(""), 0},
  };
  for (const auto& [v, want] : cases) {
    e.put(f, {v});
    CHECK(load(e, f) == want);
  }
  const auto b = sb(2, 1, 64, DType::Bf16, {});
  e.put(b, {-7.5f});
  CHECK(load(e, b) == -7);
}

TEST_CASE("ldr: the register offset applies; out of bounds or several elements fault",
          "[exec]") {
  Env e;
  const auto at = sb(1, 1, 100, DType::Int32, {});
  e.put_i(at, {42});
  auto viareg = sb(1, 1, 0, DType::Int32, {});
  viareg.offset_reg = 4;
  e.regs[4] = 100;
  CHECK(load(e, viareg) == 42);
  CHECK_THROWS_WITH(load(e, sb(0, 1, kSbufPP - 2, DType::Int32, {})),
                    Catch::Contains("sp #0 (ldr): src sbuf bytes [8190, 8194) out of range"));
  CHECK_THROWS_WITH(load(e, sb(0, 2, 0, DType::Int32, {})),
                    Catch::Contains("src must be one element, found 2x1"));
}

TEST_CASE("ldr: execute() moves no data", "[exec]") {
  Env e;
  const auto src = sb(0, 1, 0, DType::Int32, {});
  e.put_i(src, {9});
  e.run(instr(Opcode::Ldr, {I(0), A(src)}), isa::Engine::Pe);
  CHECK(e.regs[0] == 0);  // the engine writes the register from load_register_value()
  CHECK(e.get_i(src) == std::vector<int64_t>{9});
}
