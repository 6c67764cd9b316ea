// Helpers for simulator scenario tests: assemble a .tasm snippet and simulate it on a preset.
#pragma once

#include <string>

#include "config/chip_config.h"
#include "isa/asm.h"
#include "models/sim.h"

namespace trnsim::test {

inline model::SimResult run_tasm(const std::string& text, const std::string& chip = "tiny",
                                 model::SimOptions opts = {}, std::vector<std::string> sets = {}) {
  isa::Program prog = isa::assemble(text, "test.tasm");
  config::ChipConfig cfg = config::load_chip(chip, sets);
  return model::simulate(prog, cfg, opts);
}

inline model::SimOptions timing_only() {
  model::SimOptions o;
  o.timing_only = true;
  return o;
}

}  // namespace trnsim::test
