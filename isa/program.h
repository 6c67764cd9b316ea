// The program container: access patterns, instructions, per-core per-engine streams, HBM tensors.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "isa/isa.h"

namespace trnsim::isa {

// Index into Program::strings; 0 is the empty string ("none").
using StrId = uint32_t;

// One free dimension of an access pattern: `count` elements, `stride` elements apart.
struct Dim {
  int64_t stride = 0;
  int64_t count = 1;
};

// Rows of one HBM access pattern (a dma_gather table may name any row of a large tensor).
constexpr int64_t kMaxHbmRows = 2147483647;

// How an operand addresses memory.
// SBUF/PSUM: partitions [start_partition, start_partition+num_partitions), and in every one of
//   them the same free pattern starting at byte `offset` (PSUM bank = offset / bank bytes).
// HBM: tensor `tensor` of the program; partition row p starts at element p*partition_stride,
//   and `offset` is a byte offset into the tensor.
// Free dims are outermost first, strides in elements of `dtype`. With offset_reg >= 0 the value
// of that engine register is added to `offset` at run time (register-addressed operand).
struct AccessPattern {
  MemSpace space = MemSpace::None;
  DType dtype = DType::Fp32;
  uint8_t ndims = 0;
  int8_t offset_reg = -1;
  uint16_t tensor = 0;
  uint16_t start_partition = 0;
  // SBUF/PSUM: partitions (validated against the chip); HBM: rows, up to kMaxHbmRows.
  int32_t num_partitions = 1;
  int64_t partition_stride = 0;
  int64_t offset = 0;
  std::array<Dim, 4> dims{};

  bool present() const { return space != MemSpace::None; }
  // Elements per partition: the product of the free counts (1 with no free dims).
  int64_t free_elements() const;
  int64_t total_elements() const { return free_elements() * num_partitions; }
  bool operator==(const AccessPattern& o) const;
  bool operator!=(const AccessPattern& o) const { return !(*this == o); }
};

// One operand slot; which member is meaningful depends on the opcode's OperandKind:
// AP kinds use `ap`; Scalar uses `ap` when present, else `f`; Float uses `f`; every other kind
// (enums, Int, Reg, Target = instruction index, Queue, Engines mask) uses `i`.
struct Operand {
  AccessPattern ap;
  float f = 0.0f;
  int64_t i = 0;
  bool operator==(const Operand& o) const;
};

constexpr int kMaxWaits = 2;
constexpr int kMaxIncs = 2;

// Wait until semaphore `sem` of this core is >= value (or >= register `reg` when reg >= 0).
struct SemWait {
  uint16_t sem = 0;
  int8_t reg = -1;
  int64_t value = 0;
  bool operator==(const SemWait& o) const {
    return sem == o.sem && reg == o.reg && value == o.value;
  }
};

// On completion add `amount` to semaphore `sem` of core `core` (-1: the issuing core).
struct SemInc {
  int16_t core = -1;
  uint16_t sem = 0;
  uint32_t amount = 1;
  bool operator==(const SemInc& o) const {
    return core == o.core && sem == o.sem && amount == o.amount;
  }
};

struct Instr {
  Opcode op = Opcode::Nop;
  uint8_t num_waits = 0;
  uint8_t num_incs = 0;
  std::array<Operand, kMaxOperands> ops{};
  std::array<SemWait, kMaxWaits> waits{};
  std::array<SemInc, kMaxIncs> incs{};
  StrId tag = 0;      // source tag: graph node name, or empty
  StrId label = 0;    // label defined at this instruction (branch targets), or empty
  StrId comment = 0;  // comment lines shown before the instruction (kept for round trips)
  uint32_t line = 0;  // line in the .tasm it was assembled from (0: unknown); not serialised as text

  const OpcodeInfo& info() const { return opcode_info(op); }
  // Equality ignores `line` (debug information).
  bool operator==(const Instr& o) const;
};

enum class TensorRole : uint8_t { Input, Output, Const, Scratch };
std::string_view tensor_role_name(TensorRole r);
std::optional<TensorRole> parse_tensor_role(std::string_view s);

struct TensorDecl {
  std::string name;
  // The name users know the tensor by when `name` could not be it: a model's input or output
  // whose name is not an identifier ("13", "1 minute timer", "onnx::x"). Empty: `name`.
  std::string external_name;
  DType dtype = DType::Fp32;
  std::vector<int64_t> shape;
  TensorRole role = TensorRole::Input;
  // Initial bytes (Const only): num_bytes() long, or empty in a timing-only program (compiled
  // without constant values; it simulates with --timing-only and nothing else).
  std::vector<uint8_t> data;
  StrId comment = 0;

  int64_t num_elements() const;
  int64_t num_bytes() const { return num_elements() * dtype_size(dtype); }
  const std::string& display_name() const { return external_name.empty() ? name : external_name; }
  // A const tensor whose bytes were left out (timing-only program). An empty const (a zero
  // dimension) has all of its zero bytes.
  bool data_absent() const {
    return role == TensorRole::Const && data.empty() && num_bytes() != 0;
  }
  bool operator==(const TensorDecl& o) const;
};

struct CoreProgram {
  std::array<std::vector<Instr>, kNumEngines> streams;
  std::vector<Instr>& stream(Engine e) { return streams[static_cast<int>(e)]; }
  const std::vector<Instr>& stream(Engine e) const { return streams[static_cast<int>(e)]; }
  bool operator==(const CoreProgram& o) const { return streams == o.streams; }
};

struct Program {
  std::vector<TensorDecl> tensors;
  std::vector<CoreProgram> cores;
  std::vector<std::string> strings{""};
  StrId header_comment = 0;  // comment lines at the top of the file
  std::string source_name;   // file it was loaded from, for error messages (not serialised)

  StrId intern(std::string_view s);
  const std::string& str(StrId id) const { return strings.at(id); }
  std::optional<int> find_tensor(std::string_view name) const;
  size_t num_instructions() const;
  // Structural equality: same tensors, streams and string contents (ids may differ).
  bool operator==(const Program& o) const;

 private:
  std::unordered_map<std::string, StrId> string_index_;
};

}  // namespace trnsim::isa
