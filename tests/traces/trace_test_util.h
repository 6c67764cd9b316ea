// Helpers for the traces/ regression tests: run the trnsim binary on a trace, fixed inputs,
// fp32 reference arithmetic, and the golden stats subset (tests/traces/golden/NAME.CHIP.json).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "isa/dtype.h"
#include "support/file_util.h"
#include "support/json.h"
#include "tools/npy.h"

namespace trnsim::test {

inline std::string traces_dir() { return std::string(TRNSIM_TEST_DATA) + "/../traces"; }
inline std::string golden_path(const std::string& name, const std::string& chip) {
  return std::string(TRNSIM_TEST_DATA) + "/traces/golden/" + name + "." + chip + ".json";
}

// A fresh scratch directory for one test process.
inline std::string scratch_dir(const std::string& what) {
  std::string d = (std::filesystem::temp_directory_path() /
                   ("trnsim_traces_" + what + "_" + std::to_string(::getpid())))
                      .string();
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

struct CmdResult {
  int code = -1;
  std::string output;  // stdout and stderr
};

// Runs `trnsim ARGS`, capturing its output in `dir`/cmd.log.
inline CmdResult run_trnsim(const std::string& args, const std::string& dir) {
  std::string log = dir + "/cmd.log";
  int status = std::system(("SC_COPYRIGHT_MESSAGE=DISABLE " + std::string(TRNSIM_BINARY) + " " +
                            args + " >" + log + " 2>&1").c_str());
  CmdResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.output = "trnsim " + args + "\n" + read_text_file(log);
  return r;
}

// Deterministic inputs: splitmix64, so the values do not depend on the standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  // Uniform in [lo, hi), 24 random bits.
  float uniform(float lo, float hi) {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return lo + (hi - lo) * static_cast<float>(z >> 40) / 16777216.0f;
  }

 private:
  uint64_t s_;
};

// An input tensor: values as the chip will hold them (bf16 inputs are rounded to bf16 here,
// exactly as the chip rounds the fp32 .npy on load, so the reference sees the same numbers).
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> v;
  float at(int64_t r, int64_t c) const { return v[static_cast<size_t>(r * shape[1] + c)]; }
};

inline float round_bf16(float f) { return isa::bf16_to_float(isa::float_to_bf16(f)); }

inline Tensor random_tensor(Rng& rng, std::vector<int64_t> shape, bool bf16, float lo = -1.0f,
                            float hi = 1.0f) {
  Tensor t{shape, {}};
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  t.v.resize(static_cast<size_t>(n));
  for (auto& x : t.v) {
    x = rng.uniform(lo, hi);
    if (bf16) x = round_bf16(x);
  }
  return t;
}

inline void write_tensor(const std::string& path, const Tensor& t) {
  cli::NpyArray a{isa::DType::Fp32, t.shape, std::vector<uint8_t>(t.v.size() * 4)};
  for (size_t i = 0; i < t.v.size(); ++i) isa::store_from_float(isa::DType::Fp32, t.v[i], &a.data[4 * i]);
  cli::write_npy(path, a);
}

inline Tensor read_tensor(const std::string& path) {
  cli::NpyArray a = cli::read_npy(path);
  if (a.dtype != isa::DType::Fp32) throw std::runtime_error(path + ": expected fp32");
  Tensor t{a.shape, std::vector<float>(static_cast<size_t>(a.num_elements()))};
  for (size_t i = 0; i < t.v.size(); ++i) t.v[i] = isa::load_as_float(isa::DType::Fp32, &a.data[4 * i]);
  return t;
}

// ref[m, n] = sum over k in [k0, k1) of w[k, m] * x[k, n], fp32, k ascending (as the PE array).
inline Tensor matmul_ref(const Tensor& w, const Tensor& x, int64_t k0, int64_t k1) {
  const int64_t M = w.shape[1], N = x.shape[1];
  Tensor out{{M, N}, std::vector<float>(static_cast<size_t>(M * N), 0.0f)};
  for (int64_t k = k0; k < k1; ++k)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) out.v[static_cast<size_t>(m * N + n)] += w.at(k, m) * x.at(k, n);
  return out;
}

// The golden subset of a stats document: counts that must not change silently. Engine
// instruction counts (non-zero ones), DMA bytes and transfers per core, SBUF/PSUM/HBM bytes,
// PE flops, total instructions and the simulated time.
inline std::map<std::string, double> golden_subset(const json::Value& s) {
  std::map<std::string, double> g;
  auto num = [](const json::Value& v) { return v.at("value").as_number(); };
  g["sim_time_ns"] = num(s.at("sim_time_ns"));
  g["instructions"] = num(s.at("instructions"));
  g["hbm.read_bytes"] = num(s.at("hbm").at("read_bytes"));
  g["hbm.write_bytes"] = num(s.at("hbm").at("write_bytes"));
  g["pe.flops"] = num(s.at("pe").at("flops"));
  for (const auto& [key, core] : s.as_object()) {
    if (key.rfind("core", 0) != 0) continue;
    for (const char* e : {"pe", "act", "dve", "pool", "sp"}) {
      double n = num(core.at(e).at("instructions"));
      if (n != 0) g[key + "." + e + ".instructions"] = n;
    }
    double bytes = 0, transfers = 0;
    for (const auto& [q, qs] : core.at("dma").as_object()) {
      bytes += num(qs.at("bytes"));
      transfers += num(qs.at("transfers"));
    }
    if (transfers != 0) {
      g[key + ".dma.bytes"] = bytes;
      g[key + ".dma.transfers"] = transfers;
    }
    for (const char* m : {"sbuf", "psum"})
      for (const char* d : {"read_bytes", "write_bytes"}) {
        double n = num(core.at(m).at(d));
        if (n != 0) g[key + "." + m + "." + d] = n;
      }
  }
  return g;
}

inline std::string golden_json(const std::map<std::string, double>& g) {
  std::string out;
  {
    json::Writer w(&out, /*pretty=*/true);
    w.begin_object();
    for (const auto& [k, v] : g) w.field(k, v);
    w.end_object();
  }
  return out + "\n";
}

inline std::map<std::string, double> read_golden(const std::string& path) {
  std::map<std::string, double> g;
  const json::Value doc = json::parse_file(path);  // must outlive the loop over its members
  for (const auto& [k, v] : doc.as_object()) g[k] = v.as_number();
  return g;
}

}  // namespace trnsim::test
