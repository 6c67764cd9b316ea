// Functional executor: DMA copies and row gathers (the data moved when a transfer completes).
#include <string>

#include "models/exec/exec_internal.h"

namespace trnsim::model::detail {

void exec_dma(const Ctx& c) {
  Tile dst = resolve(c, 1);
  Tile src = resolve(c, 2);
  if (dst.total() != src.total())
    c.fault("dst has " + std::to_string(dst.total()) + " elements but src has " +
            std::to_string(src.total()));
  // Elements pair up in row-major (partition, dims) order on both sides, so the partition
  // structures may differ; staging through a buffer also makes overlapping copies safe.
  std::vector<uint8_t> buf;
  gather_bytes(src, buf);
  if (src.dt != dst.dt) buf = convert_bytes(buf, src.dt, dst.dt);
  scatter_bytes(dst, buf);
}

std::vector<float> read_operand_f32(const Ctx& c, int k) { return load_all_f32(resolve(c, k)); }

void write_operand_f32(const Ctx& c, int k, const std::vector<float>& v) {
  Tile t = resolve(c, k);
  if (t.total() != static_cast<int64_t>(v.size()))
    c.fault(std::string(c.opnd_name(k)) + " has " + std::to_string(t.total()) +
            " elements, the collective produced " + std::to_string(v.size()));
  store_all_f32(t, v);
}

void exec_dma_gather(const Ctx& c) {
  Tile dst = resolve(c, 1);
  Tile idx = resolve(c, 3);
  const isa::AccessPattern& table = c.op(2).ap;
  if (!table.present()) c.fault("table: missing access pattern");
  if (!idx.is_int()) c.fault("idx must have an integer dtype");
  if (idx.np != dst.np || idx.nfree < 1)
    c.fault("idx must be [" + std::to_string(dst.np) + ",1], got " + std::to_string(idx.np) + "x" +
            std::to_string(idx.nfree));
  if (table.free_elements() != dst.nfree)
    c.fault("table rows have " + std::to_string(table.free_elements()) +
            " elements but dst has " + std::to_string(dst.nfree) + " per partition");
  const int64_t es = isa::dtype_size(table.dtype);
  std::vector<uint8_t> buf;
  for (int p = 0; p < dst.np; ++p) {
    const int64_t r = isa::load_as_int(idx.dt, idx.row(p) + idx.offs[0]);
    isa::AccessPattern row = table;
    row.num_partitions = 1;
    const std::string what = "table row " + std::to_string(r) + " (idx partition " +
                             std::to_string(p) + ")";
    if (r < 0) c.fault(what + ": negative row index");
    if (r >= table.num_partitions)
      c.fault(what + ": out of the table's " + std::to_string(table.num_partitions) + " rows");
    if (table.space == isa::MemSpace::Hbm) {
      row.offset += r * table.partition_stride * es;
    } else {
      const int64_t part = table.start_partition + r;
      if (part >= c.st.mem->partitions)
        c.fault(what + ": partition " + std::to_string(part) + " out of range (" +
                std::to_string(c.st.mem->partitions) + " partitions)");
      row.start_partition = static_cast<uint16_t>(part);
    }
    Tile t = resolve_ap(c, row, what.c_str());
    gather_bytes(t, buf);
  }
  if (table.dtype != dst.dt) buf = convert_bytes(buf, table.dtype, dst.dt);
  scatter_bytes(dst, buf);
}

}  // namespace trnsim::model::detail

namespace trnsim::model {

std::vector<float> read_operand(const isa::Instr& in, ExecState& st, const InstrRef& ref, int k) {
  return detail::read_operand_f32(detail::Ctx{in, st, ref}, k);
}

void write_operand(const isa::Instr& in, ExecState& st, const InstrRef& ref, int k,
                   const std::vector<float>& values) {
  detail::write_operand_f32(detail::Ctx{in, st, ref}, k, values);
}

}  // namespace trnsim::model
