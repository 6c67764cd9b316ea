// Helpers for checker tests: assemble a .tasm snippet or load a file, run the checker.
#pragma once

#include <string>
#include <vector>

#include "config/chip_config.h"
#include "isa/asm.h"
#include "isa/program_io.h"
#include "models/check/check.h"

namespace trnsim::test {

inline isa::Target tiny_target() { return config::load_chip("tiny", {}).target(); }

inline model::CheckReport check_tasm(const std::string& text, model::CheckOptions o = {}) {
  isa::Program prog = isa::assemble(text, "test.tasm");
  return model::check_program(prog, tiny_target(), o);
}

// Any program file (.tasm/.tbin), e.g. a compiled ONNX model.
inline model::CheckReport check_file(const std::string& path, const isa::Target& t) {
  return model::check_program(isa::load_program(path), t);
}

}  // namespace trnsim::test
