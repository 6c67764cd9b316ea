#include "isa/asm.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <optional>

#include "support/error.h"

namespace trnsim::isa {

bool operand_allows_space(OperandKind k, MemSpace s) {
  switch (k) {
    case OperandKind::PsumAcc:
    case OperandKind::PsumOut: return s == MemSpace::Psum;
    case OperandKind::SbufIn: return s == MemSpace::Sbuf;
    case OperandKind::Out:
    case OperandKind::In: return s == MemSpace::Sbuf || s == MemSpace::Psum;
    case OperandKind::OutOpt:
    case OperandKind::Scalar:
      return s == MemSpace::Sbuf || s == MemSpace::Psum || s == MemSpace::None;
    case OperandKind::MemOut:
    case OperandKind::MemIn: return s != MemSpace::None;
    default: return s == MemSpace::None;
  }
}

bool is_identifier(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) return false;
  return true;
}

std::string to_identifier(std::string_view s) {
  std::string out;
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) out = "_";
  for (char c : s)
    out += std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ? c : '_';
  return out;
}

namespace {

constexpr int kMaxCores = 4096;
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(const std::vector<uint8_t>& d) {
  std::string out;
  out.reserve((d.size() + 2) / 3 * 4);
  for (size_t i = 0; i < d.size(); i += 3) {
    uint32_t v = uint32_t(d[i]) << 16;
    if (i + 1 < d.size()) v |= uint32_t(d[i + 1]) << 8;
    if (i + 2 < d.size()) v |= d[i + 2];
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < d.size() ? kB64[(v >> 6) & 63] : '=';
    out += i + 2 < d.size() ? kB64[v & 63] : '=';
  }
  return out;
}

// Returns the decoded bytes, or the index of the first bad character.
std::optional<std::vector<uint8_t>> base64_decode(std::string_view s, size_t* bad) {
  std::vector<uint8_t> out;
  if (s.size() % 4 != 0) {
    *bad = s.size();
    return std::nullopt;
  }
  out.reserve(s.size() / 4 * 3);
  for (size_t i = 0; i < s.size(); i += 4) {
    uint32_t v = 0;
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s[i + k];
      const char* p = c ? std::strchr(kB64, c) : nullptr;
      if (c == '=' && i + 4 == s.size() && k >= 2 && (k == 3 || s[i + 3] == '=')) {
        ++pad;
        v <<= 6;
      } else if (p && pad == 0) {
        v = (v << 6) | uint32_t(p - kB64);
      } else {
        *bad = i + k;
        return std::nullopt;
      }
    }
    out.push_back(uint8_t(v >> 16));
    if (pad < 2) out.push_back(uint8_t(v >> 8));
    if (pad < 1) out.push_back(uint8_t(v));
  }
  return out;
}

uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

bool is_bare_tag(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c <= 0x20 || c >= 0x7F || c == '"' || c == '\\') return false;
  return true;
}

// "text" with the escapes the parser reads back (\" \\ \n \t \xHH).
std::string quote_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7F) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string format_tag(std::string_view s) {
  return is_bare_tag(s) ? "@" + std::string(s) : "@" + quote_string(s);
}

