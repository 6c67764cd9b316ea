#include "isa/program.h"

namespace trnsim::isa {

int64_t AccessPattern::free_elements() const {
  int64_t n = 1;
  for (int d = 0; d < ndims; ++d) n *= dims[d].count;
  return n;
}

bool AccessPattern::operator==(const AccessPattern& o) const {
  if (space != o.space || dtype != o.dtype || ndims != o.ndims || offset_reg != o.offset_reg ||
      tensor != o.tensor || start_partition != o.start_partition ||
      num_partitions != o.num_partitions || partition_stride != o.partition_stride ||
      offset != o.offset)
    return false;
  for (int d = 0; d < ndims; ++d)
    if (dims[d].stride != o.dims[d].stride || dims[d].count != o.dims[d].count) return false;
  return true;
}

bool Operand::operator==(const Operand& o) const {
  // Compare float immediates bitwise so that NaN payloads and -0 round-trip exactly.
  uint32_t a, b;
  static_assert(sizeof(float) == sizeof(uint32_t));
  __builtin_memcpy(&a, &f, 4);
  __builtin_memcpy(&b, &o.f, 4);
  return ap == o.ap && a == b && i == o.i;
}

bool Instr::operator==(const Instr& o) const {
  if (op != o.op || num_waits != o.num_waits || num_incs != o.num_incs || tag != o.tag ||
      label != o.label || comment != o.comment)
    return false;
  for (int k = 0; k < info().num_operands; ++k)
    if (!(ops[k] == o.ops[k])) return false;
  for (int k = 0; k < num_waits; ++k)
    if (!(waits[k] == o.waits[k])) return false;
  for (int k = 0; k < num_incs; ++k)
    if (!(incs[k] == o.incs[k])) return false;
  return true;
}

std::string_view tensor_role_name(TensorRole r) {
  switch (r) {
    case TensorRole::Input: return "input";
    case TensorRole::Output: return "output";
    case TensorRole::Const: return "const";
    case TensorRole::Scratch: return "scratch";
  }
  return "?";
}

std::optional<TensorRole> parse_tensor_role(std::string_view s) {
  for (auto r : {TensorRole::Input, TensorRole::Output, TensorRole::Const, TensorRole::Scratch})
    if (tensor_role_name(r) == s) return r;
  return std::nullopt;
}

int64_t TensorDecl::num_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

bool TensorDecl::operator==(const TensorDecl& o) const {
  return name == o.name && external_name == o.external_name && dtype == o.dtype && shape == o.shape && role == o.role &&
         data == o.data && comment == o.comment;
}

StrId Program::intern(std::string_view s) {
  if (s.empty()) return 0;
  if (string_index_.size() + 1 != strings.size()) {
    string_index_.clear();
    for (StrId i = 1; i < strings.size(); ++i) string_index_.emplace(strings[i], i);
  }
  auto it = string_index_.find(std::string(s));
  if (it != string_index_.end()) return it->second;
  StrId id = static_cast<StrId>(strings.size());
  strings.emplace_back(s);
  string_index_.emplace(strings.back(), id);
  return id;
}

std::optional<int> Program::find_tensor(std::string_view name) const {
  for (size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].name == name) return static_cast<int>(i);
  return std::nullopt;
}

size_t Program::num_instructions() const {
  size_t n = 0;
  for (const auto& c : cores)
    for (const auto& s : c.streams) n += s.size();
  return n;
}

namespace {
// Compares string ids of two programs by their text.
bool same_str(const Program& a, StrId x, const Program& b, StrId y) { return a.str(x) == b.str(y); }
}  // namespace

bool Program::operator==(const Program& o) const {
  if (tensors.size() != o.tensors.size() || cores.size() != o.cores.size() ||
      !same_str(*this, header_comment, o, o.header_comment))
    return false;
  for (size_t t = 0; t < tensors.size(); ++t) {
    TensorDecl a = tensors[t], b = o.tensors[t];
    if (!same_str(*this, a.comment, o, b.comment)) return false;
    a.comment = b.comment = 0;
    if (!(a == b)) return false;
  }
  for (size_t c = 0; c < cores.size(); ++c) {
    for (int e = 0; e < kNumEngines; ++e) {
      const auto& sa = cores[c].streams[e];
      const auto& sb = o.cores[c].streams[e];
      if (sa.size() != sb.size()) return false;
      for (size_t k = 0; k < sa.size(); ++k) {
        Instr x = sa[k], y = sb[k];
        if (!same_str(*this, x.tag, o, y.tag) || !same_str(*this, x.label, o, y.label) ||
            !same_str(*this, x.comment, o, y.comment))
          return false;
        x.tag = y.tag = x.label = y.label = x.comment = y.comment = 0;
        if (!(x == y)) return false;
      }
    }
  }
  return true;
}

}  // namespace trnsim::isa
