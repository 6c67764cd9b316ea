// Cycles, picoseconds and the one cycles <-> SystemC time conversion per clock domain.
#pragma once

#include <systemc>

#include <cmath>
#include <cstdint>

namespace trnsim::model {

// A count of cycles of some engine's clock. Distinct from time on purpose: cycles only become
// time through the ClockDomain of the engine that spends them.
class Cycles {
 public:
  constexpr Cycles() = default;
  constexpr explicit Cycles(int64_t n) : n_(n) {}
  constexpr int64_t count() const { return n_; }
  constexpr Cycles operator+(Cycles o) const { return Cycles(n_ + o.n_); }
  constexpr Cycles operator*(int64_t k) const { return Cycles(n_ * k); }
  constexpr bool operator==(Cycles o) const { return n_ == o.n_; }
  constexpr bool operator!=(Cycles o) const { return n_ != o.n_; }

 private:
  int64_t n_ = 0;
};

// Simulated time in picoseconds: the SystemC time resolution (the default, 1 ps) as an integer.
using Picos = int64_t;

inline Picos ns_to_ps(double ns) { return static_cast<Picos>(std::llround(ns * 1000.0)); }
inline double ps_to_ns(Picos ps) { return static_cast<double>(ps) / 1000.0; }
// Out of line on purpose: every SystemC user of the models calls it, which links clock.cpp
// and with it the sc_main that libsystemc requires.
sc_core::sc_time ps_to_time(Picos ps);
inline Picos now_ps() { return static_cast<Picos>(sc_core::sc_time_stamp().value()); }

// One clock domain (each engine has its own clock). A span of cycles converts to picoseconds
// rounded to the nearest picosecond; every instruction's latency is converted once, so the
// rounding is per instruction (at most 0.5 ps each) and deterministic.
class ClockDomain {
 public:
  explicit ClockDomain(double ghz = 1.0) : ghz_(ghz) {}
  double ghz() const { return ghz_; }
  Picos to_ps(Cycles c) const {
    return static_cast<Picos>(std::llround(static_cast<double>(c.count()) * 1000.0 / ghz_));
  }

 private:
  double ghz_;
};

}  // namespace trnsim::model
