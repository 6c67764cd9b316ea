// .npy reader/writer: NumPy-written files for every dtype, byte-exact writes, every bad-file case.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "support/error.h"
#include "support/file_util.h"
#include "tools/npy.h"

using namespace trnsim;
using trnsim::cli::NpyArray;
using trnsim::isa::DType;

namespace {

std::string good(const std::string& name) {
  return std::string(TRNSIM_TEST_DATA) + "/support/npy/" + name;
}
std::string bad(const std::string& name) {
  return std::string(TRNSIM_TEST_DATA) + "/bad_inputs/npy/" + name;
}
std::string read_error(const std::string& path) {
  try {
    cli::read_npy(path);
  } catch (const InputError& e) {
    return e.what();
  }
  FAIL("expected an InputError for " << path);
  return "";
}
template <class T>
T elem(const NpyArray& a, size_t i) {
  T v;
  std::memcpy(&v, a.data.data() + i * sizeof(T), sizeof(T));
  return v;
}

}  // namespace

TEST_CASE("npy: files written by NumPy read back with the right dtype, shape and values",
          "[npy]") {
  NpyArray f4 = cli::read_npy(good("f4_2x3.npy"));
  CHECK(f4.dtype == DType::Fp32);
  CHECK(f4.shape == std::vector<int64_t>{2, 3});
  CHECK(elem<float>(f4, 0) == 1.5f);
  CHECK(elem<float>(f4, 4) == 1e-3f);
  CHECK(std::signbit(elem<float>(f4, 5)));

  NpyArray f2 = cli::read_npy(good("f2_4.npy"));
  CHECK(f2.dtype == DType::Fp16);
  CHECK(isa::fp16_to_float(elem<uint16_t>(f2, 2)) == -65504.0f);

  NpyArray i4 = cli::read_npy(good("i4_2x2.npy"));
  CHECK(i4.dtype == DType::Int32);
  CHECK(elem<int32_t>(i4, 3) == INT32_MIN);

  NpyArray i8 = cli::read_npy(good("i8_3.npy"));
  CHECK(i8.dtype == DType::Int64);
  CHECK(elem<int64_t>(i8, 2) == (int64_t{1} << 62));

  NpyArray i1 = cli::read_npy(good("i1_3.npy"));
  CHECK(i1.dtype == DType::Int8);
  CHECK(elem<int8_t>(i1, 0) == -128);

  NpyArray u1 = cli::read_npy(good("u1_2x1x2.npy"));
  CHECK(u1.dtype == DType::Uint8);
  CHECK(u1.shape == std::vector<int64_t>{2, 1, 2});
  CHECK(u1.data == std::vector<uint8_t>{0, 1, 200, 255});

  NpyArray b1 = cli::read_npy(good("b1_3.npy"));
  CHECK(b1.dtype == DType::Bool);
  CHECK(b1.data == std::vector<uint8_t>{1, 0, 1});

  NpyArray scalar = cli::read_npy(good("f4_scalar.npy"));
  CHECK(scalar.shape.empty());
  CHECK(scalar.num_elements() == 1);
  CHECK(elem<float>(scalar, 0) == 7.0f);

  NpyArray empty = cli::read_npy(good("f4_0x5.npy"));
  CHECK(empty.shape == std::vector<int64_t>{0, 5});
  CHECK(empty.data.empty());

  NpyArray v3 = cli::read_npy(good("f4_2_v3.npy"));
  CHECK(v3.shape == std::vector<int64_t>{2});
  CHECK(elem<float>(v3, 1) == 2.0f);
}

TEST_CASE("npy: our writer produces NumPy's exact bytes for every dtype", "[npy]") {
  for (const char* name : {"f4_2x3.npy", "f2_4.npy", "i4_2x2.npy", "i8_3.npy", "i1_3.npy",
                           "u1_2x1x2.npy", "b1_3.npy", "f4_scalar.npy", "f4_0x5.npy"}) {
    INFO(name);
    NpyArray a = cli::read_npy(good(name));
    CHECK(cli::encode_npy(a) == read_binary_file(good(name)));
  }
}