void append_comment(std::string& out, const std::string& text, const char* indent) {
  size_t start = 0;
  while (true) {
    size_t nl = text.find('\n', start);
    std::string_view line(text.data() + start, (nl == std::string::npos ? text.size() : nl) - start);
    out += indent;
    out += line.empty() ? "#" : "# ";
    out += line;
    out += '\n';
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
}

std::string engines_text(int64_t mask) {
  std::string out;
  for (int e = 0; e < kNumEngines; ++e)
    if (mask & (int64_t{1} << e)) {
      if (!out.empty()) out += '|';
      out += engine_name(static_cast<Engine>(e));
    }
  return out.empty() ? "?" : out;
}

std::string format_operand(const Program& prog, const std::vector<Instr>& stream, OperandKind k,
                           const Operand& o) {
  switch (k) {
    case OperandKind::PsumAcc:
    case OperandKind::PsumOut:
    case OperandKind::SbufIn:
    case OperandKind::Out:
    case OperandKind::In:
    case OperandKind::OutOpt:
    case OperandKind::MemOut:
    case OperandKind::MemIn: return o.ap.present() ? format_access_pattern(prog, o.ap) : "-";
    case OperandKind::Scalar: return o.ap.present() ? format_access_pattern(prog, o.ap) : format_float(o.f);
    case OperandKind::Float: return format_float(o.f);
    case OperandKind::ActFn:
      return o.i >= 0 && o.i < kNumActFns ? std::string(act_fn_name(static_cast<ActFn>(o.i))) : "?";
    case OperandKind::Alu:
      return o.i >= 0 && o.i < kNumAluOps ? std::string(alu_op_name(static_cast<AluOp>(o.i))) : "?";
    case OperandKind::AccFlag: return o.i == 0 ? "zero" : "acc";
    case OperandKind::Int: return std::to_string(o.i);
    case OperandKind::Reg: return fmt::format("r{}", o.i);
    case OperandKind::Queue: return fmt::format("q{}", o.i);
    case OperandKind::Engines: return engines_text(o.i);
    case OperandKind::Target:
      if (o.i >= 0 && static_cast<size_t>(o.i) < stream.size() && stream[o.i].label != 0)
        return prog.str(stream[o.i].label);
      return fmt::format("#{}", o.i);
  }
  return "?";
}

// ---- Parsing ------------------------------------------------------------------------------

// A cursor over one source line; every error names FILE:LINE:COL.
class Line {
 public:
  Line(const std::string& file, int line, std::string_view text)
      : file_(file), line_(line), s_(text) {}

  [[noreturn]] void fail_at(size_t pos, const std::string& msg) const {
    throw InputError(fmt::format("{}:{}:{}: {}", file_, line_, pos + 1, msg));
  }
  [[noreturn]] void fail(const std::string& msg) const { fail_at(pos_, msg); }
  [[noreturn]] void expected(const std::string& what) {
    skip_ws();
    fail(fmt::format("expected {}, found {}", what, found()));
  }

  // Describes the token at the cursor for "found Y".
  std::string found() const {
    if (pos_ >= s_.size()) return "end of line";
    size_t e = pos_;
    while (e < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[e])) || s_[e] == '_')) ++e;
    if (e == pos_) e = pos_ + 1;
    return fmt::format("'{}'", s_.substr(pos_, e - pos_));
  }

  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  bool at_end() {
    skip_ws();
    return pos_ >= s_.size();
  }
  char peek() {
    skip_ws();
    return pos_ < s_.size() ? s_[pos_] : '\0';
  }
  bool accept(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  void expect(char c) {
    if (!accept(c)) expected(fmt::format("'{}'", c));
  }
  void expect_end() {
    if (!at_end()) expected("end of line");
  }
  size_t pos() {
    skip_ws();
    return pos_;
  }
  void set_pos(size_t p) { pos_ = p; }
  std::string_view rest() const { return s_.substr(pos_); }
  std::string_view text() const { return s_; }

  // [A-Za-z_][A-Za-z0-9_]* (and '.' inside when `dots`); empty when none.
  std::string_view ident(bool dots = false) {
    skip_ws();
    size_t b = pos_;
    if (pos_ < s_.size() && (std::isalpha(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) {
      ++pos_;
      while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) ||
                                  s_[pos_] == '_' || (dots && s_[pos_] == '.')))
        ++pos_;
    }
    return s_.substr(b, pos_ - b);
  }
  std::string_view expect_ident(const std::string& what, bool dots = false) {
    auto id = ident(dots);
    if (id.empty()) expected(what);
    return id;
  }

  // A decimal integer with optional sign, in [lo, hi].
  int64_t integer(const std::string& what, int64_t lo = INT64_MIN, int64_t hi = INT64_MAX) {
    skip_ws();
    size_t b = pos_;
    size_t e = pos_;
    if (e < s_.size() && (s_[e] == '-' || s_[e] == '+')) ++e;
    size_t digits = e;
    while (e < s_.size() && std::isdigit(static_cast<unsigned char>(s_[e]))) ++e;
    if (e == digits) expected(what);
    int64_t v = 0;
    const char* first = s_.data() + b + (s_[b] == '+' ? 1 : 0);
    auto r = std::from_chars(first, s_.data() + e, v);
    if (r.ec != std::errc() || v < lo || v > hi) {
      std::string range = hi == INT64_MAX ? fmt::format(">= {}", lo) : fmt::format("{}..{}", lo, hi);
      fail_at(b, fmt::format("{} {} out of range ({})", what, s_.substr(b, e - b), range));
    }
    pos_ = e;
    return v;
  }

  // A word like r3, s5, q0, c1: the prefix letter and a number in [0, hi].
  int64_t prefixed(char prefix, const std::string& what, int64_t hi) {
    skip_ws();
    size_t b = pos_;
    auto id = ident();
    if (id.size() < 2 || id[0] != prefix ||
        id.find_first_not_of("0123456789", 1) != std::string_view::npos) {
      pos_ = b;
      expected(fmt::format("{} ({}N)", what, prefix));
    }
    int64_t v = 0;
    auto r = std::from_chars(id.data() + 1, id.data() + id.size(), v);
    if (r.ec != std::errc() || v > hi)
      fail_at(b, fmt::format("{} {} out of range ({}0..{}{})", what, id, prefix, prefix, hi));
    return v;
  }

  float floating(const std::string& what) {
    skip_ws();
    size_t b = pos_;
    size_t e = pos_;
    while (e < s_.size() && s_[e] != ',' && s_[e] != ' ' && s_[e] != '\t') ++e;
    std::string_view tok = s_.substr(b, e - b);
    float f = 0;
    bool ok = false;
    if (tok.substr(0, 6) == "nan:0x" && tok.size() > 6 && tok.size() <= 14) {
      uint32_t bits = 0;
      auto r = std::from_chars(tok.data() + 6, tok.data() + tok.size(), bits, 16);
      ok = r.ec == std::errc() && r.ptr == tok.data() + tok.size();
      std::memcpy(&f, &bits, 4);
      ok = ok && std::isnan(f);
    } else if (tok == "nan" || tok == "-nan") {
      uint32_t bits = tok[0] == '-' ? 0xFFC00000u : 0x7FC00000u;
      std::memcpy(&f, &bits, 4);
      ok = true;
    } else if (!tok.empty() && tok != "+" && tok.find_first_of("nN") == std::string_view::npos) {
      const char* first = tok.data() + (tok[0] == '+' ? 1 : 0);
      auto r = std::from_chars(first, tok.data() + tok.size(), f);
      ok = r.ptr == tok.data() + tok.size() &&
           (r.ec == std::errc() || r.ec == std::errc::result_out_of_range);
      if (r.ec == std::errc::result_out_of_range)
        fail_at(b, fmt::format("{} {} out of fp32 range", what, tok));
    } else if (tok == "inf" || tok == "-inf" || tok == "+inf") {
      f = tok[0] == '-' ? -INFINITY : INFINITY;
      ok = true;
    }
    if (!ok) {
      if (tok.empty()) expected(what);
      fail_at(b, fmt::format("expected {}, found '{}'", what, tok));
    }
    pos_ = e;
    return f;
  }

 private:
  const std::string& file_;
  int line_;
  std::string_view s_;
  size_t pos_ = 0;
};

