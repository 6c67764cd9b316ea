// Timing-only compiles (CompileOptions::timing_only): weights are left in their files, and the
// program equals the normal compile's except that those const tensors are `absent`.
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/compile.h"
#include "config/chip_config.h"
#include "isa/asm.h"
#include "isa/binary.h"
#include "isa/program_io.h"
#include "support/error.h"
#include "support/file_util.h"
#include "tools/npy.h"

namespace fs = std::filesystem;
using trnsim::compiler::CompileOptions;
using trnsim::compiler::compile_onnx;

namespace {

const std::string kScript = std::string(TRNSIM_TEST_DATA) + "/models/make_models.py";

fs::path model_dir() {
  static fs::path d = [] {
    fs::path dir = fs::temp_directory_path() / ("trnsim_timing_only_" + std::to_string(getpid()));
    fs::create_directories(dir);
    return dir;
  }();
  return d;
}

std::vector<std::string> e2e_models() {
  const fs::path list = model_dir() / "models.txt";
  REQUIRE(std::system(("/usr/bin/python3 " + kScript + " --list > " + list.string()).c_str()) == 0);
  std::vector<std::string> names;
  std::ifstream in(list);
  std::string name, dtypes;
  while (in >> name >> dtypes) names.push_back(name);
  return names;
}

void make(const std::vector<std::string>& names) {
  std::string cmd = "/usr/bin/python3 " + kScript + " " + model_dir().string();
  for (const auto& n : names) cmd += " " + n;
  REQUIRE(std::system((cmd + " > /dev/null").c_str()) == 0);
}

// The options `trnsim run` would use: shapes from the inputs' .npy files, --cores from
// make_models.py --run-args.
CompileOptions options_for(const std::string& name) {
  static const std::map<std::string, int> cores = [] {
    const fs::path args = model_dir() / "run_args.txt";
    REQUIRE(std::system(("/usr/bin/python3 " + kScript + " --run-args > " + args.string())
                            .c_str()) == 0);
    std::map<std::string, int> m;
    std::ifstream in(args);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream words(line);
      std::string model, flag;
      words >> model;
      while (words >> flag)
        if (flag == "--cores") words >> m[model];
    }
    return m;
  }();
  CompileOptions o;
  for (const auto& f : fs::directory_iterator(model_dir() / (name + ".inputs")))
    o.data_shapes[f.path().stem().string()] = {trnsim::cli::read_npy(f.path().string()).shape,
                                               f.path().string()};
  auto it = cores.find(name);
  if (it != cores.end()) o.cores = it->second;
  return o;
}

struct Compared {
  int absent = 0;           // const tensors left without data
  int64_t absent_bytes = 0;  // their size in the normal program
};

// Compiles `name` both ways and checks the programs are equal but for absent const data.
Compared compare(const std::string& onnx, CompileOptions o, int64_t* bytes_read) {
  const trnsim::config::ChipConfig chip = trnsim::config::load_chip("trn1", {});
  const trnsim::isa::Program full = compile_onnx(onnx, chip, o);
  o.timing_only = true;
  o.weight_bytes_read = bytes_read;
  trnsim::isa::Program lean = compile_onnx(onnx, chip, o);
  REQUIRE(lean.tensors.size() == full.tensors.size());
  Compared c;
  for (size_t i = 0; i < lean.tensors.size(); ++i) {
    auto& t = lean.tensors[i];
    if (!t.data_absent()) continue;
    INFO(t.name);
    REQUIRE(full.tensors[i].role == trnsim::isa::TensorRole::Const);
    CHECK(full.tensors[i].data.size() == static_cast<size_t>(t.num_bytes()));
    ++c.absent;
    c.absent_bytes += t.num_bytes();
    t.data = full.tensors[i].data;
  }
  CHECK(lean == full);  // instructions, tensors, names, tags: everything else is the same
  return c;
}

}  // namespace

