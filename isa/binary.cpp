#include "isa/binary.h"

#include <fmt/format.h>

#include <cstring>
#include <set>
#include <unordered_map>

#include "isa/asm.h"
#include "support/error.h"

// Layout (all integers LEB128 varints unless noted; "s" = zigzag signed varint):
//   "TBIN", u16le version, strings: n, n x (len, bytes)   (id 0 = "" is implicit)
//   header_comment id, tensors: n, n x (name len+bytes, external name len+bytes (version 2),
//   u8 role, u8 dtype, rank, dims..., comment id, data len, data), cores: n, n x (for each engine: count, instructions)
//   instruction: u8 opcode, u8 flags (waits | incs<<2 | tag<<4 | label<<5 | comment<<6),
//   operands in table order by kind, waits (sem, u8 reg+1, s value if no reg), incs (s core,
//   sem, amount), then the tag, label and comment ids that the flags announce.
//   access pattern: u8 (space | ndims<<2 | has_reg<<5), u8 dtype, [u8 reg], hbm: tensor,
//   s row stride, rows; sbuf/psum: start partition, partitions; then s offset, ndims x (s
//   stride, count). Strings are numbered in order of first use, so one program has exactly one
//   encoding (binary -> text -> binary is byte-identical).

namespace trnsim::isa {
namespace {

constexpr int kMaxCores = 4096;

class Writer {
 public:
  void u8(uint64_t v) { buf_.push_back(static_cast<uint8_t>(v)); }
  void uv(uint64_t v) {
    do {
      uint8_t b = v & 0x7F;
      v >>= 7;
      buf_.push_back(static_cast<uint8_t>(b | (v ? 0x80 : 0)));
    } while (v);
  }
  void sv(int64_t v) { uv((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void bytes(const void* p, size_t n) {
    auto b = static_cast<const uint8_t*>(p);
    buf_.insert(buf_.end(), b, b + n);
  }
  void f32(float f) { bytes(&f, 4); }
  void reserve(size_t n) { buf_.reserve(n); }
  std::vector<uint8_t>& buf() { return buf_; }

 private:
  std::vector<uint8_t> buf_;
};

class Encoder {
 public:
  explicit Encoder(const Program& p) : prog_(p) {}

  std::vector<uint8_t> run() {
    size_t data_bytes = 0;
    str(prog_.header_comment);
    body_.uv(prog_.tensors.size());
    for (const auto& t : prog_.tensors) {
      body_.uv(t.name.size());
      body_.bytes(t.name.data(), t.name.size());
      body_.uv(t.external_name.size());
      body_.bytes(t.external_name.data(), t.external_name.size());
      body_.u8(static_cast<uint8_t>(t.role));
      body_.u8(static_cast<uint8_t>(t.dtype));
      body_.uv(t.shape.size());
      for (int64_t d : t.shape) body_.uv(static_cast<uint64_t>(d));
      str(t.comment);
      body_.uv(t.data.size());
      // The data bytes go straight into the output below (they may be hundreds of MB).
      data_at_.push_back({body_.buf().size(), &t.data});
      data_bytes += t.data.size();
    }
    body_.uv(prog_.cores.size());
    for (const auto& c : prog_.cores)
      for (const auto& s : c.streams) {
        body_.uv(s.size());
        for (const auto& in : s) instr(in);
      }
    Writer out;
    size_t head_bytes = 4 + 2 + 10;
    for (const auto& s : table_) head_bytes += 10 + s.size();
    out.reserve(head_bytes + body_.buf().size() + data_bytes);
    out.bytes("TBIN", 4);
    out.u8(kTbinVersion & 0xFF);
    out.u8(kTbinVersion >> 8);
    out.uv(table_.size());
    for (const auto& s : table_) {
      out.uv(s.size());
      out.bytes(s.data(), s.size());
    }
    const std::vector<uint8_t>& body = body_.buf();
    size_t from = 0;
    for (const auto& [at, data] : data_at_) {
      out.bytes(body.data() + from, at - from);
      out.bytes(data->data(), data->size());
      from = at;
    }
    out.bytes(body.data() + from, body.size() - from);
    return std::move(out.buf());
  }

 private:
  void str(StrId id) {
    if (id == 0 || prog_.str(id).empty()) {
      body_.uv(0);
      return;
    }
    const std::string& s = prog_.str(id);
    auto it = ids_.find(s);
    if (it == ids_.end()) {
      table_.push_back(s);
      it = ids_.emplace(s, table_.size()).first;
    }
    body_.uv(it->second);
  }

  void ap(const AccessPattern& a) {
    if (!a.present()) {
      body_.u8(0);
      return;
    }
    body_.u8(static_cast<uint8_t>(a.space) | (a.ndims << 2) | ((a.offset_reg >= 0) << 5));
    body_.u8(static_cast<uint8_t>(a.dtype));
    if (a.offset_reg >= 0) body_.u8(a.offset_reg);
    if (a.space == MemSpace::Hbm) {
      body_.uv(a.tensor);
      body_.sv(a.partition_stride);
    } else {
      body_.uv(a.start_partition);
    }
    body_.uv(a.num_partitions);
    body_.sv(a.offset);
    for (int d = 0; d < a.ndims; ++d) {
      body_.sv(a.dims[d].stride);
      body_.sv(a.dims[d].count);
    }
  }

  void instr(const Instr& in) {
    const OpcodeInfo& info = in.info();
    body_.u8(static_cast<uint8_t>(in.op));
    body_.u8(in.num_waits | (in.num_incs << 2) | ((in.tag != 0) << 4) | ((in.label != 0) << 5) |
             ((in.comment != 0) << 6));
    for (int k = 0; k < info.num_operands; ++k) {
      const Operand& o = in.ops[k];
      switch (info.operands[k].kind) {
        case OperandKind::PsumAcc:
        case OperandKind::PsumOut:
        case OperandKind::SbufIn:
        case OperandKind::Out:
        case OperandKind::In:
        case OperandKind::OutOpt:
        case OperandKind::MemOut:
        case OperandKind::MemIn: ap(o.ap); break;
        case OperandKind::Scalar:
          ap(o.ap);
          if (!o.ap.present()) body_.f32(o.f);
          break;
        case OperandKind::Float: body_.f32(o.f); break;
        case OperandKind::ActFn:
        case OperandKind::Alu:
        case OperandKind::AccFlag:
        case OperandKind::Reg:
        case OperandKind::Engines: body_.u8(static_cast<uint8_t>(o.i)); break;
        case OperandKind::Int: body_.sv(o.i); break;
        case OperandKind::Target:
        case OperandKind::Queue: body_.uv(static_cast<uint64_t>(o.i)); break;
      }
    }
    for (int k = 0; k < in.num_waits; ++k) {
      body_.uv(in.waits[k].sem);
      body_.u8(static_cast<uint8_t>(in.waits[k].reg + 1));
      if (in.waits[k].reg < 0) body_.sv(in.waits[k].value);
    }
    for (int k = 0; k < in.num_incs; ++k) {
      body_.sv(in.incs[k].core);
      body_.uv(in.incs[k].sem);
      body_.uv(in.incs[k].amount);
    }
    if (in.tag) str(in.tag);
    if (in.label) str(in.label);
    if (in.comment) str(in.comment);
  }

  const Program& prog_;
  Writer body_;
  // Where each tensor's data belongs in body_ (which holds everything else).
  std::vector<std::pair<size_t, const std::vector<uint8_t>*>> data_at_;
  std::vector<std::string> table_;
  std::unordered_map<std::string, StrId> ids_;
};

class Decoder {
 public:
  // keep_data = false checks everything but leaves the tensors' data out of the program.
  Decoder(const uint8_t* d, size_t n, const std::string& file, bool keep_data)
      : d_(d), n_(n), file_(file), keep_data_(keep_data) {}

  Program run() {
    if (n_ < 4) truncated();
    if (std::memcmp(d_, "TBIN", 4) != 0) corrupt("not a .tbin file (bad magic)");
    pos_ = 4;
    uint16_t version = u8();  // two statements: the order of reads must be fixed
    version = static_cast<uint16_t>(version | (u8() << 8));
    if (version < 1 || version > kTbinVersion)
      throw InputError(fmt::format("{}: unsupported .tbin version {} (this trnsim reads 1 to {})",
                                   file_, version, kTbinVersion));
    version_ = version;
    Program p;
    p.source_name = file_;
    uint64_t nstr = count(1, "string count");
    std::set<std::string_view> seen;
    for (uint64_t i = 0; i < nstr; ++i) {
      size_t at = pos_;
      std::string_view s = raw_string();
      if (s.empty()) corrupt_at(at, "empty string in string table");
      if (!seen.insert(s).second) corrupt_at(at, "duplicate string in string table");
      p.strings.emplace_back(s);
    }
    prog_ = &p;
    p.header_comment = comment_id();
    uint64_t nt = count(4, "tensor count");
    if (nt > 65535) corrupt("too many tensors");
    for (uint64_t i = 0; i < nt; ++i) p.tensors.push_back(tensor());
    uint64_t nc = count(kNumEngines, "core count");
    if (nc > kMaxCores) corrupt("too many cores");
    p.cores.resize(nc);
    for (auto& c : p.cores)
      for (int e = 0; e < kNumEngines; ++e) stream(c.streams[e], static_cast<Engine>(e));
    if (pos_ != n_) corrupt("trailing bytes after the program");
    if (next_str_ != p.strings.size()) corrupt("unused strings in string table");
    return p;
  }

 private:
  [[noreturn]] void truncated() const {
    throw InputError(fmt::format("{}: truncated .tbin at byte {}", file_, n_));
  }
  [[noreturn]] void corrupt_at(size_t at, const std::string& what) const {
    throw InputError(fmt::format("{}: corrupt .tbin at byte {}: {}", file_, at, what));
  }
  [[noreturn]] void corrupt(const std::string& what) const { corrupt_at(pos_, what); }

  uint8_t u8() {
    if (pos_ >= n_) truncated();
    return d_[pos_++];
  }
  uint64_t uv() {
    size_t at = pos_;
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      uint8_t b = u8();
      if (shift == 63 && b > 1) corrupt_at(at, "varint too long");
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) {
        if (b == 0 && shift > 0) corrupt_at(at, "non-minimal varint");
        return v;
      }
    }
  }
  int64_t sv() {
    uint64_t u = uv();
    return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
  }
  // An unsigned varint in [lo, hi].
  uint64_t ranged(uint64_t lo, uint64_t hi, const char* what) {
    size_t at = pos_;
    uint64_t v = uv();
    if (v < lo || v > hi) corrupt_at(at, fmt::format("{} {} out of range {}..{}", what, v, lo, hi));
    return v;
  }
  int64_t sranged(int64_t lo, int64_t hi, const char* what) {
    size_t at = pos_;
    int64_t v = sv();
    if (v < lo || v > hi) corrupt_at(at, fmt::format("{} {} out of range {}..{}", what, v, lo, hi));
    return v;
  }
  uint8_t u8_below(int limit, const char* what) {
    size_t at = pos_;
    uint8_t v = u8();
    if (v >= limit) corrupt_at(at, fmt::format("{} {} out of range", what, v));
    return v;
  }
  // A count of items that take at least `min_bytes` each: bounded by the bytes left.
  uint64_t count(size_t min_bytes, const char* what) {
    size_t at = pos_;
    uint64_t v = uv();
    if (v > (n_ - pos_) / min_bytes)
      corrupt_at(at, fmt::format("{} {} larger than the rest of the file allows", what, v));
    return v;
  }
  std::string_view raw_string() {
    uint64_t len = uv();
    if (len > n_ - pos_) truncated();
    std::string_view s(reinterpret_cast<const char*>(d_ + pos_), len);
    pos_ += len;
    return s;
  }
  StrId str_id() {
    size_t at = pos_;
    uint64_t id = uv();
    if (id >= prog_->strings.size()) corrupt_at(at, fmt::format("string id {} out of range", id));
    if (id > next_str_) corrupt_at(at, "strings not numbered in order of first use");
    if (id == next_str_) ++next_str_;
    return static_cast<StrId>(id);
  }
  StrId nonzero_str_id(const char* what) {
    size_t at = pos_;
    StrId id = str_id();
    if (id == 0) corrupt_at(at, fmt::format("empty {}", what));
    return id;
  }
  StrId comment_id() {
    size_t at = pos_;
    StrId id = str_id();
    if (prog_->strings[id].find('\r') != std::string::npos)
      corrupt_at(at, "comment contains a carriage return");
    return id;
  }

  TensorDecl tensor() {
    TensorDecl t;
    size_t at = pos_;
    t.name = raw_string();
    if (!is_identifier(t.name)) corrupt_at(at, "tensor name is not an identifier");
    if (prog_->find_tensor(t.name) || !names_.insert(t.name).second)
      corrupt_at(at, fmt::format("duplicate tensor '{}'", t.name));
    if (version_ >= 2) {
      at = pos_;
      t.external_name = raw_string();
      if (t.external_name == t.name) corrupt_at(at, "external name repeats the tensor name");
      if (!t.external_name.empty() && !names_.insert(t.external_name).second)
        corrupt_at(at, fmt::format("duplicate tensor name \"{}\"", t.external_name));
    }
    t.role = static_cast<TensorRole>(u8_below(4, "tensor role"));
    t.dtype = static_cast<DType>(u8_below(kNumDTypes, "dtype"));
    uint64_t rank = ranged(0, 16, "tensor rank");
    int64_t elements = 1;
    for (uint64_t i = 0; i < rank; ++i) {
      t.shape.push_back(static_cast<int64_t>(ranged(0, uint64_t{1} << 40, "dimension")));
      // Divide first: elements * dim can overflow int64 (both up to 2^40).
      if (elements > 0 && t.shape.back() > (int64_t{1} << 40) / elements)
        corrupt("tensor larger than 2^40 elements");
      elements *= t.shape.back();
    }
    t.comment = comment_id();
    at = pos_;
    uint64_t len = uv();
    uint64_t want = t.role == TensorRole::Const ? static_cast<uint64_t>(t.num_bytes()) : 0;
    // Version 2: a const tensor may have no data (a timing-only program).
    if (len != want && !(len == 0 && version_ >= 2))
      corrupt_at(at, fmt::format("tensor '{}' data is {} bytes, expected {}", t.name, len, want));
    if (len > n_ - pos_) truncated();
    if (keep_data_) t.data.assign(d_ + pos_, d_ + pos_ + len);
    pos_ += len;
    return t;
  }

  AccessPattern ap(OperandKind kind) {
    AccessPattern a;
    size_t at = pos_;
    uint8_t b = u8();
    if (b >> 6) corrupt_at(at, "bad access pattern header");
    a.space = static_cast<MemSpace>(b & 3);
    a.ndims = (b >> 2) & 7;
    if (a.ndims > 4) corrupt_at(at, "more than 4 free dimensions");
    if (!operand_allows_space(kind, a.space))
      corrupt_at(at, fmt::format("memory space {} not allowed for a {} operand",
                                 mem_space_name(a.space), operand_kind_name(kind)));
    if (a.space == MemSpace::None) {
      if (b != 0) corrupt_at(at, "bad access pattern header");
      return a;
    }
    a.dtype = static_cast<DType>(u8_below(kNumDTypes, "dtype"));
    if (b & 0x20) a.offset_reg = static_cast<int8_t>(u8_below(kNumRegisters, "register"));
    if (a.space == MemSpace::Hbm) {
      a.tensor = static_cast<uint16_t>(ranged(0, 65535, "tensor"));
      if (a.tensor >= prog_->tensors.size()) corrupt("tensor index out of range");
      a.partition_stride = sv();
    } else {
      a.start_partition = static_cast<uint16_t>(ranged(0, 65535, "start partition"));
    }
    a.num_partitions = static_cast<int32_t>(
        ranged(1, a.space == MemSpace::Hbm ? kMaxHbmRows : 65535, "partition count"));
    a.offset = sv();
    for (int d = 0; d < a.ndims; ++d) {
      a.dims[d].stride = sv();
      a.dims[d].count = sranged(1, INT64_MAX, "count");
    }
    return a;
  }

  void stream(std::vector<Instr>& s, Engine e) {
    uint64_t n = count(2, "instruction count");
    s.reserve(n);
    std::set<std::string_view> labels;
    for (uint64_t k = 0; k < n; ++k) {
      size_t at = pos_;
      Instr in;
      in.op = static_cast<Opcode>(u8_below(kNumOpcodes, "opcode"));
      const OpcodeInfo& info = in.info();
      if (!(info.engines & engine_bit(e)))
        corrupt_at(at, fmt::format("'{}' is not allowed on engine {}", info.mnemonic, engine_name(e)));
      size_t fat = pos_;
      uint8_t flags = u8();
      in.num_waits = flags & 3;
      in.num_incs = (flags >> 2) & 3;
      if ((flags & 0x80) || in.num_waits > kMaxWaits || in.num_incs > kMaxIncs)
        corrupt_at(fat, "bad instruction flags");
      for (int i = 0; i < info.num_operands; ++i) operand(info.operands[i].kind, in.ops[i]);
      for (int i = 0; i < in.num_waits; ++i) {
        SemWait& w = in.waits[i];
        w.sem = static_cast<uint16_t>(ranged(0, 65535, "semaphore"));
        w.reg = static_cast<int8_t>(static_cast<int>(u8_below(kNumRegisters + 1, "register")) - 1);
        if (w.reg < 0) w.value = sv();
      }
      for (int i = 0; i < in.num_incs; ++i) {
        SemInc& c = in.incs[i];
        c.core = static_cast<int16_t>(sranged(-1, kMaxCores - 1, "core"));
        c.sem = static_cast<uint16_t>(ranged(0, 65535, "semaphore"));
        c.amount = static_cast<uint32_t>(ranged(1, UINT32_MAX, "increment"));
      }
      if (flags & 0x10) in.tag = nonzero_str_id("tag");
      if (flags & 0x20) {
        size_t lat = pos_;
        in.label = nonzero_str_id("label");
        const std::string& l = prog_->strings[in.label];
        if (!is_identifier(l)) corrupt_at(lat, "label is not an identifier");
        if (!labels.insert(l).second) corrupt_at(lat, fmt::format("duplicate label '{}'", l));
      }
      if (flags & 0x40) {
        size_t cat = pos_;
        in.comment = comment_id();
        if (in.comment == 0) corrupt_at(cat, "empty comment");
      }
      s.push_back(in);
    }
  }

  void operand(OperandKind k, Operand& o) {
    size_t at = pos_;
    switch (k) {
      case OperandKind::PsumAcc:
      case OperandKind::PsumOut:
      case OperandKind::SbufIn:
      case OperandKind::Out:
      case OperandKind::In:
      case OperandKind::OutOpt:
      case OperandKind::MemOut:
      case OperandKind::MemIn: o.ap = ap(k); return;
      case OperandKind::Scalar:
        o.ap = ap(k);
        if (!o.ap.present()) o.f = f32();
        return;
      case OperandKind::Float: o.f = f32(); return;
      case OperandKind::ActFn: o.i = u8_below(kNumActFns, "activation function"); return;
      case OperandKind::Alu: o.i = u8_below(kNumAluOps, "ALU op"); return;
      case OperandKind::AccFlag: o.i = u8_below(2, "accumulate flag"); return;
      case OperandKind::Reg: o.i = u8_below(kNumRegisters, "register"); return;
      case OperandKind::Engines:
        o.i = u8();
        if (o.i == 0 || (o.i & ~int64_t{E_ALL})) corrupt_at(at, "bad engine set");
        return;
      case OperandKind::Int: o.i = sv(); return;
      case OperandKind::Target: o.i = static_cast<int64_t>(ranged(0, INT64_MAX, "branch target")); return;
      case OperandKind::Queue: o.i = static_cast<int64_t>(ranged(0, 65535, "queue")); return;
    }
  }

  float f32() {
    if (n_ - pos_ < 4) truncated();
    float f;
    std::memcpy(&f, d_ + pos_, 4);
    pos_ += 4;
    return f;
  }

  const uint8_t* d_;
  size_t n_;
  size_t pos_ = 0;
  const std::string& file_;
  bool keep_data_;
  uint16_t version_ = kTbinVersion;
  std::set<std::string> names_;  // tensor names and external names
  Program* prog_ = nullptr;
  StrId next_str_ = 1;
};

}  // namespace

std::vector<uint8_t> encode_program(const Program& prog) { return Encoder(prog).run(); }

Program decode_program(const uint8_t* data, size_t size, const std::string& file_name,
                       bool keep_const_data) {
  return Decoder(data, size, file_name, keep_const_data).run();
}

void check_encoding(const uint8_t* data, size_t size, const std::string& file_name) {
  Decoder(data, size, file_name, false).run();
}

}  // namespace trnsim::isa
