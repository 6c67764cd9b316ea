// The links of a multi-chip system and the route between any two NeuronCores (ranks).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/system_config.h"

namespace trnsim::model {

// A directed resource a transfer occupies: a chip-to-chip link (one per direction), a chip's
// EFA port (egress or ingress), a NeuronCore's DMA engines, or a chip's HBM.
struct Link {
  std::string name;   // "c0.x+" (chip 0, dimension x, positive direction), "c3.efa.out", "r5.dma"
  double gbps = 0;    // bytes per ns
  enum class Kind { NeuronLink, Efa, Dma, Hbm } kind = Kind::NeuronLink;
};

struct Route {
  std::vector<int> links;   // NeuronLink and EFA resources, in order
  int hops = 0;             // NeuronLink hops
  bool efa = false;         // crosses instances
};

class Topology {
 public:
  explicit Topology(const config::SystemConfig& s);

  const config::SystemConfig& system() const { return sys_; }
  int chips() const { return static_cast<int>(sys_.total_chips()); }
  int ranks() const { return static_cast<int>(sys_.total_ranks()); }
  int cores_per_chip() const { return static_cast<int>(sys_.chip_config.cores); }
  int chip_of(int rank) const { return rank / cores_per_chip(); }
  int instance_of_chip(int chip) const { return chip / static_cast<int>(sys_.chips); }
  // Coordinates of a chip inside its instance, one per dim.
  std::vector<int> coords(int chip) const;
  const std::vector<Link>& links() const { return links_; }
  int dma_resource(int rank) const { return dma0_ + rank; }
  int hbm_resource(int chip) const { return hbm0_ + chip; }
  // The NeuronLink/EFA resources from chip a to chip b (empty for a == b).
  Route route(int chip_a, int chip_b) const;
  // Ring orders of every chip of one instance (chip ids inside the instance), one per channel
  // family: [0] follows dimension 0 first (a snake), [1] (torus only) dimension 1 first.
  // Reversed orders give the other direction.
  std::vector<std::vector<int>> chip_cycles() const;

 private:
  int link_id(int chip, int dim, int dir) const;  // dir 0 = +, 1 = -
  config::SystemConfig sys_;
  std::vector<int64_t> dims_;
  std::vector<Link> links_;
  int nl0_ = 0, efa0_ = 0, dma0_ = 0, hbm0_ = 0;
};

}  // namespace trnsim::model