TEST_CASE("timing-only compiles equal normal ones but for absent weights, which are not read",
          "[compiler][timing-only]") {
  const std::vector<std::string> names = e2e_models();
  REQUIRE(names.size() >= 100);
  make(names);
  int with_absent = 0;
  int64_t absent_bytes = 0;
  for (const auto& name : names) {
    INFO(name);
    int64_t read = 0;
    Compared c = compare((model_dir() / (name + ".onnx")).string(), options_for(name), &read);
    // No pass needed the values of a weight it was given without them.
    CHECK(read == 0);
    with_absent += c.absent > 0;
    absent_bytes += c.absent_bytes;
  }
  // The models with weights of 16 KiB or more (mlp, transformers, matmuls, LSTMs, external data).
  CHECK(with_absent >= 12);
  CHECK(absent_bytes > (int64_t{1} << 20));
}

TEST_CASE("timing-only compiles never read the side files of external weights",
          "[compiler][timing-only]") {
  // ext_cnn keeps each tensor over 1 KiB in a side file of its own; those of 16 KiB or more
  // hold weights a timing-only compile leaves in place. Overwritten with other bytes of the same
  // size (0xFF: NaNs), the timing-only program does not change: they are not read.
  const fs::path dir = model_dir() / "ext";
  REQUIRE(std::system(("/usr/bin/python3 " + kScript + " " + dir.string() + " ext_cnn > /dev/null")
                          .c_str()) == 0);
  const std::string onnx = (dir / "ext_cnn.onnx").string();
  const trnsim::config::ChipConfig chip = trnsim::config::load_chip("trn1", {});
  CompileOptions o;
  o.timing_only = true;
  const trnsim::isa::Program before = compile_onnx(onnx, chip, o);
  int overwritten = 0;
  for (const auto& f : fs::directory_iterator(dir)) {
    if (!f.is_regular_file() || f.path().extension() == ".onnx" || f.file_size() < 16384) continue;
    const auto size = f.file_size();
    std::ofstream(f.path(), std::ios::binary | std::ios::trunc) << std::string(size, '\xff');
    ++overwritten;
  }
  CHECK(overwritten >= 1);
  int64_t read = 0;
  o.weight_bytes_read = &read;
  CHECK(compile_onnx(onnx, chip, o) == before);
  CHECK(read == 0);
  // Their sizes are still checked: a side file cut short fails as in a normal compile.
  for (const auto& f : fs::directory_iterator(dir))
    if (f.is_regular_file() && f.path().extension() != ".onnx" && f.file_size() >= 16384)
      fs::resize_file(f.path(), f.file_size() - 4);
  CHECK_THROWS_WITH(compile_onnx(onnx, chip, o), Catch::Contains("is beyond its end"));
}

TEST_CASE("a timing-only program runs only timing-only, and a .tbin loads without its data",
          "[compiler][timing-only]") {
  make({"mlp"});
  const std::string onnx = (model_dir() / "mlp.onnx").string();
  CompileOptions o = options_for("mlp");
  const trnsim::config::ChipConfig chip = trnsim::config::load_chip("trn1", {});
  const trnsim::isa::Program full = compile_onnx(onnx, chip, o);
  o.timing_only = true;
  const trnsim::isa::Program lean = compile_onnx(onnx, chip, o);
  // .tasm and .tbin keep absent data absent.
  const std::string tasm = (model_dir() / "mlp_lean.tasm").string();
  const std::string tbin = (model_dir() / "mlp_lean.tbin").string();
  trnsim::isa::save_program(lean, tasm);
  trnsim::isa::save_program(lean, tbin);
  CHECK(trnsim::isa::load_program(tasm) == lean);
  CHECK(trnsim::isa::load_program(tbin) == lean);
  CHECK(trnsim::read_text_file(tasm).find(" = absent\n") != std::string::npos);
  // A normal .tbin loaded for a timing-only run leaves every const absent.
  const std::string full_tbin = (model_dir() / "mlp_full.tbin").string();
  trnsim::isa::save_program(full, full_tbin);
  trnsim::isa::Program no_data = full;
  int consts = 0;
  for (auto& t : no_data.tensors)
    if (t.role == trnsim::isa::TensorRole::Const) t.data.clear(), ++consts;
  CHECK(consts >= 2);
  CHECK(trnsim::isa::load_program(full_tbin, /*const_data=*/false) == no_data);
  CHECK(trnsim::isa::load_program(full_tbin) == full);
}