struct Fixup {
  int core;
  int engine;
  size_t index;
  int operand;
  std::string label;
  int line;
  size_t col;
};

class Assembler {
 public:
  Assembler(std::string_view text, const std::string& file) : text_(text), file_(file) {
    prog_.source_name = file;
  }

  Program run() {
    int lineno = 0;
    size_t start = 0;
    while (start <= text_.size()) {
      size_t nl = text_.find('\n', start);
      if (nl == std::string_view::npos && start == text_.size()) break;
      size_t end = nl == std::string_view::npos ? text_.size() : nl;
      std::string_view s = text_.substr(start, end - start);
      if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
      ++lineno;
      Line line(file_, lineno, s);
      do_line(line, lineno);
      if (nl == std::string_view::npos) break;
      start = nl + 1;
    }
    check_pending_label();
    resolve_labels();
    return std::move(prog_);
  }

 private:
  void do_line(Line& l, int lineno) {
    if (l.at_end()) {
      if (!seen_item_ && !header_set_ && !comment_.empty()) {
        prog_.header_comment = prog_.intern(take_comment());
        header_set_ = true;
      }
      return;
    }
    char c = l.peek();
    if (c == '#') {
      // The .tbin decoder rejects comments with a CR (a trailing one cannot survive the text
      // form), so the assembler must not produce them.
      if (size_t cr = l.rest().find('\r'); cr != std::string_view::npos)
        l.fail_at(l.pos() + cr, "carriage return inside a comment");
      std::string_view rest = l.rest().substr(1);
      if (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
      comment_.emplace_back(rest);
      return;
    }
    seen_item_ = true;
    if (c == '.') {
      size_t p = l.pos();
      l.set_pos(p + 1);
      auto d = l.ident();
      if (d == "tensor") return do_tensor(l);
      if (d == "core") return do_core(l);
      if (d == "engine") return do_engine(l);
      l.fail_at(p, fmt::format("unknown directive '.{}' (expected .tensor, .core or .engine)", d));
    }
    size_t p = l.pos();
    auto word = l.expect_ident("a mnemonic, label, directive or comment", true);
    if (l.accept(':')) {
      l.expect_end();
      if (core_ < 0 || engine_ < 0)
        l.fail_at(p, fmt::format("label before {}", core_ < 0 ? ".core" : ".engine"));
      if (!pending_label_.empty())
        l.fail_at(p, fmt::format("second label '{}' for one instruction (already '{}')", word,
                                 pending_label_));
      if (!labels_[{core_, engine_}].emplace(std::string(word), stream().size()).second)
        l.fail_at(p, fmt::format("duplicate label '{}'", word));
      pending_label_ = word;
      pending_label_line_ = lineno;
      return;
    }
    do_instr(l, lineno, p, word);
  }

  std::string take_comment() {
    std::string s;
    for (size_t i = 0; i < comment_.size(); ++i) {
      if (i) s += '\n';
      s += comment_[i];
    }
    comment_.clear();
    return s;
  }
  StrId take_comment_id() { return comment_.empty() ? 0 : prog_.intern(take_comment()); }

  void check_pending_label() {
    if (!pending_label_.empty())
      throw InputError(fmt::format("{}:{}: label '{}' is not followed by an instruction", file_,
                                   pending_label_line_, pending_label_));
  }

  std::vector<Instr>& stream() { return prog_.cores[core_].streams[engine_]; }

  void do_tensor(Line& l) {
    size_t p = l.pos();
    auto name = l.expect_ident("a tensor name", true);
    if (prog_.find_tensor(name) || names_.count(std::string(name)))
      l.fail_at(p, fmt::format("duplicate tensor '{}'", name));
    if (prog_.tensors.size() >= 65535) l.fail_at(p, "too many tensors (max 65535)");
    TensorDecl t;
    t.name = name;
    names_.insert(t.name);
    p = l.pos();
    auto role = l.expect_ident("a tensor role (input, output, const, scratch)");
    auto r = parse_tensor_role(role);
    if (!r) l.fail_at(p, fmt::format("unknown tensor role '{}' (input, output, const, scratch)", role));
    t.role = *r;
    t.dtype = dtype(l);
    l.expect('[');
    int64_t elements = 1;
    if (!l.accept(']')) {
      do {
        if (t.shape.size() >= 16) l.fail("more than 16 tensor dimensions");
        // A zero dimension is an empty tensor (valid ONNX: an empty slice, a zero-length
        // KV-cache past); it takes no HBM and no instruction touches it.
        int64_t d = l.integer("dimension", 0, int64_t{1} << 40);
        // Divide first: elements * d can overflow int64 (both up to 2^40).
        if (elements > 0 && d > (int64_t{1} << 40) / elements)
          l.fail("tensor larger than 2^40 elements");
        elements *= d;
        t.shape.push_back(d);
      } while (l.accept(','));
      l.expect(']');
    }
    if (l.peek() == 'n') {
      size_t np = l.pos();
      if (l.ident() != "name") {
        l.set_pos(np);
        l.expected("'name', '=' or end of line");
      }
      t.external_name = quoted(l, "tensor name");
      if (t.external_name == t.name) t.external_name.clear();
      if (!t.external_name.empty() && !names_.insert(t.external_name).second)
        l.fail_at(np, fmt::format("duplicate tensor name \"{}\"", t.external_name));
    }
    if (l.accept('=')) {
      size_t dp = l.pos();
      if (t.role != TensorRole::Const) l.fail_at(dp, "only const tensors carry data");
      if (l.rest().substr(0, 6) == "absent") {  // a timing-only program: no values
        l.set_pos(dp + 6);
        l.expect_end();
      } else {
        if (l.rest().substr(0, 7) != "base64:") l.expected("base64: or absent");
        l.set_pos(dp + 7);
        std::string_view b64 = l.rest();
        while (!b64.empty() && (b64.back() == ' ' || b64.back() == '\t')) b64.remove_suffix(1);
        size_t bad = 0;
        auto data = base64_decode(b64, &bad);
        if (!data) l.fail_at(dp + 7 + bad, "bad base64 data");
        if (static_cast<int64_t>(data->size()) != t.num_bytes())
          l.fail_at(dp, fmt::format("tensor '{}' data is {} bytes, expected {}", t.name,
                                    data->size(), t.num_bytes()));
        t.data = std::move(*data);
      }
    } else {
      l.expect_end();
      if (t.role == TensorRole::Const)
        l.fail_at(p, fmt::format("const tensor '{}' needs data: = base64:... (or = absent)",
                                 t.name));
    }
    t.comment = take_comment_id();
    prog_.tensors.push_back(std::move(t));
  }

  void do_core(Line& l) {
    check_pending_label();
    core_ = static_cast<int>(l.integer("core number", 0, kMaxCores - 1));
    l.expect_end();
    if (static_cast<int>(prog_.cores.size()) <= core_) prog_.cores.resize(core_ + 1);
    engine_ = -1;
  }

  void do_engine(Line& l) {
    check_pending_label();
    size_t p = l.pos();
    if (core_ < 0) l.fail_at(p, ".engine before .core");
    auto name = l.expect_ident("an engine name");
    auto e = parse_engine(name);
    if (!e) l.fail_at(p, fmt::format("unknown engine '{}'", name));
    l.expect_end();
    engine_ = static_cast<int>(*e);
  }

  DType dtype(Line& l) {
    size_t p = l.pos();
    auto name = l.expect_ident("a dtype");
    auto t = parse_dtype(name);
    if (!t) l.fail_at(p, fmt::format("unknown dtype '{}'", name));
    return *t;
  }

  AccessPattern access_pattern(Line& l, OperandKind kind) {
    size_t p = l.pos();
    auto sp = l.ident();
    AccessPattern ap;
    if (sp == "sbuf") ap.space = MemSpace::Sbuf;
    else if (sp == "psum") ap.space = MemSpace::Psum;
    else if (sp == "hbm") ap.space = MemSpace::Hbm;
    else {
      l.set_pos(p);
      l.expected(fmt::format("an access pattern ({})", space_list(kind)));
    }
    if (!operand_allows_space(kind, ap.space))
      l.fail_at(p, fmt::format("expected an access pattern in {}, found '{}'", space_list(kind), sp));
    if (ap.space == MemSpace::Hbm) {
      l.expect('.');
      size_t tp = l.pos();
      auto name = l.expect_ident("a tensor name", true);
      auto t = prog_.find_tensor(name);
      if (!t) l.fail_at(tp, fmt::format("unknown tensor '{}'", name));
      ap.tensor = static_cast<uint16_t>(*t);
    } else {
      l.expect('[');
      int64_t p0 = l.integer("start partition", 0, 65535);
      l.expect(':');
      size_t ep = l.pos();
      int64_t p1 = l.integer("end partition", 0, INT64_MAX);
      if (p1 <= p0 || p1 - p0 > 65535)
        l.fail_at(ep, fmt::format("bad partition range {}:{} (need start < end <= start+65535)", p0, p1));
      l.expect(']');
      ap.start_partition = static_cast<uint16_t>(p0);
      ap.num_partitions = static_cast<int32_t>(p1 - p0);
    }
    char sign = l.peek();
    if (sign != '+' && sign != '-') l.expected("'+OFFSET' (byte offset)");
    ap.offset = l.integer("byte offset");
    if (l.accept('+')) ap.offset_reg = static_cast<int8_t>(l.prefixed('r', "register", kNumRegisters - 1));
    l.expect(':');
    ap.dtype = dtype(l);
    if (ap.space == MemSpace::Hbm) {
      l.expect('{');
      ap.partition_stride = l.integer("row stride");
      l.expect(',');
      ap.num_partitions = static_cast<int32_t>(l.integer("row count", 1, kMaxHbmRows));
      l.expect('}');
    }
    while (l.peek() == '[') {
      if (ap.ndims >= 4) l.fail("more than 4 free dimensions");
      l.expect('[');
      Dim& d = ap.dims[ap.ndims++];
      d.stride = l.integer("stride");
      l.expect(',');
      d.count = l.integer("count", 1, INT64_MAX);
      l.expect(']');
    }
    return ap;
  }

  static std::string space_list(OperandKind k) {
    std::string out;
    for (auto s : {MemSpace::Sbuf, MemSpace::Psum, MemSpace::Hbm})
      if (operand_allows_space(k, s)) out += std::string(out.empty() ? "" : "|") + std::string(mem_space_name(s));
    return out;
  }

  Operand operand(Line& l, OperandKind k, int index) {
    Operand o;
    size_t p = l.pos();
    switch (k) {
      case OperandKind::OutOpt:
        if (l.accept('-')) return o;
        o.ap = access_pattern(l, k);
        return o;
      case OperandKind::PsumAcc:
      case OperandKind::PsumOut:
      case OperandKind::SbufIn:
      case OperandKind::Out:
      case OperandKind::In:
      case OperandKind::MemOut:
      case OperandKind::MemIn: o.ap = access_pattern(l, k); return o;
      case OperandKind::Scalar:
        if (std::isalpha(static_cast<unsigned char>(l.peek())) && l.rest().substr(0, 3) != "inf" &&
            l.rest().substr(0, 3) != "nan")
          o.ap = access_pattern(l, k);
        else
          o.f = l.floating("a float or an access pattern");
        return o;
      case OperandKind::Float: o.f = l.floating("a float"); return o;
      case OperandKind::ActFn: {
        auto n = l.expect_ident("an activation function");
        auto f = parse_act_fn(n);
        if (!f) l.fail_at(p, fmt::format("unknown activation function '{}'", n));
        o.i = static_cast<int64_t>(*f);
        return o;
      }
      case OperandKind::Alu: {
        auto n = l.expect_ident("an ALU op");
        auto f = parse_alu_op(n);
        if (!f) l.fail_at(p, fmt::format("unknown ALU op '{}'", n));
        o.i = static_cast<int64_t>(*f);
        return o;
      }
      case OperandKind::AccFlag: {
        auto n = l.ident();
        if (n == "zero") o.i = 0;
        else if (n == "acc") o.i = 1;
        else {
          l.set_pos(p);
          l.expected("zero or acc");
        }
        return o;
      }
      case OperandKind::Int: o.i = l.integer("an integer"); return o;
      case OperandKind::Reg: o.i = l.prefixed('r', "register", kNumRegisters - 1); return o;
      case OperandKind::Queue: o.i = l.prefixed('q', "queue", 65535); return o;
      case OperandKind::Engines:
        do {
          size_t ep = l.pos();
          auto n = l.expect_ident("an engine name");
          auto e = parse_engine(n);
          if (!e) l.fail_at(ep, fmt::format("unknown engine '{}'", n));
          o.i |= engine_bit(*e);
        } while (l.accept('|'));
        return o;
      case OperandKind::Target:
        if (l.accept('#')) {
          o.i = l.integer("an instruction index", 0);
        } else {
          auto n = l.expect_ident("a label", true);
          fixups_.push_back({core_, engine_, stream().size(), index, std::string(n), line_, p});
        }
        return o;
    }
    return o;
  }

  void do_instr(Line& l, int lineno, size_t p, std::string_view mnemonic) {
    line_ = lineno;
    auto op = parse_mnemonic(mnemonic);
    if (!op) l.fail_at(p, fmt::format("unknown mnemonic '{}'", mnemonic));
    if (core_ < 0) l.fail_at(p, "instruction before .core");
    if (engine_ < 0) l.fail_at(p, "instruction before .engine");
    const OpcodeInfo& info = opcode_info(*op);
    auto eng = static_cast<Engine>(engine_);
    if (!(info.engines & engine_bit(eng)))
      l.fail_at(p, fmt::format("'{}' is not allowed on engine {} (allowed: {})", mnemonic,
                               engine_name(eng), engines_text(info.engines)));
    Instr in;
    in.op = *op;
    in.line = static_cast<uint32_t>(lineno);
    std::string names;
    for (int k = 0; k < info.num_operands; ++k)
      names += fmt::format("{}{}", k ? ", " : "", info.operands[k].name);
    auto count_error = [&](const char* found) {
      l.fail(fmt::format("'{}' takes {} operand{} ({}), found {}", mnemonic, info.num_operands,
                         info.num_operands == 1 ? "" : "s", names, found));
    };
    auto at_sync = [&] {
      char c = l.peek();
      return c == '\0' || c == '@' || l.rest().substr(0, 5) == "wait(" || l.rest().substr(0, 4) == "inc(";
    };
    for (int k = 0; k < info.num_operands; ++k) {
      if (k > 0 && !l.accept(',')) {
        if (at_sync()) count_error(fmt::format("{}", k).c_str());
        l.expected("','");
      }
      if (k == 0 && at_sync()) count_error("0");
      in.ops[k] = operand(l, info.operands[k].kind, k);
    }
    if (l.peek() == ',') count_error("more");
    sync_and_tag(l, in);
    if (!pending_label_.empty()) {
      in.label = prog_.intern(pending_label_);
      pending_label_.clear();
    }
    in.comment = take_comment_id();
    stream().push_back(in);
  }

  void sync_and_tag(Line& l, Instr& in) {
    while (!l.at_end()) {
      size_t p = l.pos();
      if (l.accept('@')) {
        in.tag = prog_.intern(tag(l));
        l.expect_end();
        return;
      }
      auto w = l.ident();
      if (w == "wait") {
        if (in.num_waits >= kMaxWaits) l.fail_at(p, "more than 2 waits");
        SemWait& sw = in.waits[in.num_waits++];
        l.expect('(');
        sw.sem = static_cast<uint16_t>(l.prefixed('s', "semaphore", 65535));
        l.expect('>');
        l.expect('=');
        if (std::isalpha(static_cast<unsigned char>(l.peek())))
          sw.reg = static_cast<int8_t>(l.prefixed('r', "register", kNumRegisters - 1));
        else
          sw.value = l.integer("a semaphore value");
        l.expect(')');
      } else if (w == "inc") {
        if (in.num_incs >= kMaxIncs) l.fail_at(p, "more than 2 increments");
        SemInc& si = in.incs[in.num_incs++];
        l.expect('(');
        if (l.peek() == 'c') {
          si.core = static_cast<int16_t>(l.prefixed('c', "core", kMaxCores - 1));
          l.expect('.');
        }
        si.sem = static_cast<uint16_t>(l.prefixed('s', "semaphore", 65535));
        if (l.accept(',')) si.amount = static_cast<uint32_t>(l.integer("an amount", 1, UINT32_MAX));
        l.expect(')');
      } else {
        l.set_pos(p);
        l.expected("wait(...), inc(...), @tag or end of line");
      }
    }
  }

  std::string tag(Line& l) {
    std::string_view r = l.rest();
    if (r.empty() || r[0] == ' ' || r[0] == '\t') l.expected("a tag name");
    if (r[0] != '"') {
      size_t e = 0;
      while (e < r.size() && r[e] != ' ' && r[e] != '\t') ++e;
      std::string out(r.substr(0, e));
      l.set_pos(l.pos() + e);
      return out;
    }
    return quoted(l, "tag");
  }

  // A double-quoted, non-empty string with the escapes format_tag writes.
  std::string quoted(Line& l, const char* what) {
    size_t base = l.pos();
    std::string_view r = l.rest();
    if (r.empty() || r[0] != '"') l.expected(fmt::format("a quoted {}", what));
    std::string out;
    size_t i = 1;
    while (true) {
      if (i >= r.size()) l.fail_at(base + i, fmt::format("unterminated {} string", what));
      char c = r[i];
      if (c == '"') break;
      if (c == '\\') {
        if (i + 1 >= r.size()) l.fail_at(base + i, fmt::format("unterminated {} string", what));
        char e = r[i + 1];
        if (e == '"' || e == '\\') out += e;
        else if (e == 'n') out += '\n';
        else if (e == 't') out += '\t';
        else if (e == 'x' && i + 3 < r.size() && std::isxdigit(static_cast<unsigned char>(r[i + 2])) &&
                 std::isxdigit(static_cast<unsigned char>(r[i + 3]))) {
          out += static_cast<char>(std::stoi(std::string(r.substr(i + 2, 2)), nullptr, 16));
          i += 2;
        } else {
          l.fail_at(base + i, fmt::format("bad escape in {} string (use \\\" \\\\ \\n \\t \\xHH)", what));
        }
        i += 2;
        continue;
      }
      out += c;
      ++i;
    }
    if (out.empty()) l.fail_at(base, fmt::format("empty {}", what));
    l.set_pos(base + i + 1);
    return out;
  }

  void resolve_labels() {
    for (const auto& f : fixups_) {
      const auto& m = labels_[{f.core, f.engine}];
      auto it = m.find(f.label);
      if (it == m.end())
        throw InputError(fmt::format("{}:{}:{}: undefined label '{}'", file_, f.line, f.col + 1, f.label));
      prog_.cores[f.core].streams[f.engine][f.index].ops[f.operand].i = static_cast<int64_t>(it->second);
    }
  }

  std::string_view text_;
  const std::string& file_;
  Program prog_;
  std::set<std::string> names_;  // tensor names and external names: each names one tensor
  int core_ = -1;
  int engine_ = -1;
  int line_ = 0;
  bool seen_item_ = false;
  bool header_set_ = false;
  std::vector<std::string> comment_;
  std::string pending_label_;
  int pending_label_line_ = 0;
  std::map<std::pair<int, int>, std::map<std::string, size_t>> labels_;
  std::vector<Fixup> fixups_;
};

}  // namespace

