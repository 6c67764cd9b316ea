// compile: ONNX model -> .tasm/.tbin program for a chip.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "compiler/compile.h"
#include "config/chip_config.h"
#include "isa/program_io.h"
#include "isa/validate.h"
#include "support/error.h"
#include "tools/cli.h"
#include "tools/model_options.h"

namespace trnsim::cli {
namespace {

struct CompileArgs {
  std::string model;
  std::string chip = "trn1";
  std::vector<std::string> sets;
  std::string out;
  std::vector<std::string> shapes;
  std::string dtype = "bf16";
  int cores = 1;
  int tp = 1;
  std::string dump_after;
  bool timing_only = false;
};

}  // namespace

void add_compile_command(CLI::App& app) {
  auto a = std::make_shared<CompileArgs>();
  auto* c = app.add_subcommand("compile", "compile an ONNX model into a program (.tasm or .tbin)");
  c->add_option("model", a->model, "ONNX model (.onnx)")->required();
  c->add_option("--chip", a->chip, "chip preset (trn1, inf2, trn2, tiny) or YAML file")
      ->default_val("trn1");
  c->add_option("--set", a->sets, "override a chip parameter, key=value (repeatable)");
  c->add_option("-o,--output", a->out, "program to write (.tasm text or .tbin binary)")->required();
  c->add_option("--shape", a->shapes,
                 "pin an input's shape, NAME=1x3x224x224 (NAME= for a scalar; repeatable)");
  c->add_option("--dtype", a->dtype, "Tensor Engine operand dtype: bf16 or fp32")
      ->default_val("bf16");
  c->add_option("--cores", a->cores,
                "split the batch over this many NeuronCores (data parallel; default 1)");
  c->add_option("--tp", a->tp,
                "tensor parallelism over this many ranks (NeuronCores, Megatron style; "
                "docs/distributed.md; default 1)");
  c->add_flag("--timing-only", a->timing_only,
              "leave the weights out (not read from the model, const tensors `absent`): the "
              "program is otherwise identical and runs only with run --timing-only");
  c->add_option("--dump-after", a->dump_after,
                "print the IR after this pass to stdout (" +
                    fmt::format("{}", fmt::join(compiler::pass_names(), ", ")) + ")");
  c->callback([a] {
    if (a->out.size() < 5 || (a->out.substr(a->out.size() - 5) != ".tasm" &&
                              a->out.substr(a->out.size() - 5) != ".tbin"))
      throw InputError(fmt::format("-o {}: expected a .tasm or .tbin file name", a->out));
    config::ChipConfig chip = config::load_chip(a->chip, a->sets);
    compiler::CompileOptions opts = model_options(a->shapes, a->dtype, a->cores);
    opts.tp = a->tp;
    opts.dump_after = a->dump_after;
    opts.timing_only = a->timing_only;
    opts.dump_sink = [](const std::string& text) {
      std::fwrite(text.data(), 1, text.size(), stdout);
    };
    isa::Program prog = compiler::compile_onnx(a->model, chip, opts);
    isa::validate(prog, chip.target());
    isa::save_program(prog, a->out);
  });
}

}  // namespace trnsim::cli
