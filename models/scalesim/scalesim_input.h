// SCALE-Sim v2 inputs: the .cfg architecture file and the conv/GEMM topology CSV, parsed the way
// SCALE-Sim's scale_config.py and topology_utils.py read them, with one-line errors naming the place.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace trnsim::model::scalesim {

enum class Dataflow { kOs, kWs, kIs };

// One [architecture_presets]/[run_presets] set, as SCALE-Sim's scale_config holds it.
struct ScaleSimConfig {
  std::string path;
  std::string run_name;
  int64_t array_rows = 0;  // ArrayHeight
  int64_t array_cols = 0;  // ArrayWidth
  int64_t ifmap_sram_kb = 0;
  int64_t filter_sram_kb = 0;
  int64_t ofmap_sram_kb = 0;
  int64_t ifmap_offset = 0;
  int64_t filter_offset = 10000000;
  int64_t ofmap_offset = 20000000;
  Dataflow dataflow = Dataflow::kOs;
  bool user_bandwidth = false;      // InterfaceBandwidth: USER (true) or CALC (false)
  std::vector<int64_t> bandwidths;  // Bandwidth (words/cycle), required in USER mode; the
                                    // first one is used (MemoryBanks is not read, as in SCALE-Sim)
  // 3 for a scale-sim-v3 config (it has the [layout] section v3 requires): v3's report column and
  // behaviour (docs/scalesim.md, "SCALE-Sim v3"). 2 otherwise.
  int version = 2;
  // USER mode: the IFMAP/filter DRAM read bandwidths. v2: the first Bandwidth (also when left 0);
  // v3: [layout] IfmapSRAMBankBandwidth, FilterSRAMBankBandwidth.
  int64_t ifmap_read_bw = 0, filter_read_bw = 0;
};

// One topology row after SCALE-Sim's normalisation (GEMM rows become 1 x K filters).
struct Layer {
  std::string name;
  int line = 0;  // 1-based line in the CSV
  int64_t ifmap_h = 0, ifmap_w = 0;
  int64_t filter_h = 0, filter_w = 0;
  int64_t channels = 0, num_filters = 0;
  int64_t stride_h = 1, stride_w = 1;

  // topology_utils.topo_calc_hyperparams: ceil((H - F + S) / S). With a stride that does not
  // divide H - F the last window hangs over the edge; its outside taps are null requests.
  int64_t ofmap_h() const { return (ifmap_h - filter_h + stride_h - 1) / stride_h + 1; }
  int64_t ofmap_w() const { return (ifmap_w - filter_w + stride_w - 1) / stride_w + 1; }
  int64_t ofmap_px() const { return ofmap_h() * ofmap_w(); }
  int64_t window() const { return filter_h * filter_w * channels; }
};

const char* dataflow_name(Dataflow df);

// Parses TEXT (the contents of PATH). Throws InputError "PATH:LINE: ..." or "PATH: ...".
ScaleSimConfig parse_scalesim_config(const std::string& path, const std::string& text);
ScaleSimConfig load_scalesim_config(const std::string& path);

// Conv rows: `name, IFMAP H, IFMAP W, Filter H, Filter W, Channels, Num Filter, Stride[, Stride W],`
// GEMM rows (gemm=true): `name, M, N, K,`. The first line is a header; blank lines are skipped.
std::vector<Layer> parse_topology(const std::string& path, const std::string& text, bool gemm);
std::vector<Layer> load_topology(const std::string& path, bool gemm);

}  // namespace trnsim::model::scalesim
