// Simulator speed benchmark: simulated instructions per second in timing-only mode on a large
// generated program, against SystemC's raw context-switch rate measured in the same run.
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <systemc>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "config/chip_config.h"
#include "isa/asm.h"
#include "models/sim.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The cheapest thing a SystemC thread can do per simulated step: wait(time) and be resumed.
struct Spinner : sc_core::sc_module {
  SC_HAS_PROCESS(Spinner);
  Spinner(sc_core::sc_module_name n, long steps) : sc_module(n), steps_(steps) {
    SC_THREAD(run);
  }
  void run() {
    for (long i = 0; i < steps_; ++i) wait(1, sc_core::SC_NS);
  }
  long steps_;
};

// Runs fn() in a child process (one SystemC simulation per process) and returns its double.
template <typename F>
double in_child(F fn) {
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    double v = fn();
    if (write(fds[1], &v, sizeof v) != sizeof v) _exit(1);
    _exit(0);
  }
  close(fds[1]);
  double v = 0;
  if (read(fds[0], &v, sizeof v) != sizeof v) v = -1;
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  return v;
}

// One core, five engines in loops chained by register-valued semaphore waits:
// pe matmul -> act activation -> dve tensor_scalar; pool and sp run their own loops (sp
// issues DMAs). 3 instructions per loop iteration per engine.
std::string program(long iters) {
  return fmt::format(R"(
.tensor a input bf16 [128, 512]
.core 0
.engine pe
  movi r0, 0
pe_top:
  matmul psum[0:128]+0:fp32[1,512], sbuf[0:128]+0:bf16[1,128], sbuf[0:128]+1024:bf16[1,512], zero inc(s0)
  addi r0, r0, 1
  blt r0, {0}, pe_top
.engine act
  movi r1, 0
act_top:
  addi r1, r1, 1
  act sbuf[0:128]+4096:bf16[1,512], psum[0:128]+0:fp32[1,512], gelu, 1.0, 0.0, - wait(s0>=r1) inc(s1)
  blt r1, {0}, act_top
.engine dve
  movi r1, 0
dve_top:
  addi r1, r1, 1
  ts sbuf[0:128]+8192:bf16[1,512], sbuf[0:128]+4096:bf16[1,512], mul, 2.0, bypass, 0.0 wait(s1>=r1)
  blt r1, {0}, dve_top
.engine pool
  movi r1, 0
pool_top:
  iota sbuf[0:128]+16384:int32[1,64], 0, 1
  addi r1, r1, 1
  blt r1, {0}, pool_top
.engine sp
  movi r1, 0
sp_top:
  dma q0, sbuf[0:128]+32768:bf16[1,512], hbm.a+0:bf16{{512,128}}[1,512]
  addi r1, r1, 1
  blt r1, {0}, sp_top
)",
                     iters);
}

}  // namespace

int main(int argc, char** argv) {
  long instructions = argc > 1 ? std::atol(argv[1]) : 1000000;
  setenv("SC_COPYRIGHT_MESSAGE", "DISABLE", 0);
  const long iters = instructions / 15;

  double raw = in_child([&] {
    const long steps = 2000000;
    Spinner s("spinner", steps);
    auto t0 = std::chrono::steady_clock::now();
    sc_core::sc_start();
    return static_cast<double>(steps) / seconds_since(t0);
  });

  double sim_rate = 0, sim_ns = 0, count = 0;
  double secs = 0;
  {
    auto prog = trnsim::isa::assemble(program(iters), "bench.tasm");
    auto cfg = trnsim::config::load_chip("trn1");
    trnsim::model::SimOptions o;
    o.timing_only = true;
    auto t0 = std::chrono::steady_clock::now();
    auto r = trnsim::model::simulate(prog, cfg, o);
    secs = seconds_since(t0);
    count = static_cast<double>(r.stats.instructions());
    sim_rate = count / secs;
    sim_ns = r.sim_time_ns;
  }
  std::printf("systemc raw context switches: %.2f M/s (one thread, wait(1 ns) x 2M)\n", raw / 1e6);
  std::printf("simulated instructions:       %.0f in %.3f s wall (%.1f us simulated)\n", count,
              secs, sim_ns / 1000.0);
  std::printf("simulator speed:              %.2f M instr/s (timing-only, 1 core, 5 engines)\n",
              sim_rate / 1e6);
  std::printf("ratio to raw switches:        %.2f\n", sim_rate / raw);
  return 0;
}