TEST_CASE("npy: write_npy round trip, bf16/fp8 widened exactly to fp32", "[npy]") {
  std::string path = std::string(TRNSIM_BINARY) + ".npy-test.npy";
  NpyArray a;
  a.dtype = DType::Int64;
  a.shape = {3, 1};
  a.data.resize(24);
  int64_t vals[3] = {-5, 0, INT64_MAX};
  std::memcpy(a.data.data(), vals, 24);
  cli::write_npy(path, a);
  NpyArray b = cli::read_npy(path);
  CHECK(b.dtype == a.dtype);
  CHECK(b.shape == a.shape);
  CHECK(b.data == a.data);

  NpyArray bf;
  bf.dtype = DType::Bf16;
  bf.shape = {2};
  for (float f : {1.5f, -3.0e38f}) {
    uint16_t h = isa::float_to_bf16(f);
    bf.data.push_back(static_cast<uint8_t>(h));
    bf.data.push_back(static_cast<uint8_t>(h >> 8));
  }
  cli::write_npy(path, bf);
  NpyArray back = cli::read_npy(path);
  CHECK(back.dtype == DType::Fp32);
  CHECK(elem<float>(back, 0) == 1.5f);
  CHECK(elem<float>(back, 1) == isa::bf16_to_float(isa::float_to_bf16(-3.0e38f)));

  NpyArray e4;
  e4.dtype = DType::Fp8e4m3;
  e4.shape = {1};
  e4.data = {isa::float_to_fp8e4m3(448.0f)};
  cli::write_npy(path, e4);
  CHECK(elem<float>(cli::read_npy(path), 0) == 448.0f);
  std::remove(path.c_str());

  NpyArray lie;
  lie.dtype = DType::Fp32;
  lie.shape = {4};
  lie.data.resize(12);
  CHECK_THROWS_WITH(cli::write_npy(path, lie),
                    path + ": npy: shape 4 of float32 needs 16 bytes, data has 12");
  CHECK_THROWS_WITH(cli::read_npy(path), Catch::Contains("cannot open"));  // nothing left behind
}

TEST_CASE("npy: bad files give one-line errors naming the file", "[npy]") {
  CHECK(read_error(bad("truncated.npy")) ==
        bad("truncated.npy") +
            ": truncated: header says 1x3x224x224 float32 (602112 bytes) but 1000 bytes follow");
  CHECK(read_error(bad("huge_shape.npy")) ==
        bad("huge_shape.npy") +
            ": truncated: header says 1000000000000 float32 (4000000000000 bytes) but 16 bytes "
            "follow");
  CHECK(read_error(bad("overflow.npy")) ==
        bad("overflow.npy") +
            ": header says 4294967296x4294967296x4294967296 float32, whose byte size overflows");
  CHECK(read_error(bad("trailing.npy")) ==
        bad("trailing.npy") +
            ": trailing data: header says 2 int32 (8 bytes) but 12 bytes follow");
  CHECK(read_error(bad("float64.npy")) ==
        bad("float64.npy") +
            ": float64 is not supported; save as float32 (a.astype(np.float32))");
  CHECK(read_error(bad("big_endian.npy")) ==
        bad("big_endian.npy") + ": big-endian dtype '>f4' is not supported");
  CHECK(read_error(bad("fortran.npy")) ==
        bad("fortran.npy") + ": Fortran-order arrays are not supported");
  CHECK(read_error(bad("object.npy")) == bad("object.npy") + ": object arrays are not supported");
  CHECK(read_error(bad("structured.npy")) ==
        bad("structured.npy") + ": bad header: structured dtypes are not supported");
  CHECK(read_error(bad("bad_magic.npy")) == bad("bad_magic.npy") + ": not a .npy file (bad magic)");
  CHECK(read_error(bad("header_len_lie.npy")) ==
        bad("header_len_lie.npy") + ": truncated header: says 60000 bytes but 15 follow");
  CHECK(read_error(bad("bad_header.npy")) ==
        bad("bad_header.npy") + ": bad header: expected '('");
  CHECK(read_error(bad("version9.npy")) == bad("version9.npy") + ": unsupported .npy version 9.0");
  CHECK(read_error(bad("missing.npy")) ==
        bad("missing.npy") + ": cannot open: No such file or directory");
}

TEST_CASE("output file stems: sanitized names, collisions numbered in output order", "[support]") {
  CHECK(unique_file_stems({"13", "1 minute timer", "{\"a\": 1}", "x.y-z"}) ==
        std::vector<std::string>{"13", "1_minute_timer", "__a___1_", "x.y-z"});
  // "a:b" and "a/b" both sanitize to a_b; "a_b.2" is another output's own name, so the
  // second colliding one skips it.
  CHECK(unique_file_stems({"a:b", "a_b.2", "a/b", "a b"}) ==
        std::vector<std::string>{"a_b", "a_b.2", "a_b.3", "a_b.4"});
}
