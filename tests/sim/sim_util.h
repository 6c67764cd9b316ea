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

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>

namespace trnsim::test {

// Runs `fn` in a child process (SystemC allows one simulation per process) and returns what it
// wrote, so that one test case can compare several simulations. Throws if the child failed.
inline std::string in_child(const std::function<std::string()>& fn) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string out;
    int code = 0;
    try {
      out = fn();
    } catch (const std::exception& e) {
      out = std::string("error: ") + e.what();
      code = 1;
    }
    size_t off = 0;
    while (off < out.size()) {
      ssize_t n = write(fds[1], out.data() + off, out.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    close(fds[1]);
    _exit(code);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("child: " + out);
  return out;
}

}  // namespace trnsim::test
