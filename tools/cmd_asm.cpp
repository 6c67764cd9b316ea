// asm, disasm, validate and isa-doc: converting, checking and documenting programs.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>

#include "config/chip_config.h"
#include "isa/asm.h"
#include "isa/binary.h"
#include "isa/isa_doc.h"
#include "isa/program_io.h"
#include "isa/validate.h"
#include "support/error.h"
#include "support/file_util.h"
#include "tools/cli.h"

namespace trnsim::cli {
namespace {

struct AsmOptions {
  std::string in;
  std::string out;
  std::string chip;
};

void write_or_print(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else {
    write_file_atomic(path, text);
  }
}

}  // namespace

void add_asm_commands(CLI::App& app) {
  auto opt = std::make_shared<AsmOptions>();

  auto* as = app.add_subcommand("asm", "assemble a .tasm program into a .tbin binary");
  as->add_option("input", opt->in, "program text (.tasm)")->required();
  as->add_option("-o,--output", opt->out, "binary to write (.tbin)")->required();
  as->callback([opt] {
    // Parse fully first: nothing is written unless the whole program assembles.
    isa::Program prog = isa::assemble(read_text_file(opt->in), opt->in);
    isa::save_program(prog, opt->out);
  });

  auto* dis = app.add_subcommand("disasm", "print a program (.tbin or .tasm) as canonical text");
  dis->add_option("input", opt->in, "program (.tbin or .tasm)")->required();
  dis->add_option("-o,--output", opt->out, "text file to write (default: stdout)");
  dis->callback([opt] {
    isa::Program prog = isa::load_program(opt->in);
    write_or_print(opt->out, isa::disassemble(prog));
  });

  auto* val = app.add_subcommand("validate", "check a program against a chip's limits");
  val->add_option("program", opt->in, "program (.tasm or .tbin)")->required();
  val->add_option("--chip", opt->chip, "chip preset or YAML file")->default_val("trn1");
  val->callback([opt] {
    isa::Program prog = isa::load_program(opt->in);
    auto problems = isa::validation_problems(prog, config::load_chip(opt->chip).target());
    for (const auto& p : problems) std::fprintf(stderr, "%s\n", p.c_str());
    if (!problems.empty())
      throw InputError(fmt::format("{}: {} problem{} found", opt->in, problems.size(),
                                   problems.size() == 1 ? "" : "s"));
    std::printf("%s: ok (%zu instructions)\n", opt->in.c_str(), prog.num_instructions());
  });

  auto* doc = app.add_subcommand("isa-doc", "print docs/isa.md (generated from isa/isa.def)");
  doc->group("");  // maintenance command: hidden from --help
  doc->add_option("-o,--output", opt->out, "file to write (default: stdout)");
  doc->callback([opt] { write_or_print(opt->out, isa::isa_reference_markdown()); });
}

}  // namespace trnsim::cli