std::string format_float(float f) {
  if (std::isnan(f)) {
    uint32_t b = float_bits(f);
    if (b == 0x7FC00000u) return "nan";
    if (b == 0xFFC00000u) return "-nan";
    return fmt::format("nan:0x{:08x}", b);
  }
  if (std::isinf(f)) return f < 0 ? "-inf" : "inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, f);
  return std::string(buf, r.ptr);
}

std::string format_access_pattern(const Program& prog, const AccessPattern& ap) {
  std::string out;
  if (ap.space == MemSpace::Hbm) {
    out = ap.tensor < prog.tensors.size() ? "hbm." + prog.tensors[ap.tensor].name
                                          : fmt::format("hbm.?{}", ap.tensor);
  } else {
    out = fmt::format("{}[{}:{}]", mem_space_name(ap.space), ap.start_partition,
                      ap.start_partition + ap.num_partitions);
  }
  out += fmt::format("{:+d}", ap.offset);
  if (ap.offset_reg >= 0) out += fmt::format("+r{}", ap.offset_reg);
  out += ':';
  out += dtype_name(ap.dtype);
  if (ap.space == MemSpace::Hbm) out += fmt::format("{{{},{}}}", ap.partition_stride, ap.num_partitions);
  for (int d = 0; d < ap.ndims && d < 4; ++d)
    out += fmt::format("[{},{}]", ap.dims[d].stride, ap.dims[d].count);
  return out;
}

