// Links, routes and ring orders of a multi-chip system (docs/multichip.md).
#include "models/system/topology.h"

#include <fmt/format.h>

#include <algorithm>

#include "support/error.h"

namespace trnsim::model {
namespace {

const char* const kDimNames = "xyz";

// A Hamiltonian path over the grid `dims` (first listed dimension fastest), as a snake: every
// step moves to a neighbour; with an even last dimension its two ends are neighbours too.
std::vector<std::vector<int>> snake(const std::vector<int64_t>& dims) {
  std::vector<std::vector<int>> out{{}};
  for (size_t d = 0; d < dims.size(); ++d) {
    std::vector<std::vector<int>> next;
    for (int64_t i = 0; i < dims[d]; ++i) {
      if (i % 2 == 0) {
        for (const auto& c : out) next.push_back(c);
      } else {
        for (auto it = out.rbegin(); it != out.rend(); ++it) next.push_back(*it);
      }
      for (size_t k = next.size() - out.size(); k < next.size(); ++k)
        next[k].push_back(static_cast<int>(i));
    }
    out = std::move(next);
  }
  return out;
}

}  // namespace

Topology::Topology(const config::SystemConfig& s) : sys_(s) {
  dims_ = s.dims.empty() ? std::vector<int64_t>{s.chips} : s.dims;
  const int n = static_cast<int>(s.chips);
  const std::string& topo = s.topology;
  nl0_ = 0;
  for (int c = 0; c < chips(); ++c) {
    if (topo == "ring" || topo == "torus2d" || topo == "torus3d") {
      for (size_t d = 0; d < dims_.size(); ++d)
        for (int dir = 0; dir < 2; ++dir)
          links_.push_back({fmt::format("c{}.{}{}", c, kDimNames[std::min<size_t>(d, 2)],
                                        dir == 0 ? '+' : '-'),
                            s.dim_bandwidth_gbps(d), Link::Kind::NeuronLink});
    } else if (topo == "fully_connected") {
      for (int b = 0; b < n; ++b)
        links_.push_back({fmt::format("c{}.to{}", c, b + instance_of_chip(c) * n),
                          s.link_bandwidth_gbps, Link::Kind::NeuronLink});
    } else if (topo == "switch") {
      links_.push_back({fmt::format("c{}.up", c), s.link_bandwidth_gbps, Link::Kind::NeuronLink});
      links_.push_back({fmt::format("c{}.down", c), s.link_bandwidth_gbps, Link::Kind::NeuronLink});
    } else {
      throw InputError(fmt::format("system.topology: unknown topology '{}'", topo));
    }
  }
  efa0_ = static_cast<int>(links_.size());
  for (int c = 0; c < chips(); ++c) {
    links_.push_back({fmt::format("c{}.efa.out", c), s.efa_bandwidth_gbps, Link::Kind::Efa});
    links_.push_back({fmt::format("c{}.efa.in", c), s.efa_bandwidth_gbps, Link::Kind::Efa});
  }
  dma0_ = static_cast<int>(links_.size());
  const double dma_gbps =
      static_cast<double>(s.chip_config.dma_engines) * s.chip_config.dma_engine_gbps;
  for (int r = 0; r < ranks(); ++r)
    links_.push_back({fmt::format("r{}.dma", r), dma_gbps, Link::Kind::Dma});
  hbm0_ = static_cast<int>(links_.size());
  for (int c = 0; c < chips(); ++c)
    links_.push_back({fmt::format("c{}.hbm", c), s.chip_config.hbm_gbps, Link::Kind::Hbm});
}

std::vector<int> Topology::coords(int chip) const {
  int local = chip % static_cast<int>(sys_.chips);
  std::vector<int> c;
  for (int64_t d : dims_) {
    c.push_back(static_cast<int>(local % d));
    local /= static_cast<int>(d);
  }
  return c;
}

int Topology::link_id(int chip, int dim, int dir) const {
  return nl0_ + (chip * static_cast<int>(dims_.size()) + dim) * 2 + dir;
}

Route Topology::route(int a, int b) const {
  Route r;
  if (a == b) return r;
  if (instance_of_chip(a) != instance_of_chip(b)) {
    r.links = {efa0_ + 2 * a, efa0_ + 2 * b + 1};
    r.efa = true;
    return r;
  }
  const int n = static_cast<int>(sys_.chips);
  const int base = instance_of_chip(a) * n;
  if (sys_.topology == "fully_connected") {
    r.links = {nl0_ + a * n + (b - base)};
    r.hops = 1;
    return r;
  }
  if (sys_.topology == "switch") {
    r.links = {nl0_ + 2 * a, nl0_ + 2 * b + 1};
    r.hops = 2;
    return r;
  }
  // Ring and torus: dimension order, the shorter way round in each (ties: +).
  std::vector<int> cur = coords(a);
  const std::vector<int> dst = coords(b);
  for (size_t d = 0; d < dims_.size(); ++d) {
    const int len = static_cast<int>(dims_[d]);
    const int fwd = ((dst[d] - cur[d]) % len + len) % len;
    if (fwd == 0) continue;
    const bool plus = fwd <= len - fwd;
    const int steps = plus ? fwd : len - fwd;
    for (int k = 0; k < steps; ++k) {
      int local = 0, mul = 1;
      for (size_t e = 0; e < dims_.size(); ++e) {
        local += cur[e] * mul;
        mul *= static_cast<int>(dims_[e]);
      }
      r.links.push_back(link_id(base + local, static_cast<int>(d), plus ? 0 : 1));
      cur[d] = ((cur[d] + (plus ? 1 : -1)) % len + len) % len;
      ++r.hops;
    }
  }
  return r;
}

std::vector<std::vector<int>> Topology::chip_cycles() const {
  const bool torus = sys_.topology == "torus2d" || sys_.topology == "torus3d";
  const size_t families = torus ? dims_.size() : 1;
  std::vector<std::vector<int>> out;
  for (size_t f = 0; f < families; ++f) {
    // Family f walks dimension f fastest.
    std::vector<int64_t> order_dims;
    std::vector<size_t> which;
    for (size_t k = 0; k < dims_.size(); ++k) {
      which.push_back((f + k) % dims_.size());
      order_dims.push_back(dims_[which.back()]);
    }
    std::vector<int> cyc;
    for (const auto& c : snake(order_dims)) {
      int local = 0, mul = 1;
      std::vector<int> full(dims_.size());
      for (size_t k = 0; k < which.size(); ++k) full[which[k]] = c[k];
      for (size_t e = 0; e < dims_.size(); ++e) {
        local += full[e] * mul;
        mul *= static_cast<int>(dims_[e]);
      }
      cyc.push_back(local);
    }
    out.push_back(std::move(cyc));
  }
  return out;
}

}  // namespace trnsim::model