std::string format_instr(const Program& prog, const std::vector<Instr>& stream, size_t index) {
  const Instr& in = stream[index];
  const OpcodeInfo& info = in.info();
  std::string out = info.mnemonic;
  for (int k = 0; k < info.num_operands; ++k) {
    out += k ? ", " : " ";
    out += format_operand(prog, stream, info.operands[k].kind, in.ops[k]);
  }
  std::string sync;
  auto add = [&](const std::string& s) {
    sync += sync.empty() ? "  " : " ";
    sync += s;
  };
  for (int k = 0; k < in.num_waits && k < kMaxWaits; ++k) {
    const SemWait& w = in.waits[k];
    add(w.reg >= 0 ? fmt::format("wait(s{}>=r{})", w.sem, w.reg)
                   : fmt::format("wait(s{}>={})", w.sem, w.value));
  }
  for (int k = 0; k < in.num_incs && k < kMaxIncs; ++k) {
    const SemInc& c = in.incs[k];
    std::string s = "inc(";
    if (c.core >= 0) s += fmt::format("c{}.", c.core);
    s += fmt::format("s{}", c.sem);
    if (c.amount != 1) s += fmt::format(",{}", c.amount);
    add(s + ")");
  }
  if (in.tag != 0) add(format_tag(prog.str(in.tag)));
  return out + sync;
}

std::string disassemble(const Program& prog) {
  std::string out;
  if (prog.header_comment != 0) {
    append_comment(out, prog.str(prog.header_comment), "");
    out += '\n';
  }
  for (const auto& t : prog.tensors) {
    if (t.comment != 0) append_comment(out, prog.str(t.comment), "");
    out += fmt::format(".tensor {} {} {} [", t.name, tensor_role_name(t.role), dtype_name(t.dtype));
    for (size_t i = 0; i < t.shape.size(); ++i) out += fmt::format("{}{}", i ? ", " : "", t.shape[i]);
    out += ']';
    if (!t.external_name.empty()) out += " name " + quote_string(t.external_name);
    if (t.data_absent()) out += " = absent";
    else if (t.role == TensorRole::Const) out += " = base64:" + base64_encode(t.data);
    out += '\n';
  }
  if (!prog.tensors.empty() && !prog.cores.empty()) out += '\n';
  for (size_t c = 0; c < prog.cores.size(); ++c) {
    if (c > 0) out += '\n';
    out += fmt::format(".core {}\n", c);
    for (int e = 0; e < kNumEngines; ++e) {
      const auto& stream = prog.cores[c].streams[e];
      if (stream.empty()) continue;
      out += fmt::format(".engine {}\n", engine_name(static_cast<Engine>(e)));
      for (size_t k = 0; k < stream.size(); ++k) {
        const Instr& in = stream[k];
        if (in.comment != 0) append_comment(out, prog.str(in.comment), "  ");
        if (in.label != 0) out += prog.str(in.label) + ":\n";
        out += "  " + format_instr(prog, stream, k) + "\n";
      }
    }
  }
  return out;
}

Program assemble(std::string_view text, const std::string& file_name) {
  return Assembler(text, file_name).run();
}

}  // namespace trnsim::isa
