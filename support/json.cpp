// JSON writer and reader (see json.h). The reader drives nlohmann's SAX parser, which lexes and
// validates, and builds Values itself: members in document order, duplicate keys refused, int64
// kept exact. nlohmann stays out of the headers (it is heavy to compile).
#include "support/json.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <unordered_set>

#include "support/error.h"
#include "support/file_util.h"

namespace trnsim::json {

// ---- escaping and numbers -------------------------------------------------------------------

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when the bytes there are not one.
size_t utf8_sequence_length(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  // Reject overlong forms, surrogates and code points past U+10FFFF.
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  return n;
}

}  // namespace

void append_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  // start of the pending run of bytes copied verbatim
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      size_t n = utf8_sequence_length(s, i);
      if (n > 0) {
        i += n;
        continue;
      }
    }
    out.append(s.data() + run, i - run);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out += "\\ufffd";  // a byte that is not part of valid UTF-8
        }
    }
    run = ++i;
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void append_double(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  fmt::format_to(std::back_inserter(out), "{}", v);
}

// ---- Writer ---------------------------------------------------------------------------------

Writer::Writer(std::string* out, bool pretty, int indent)
    : out_(out), pretty_(pretty), indent_(indent) {}

Writer::Writer(std::FILE* out, bool pretty, int indent)
    : out_(&own_), file_(out), pretty_(pretty), indent_(indent) {
  own_.reserve(1 << 16);
}

Writer::~Writer() {
  if (file_ && !own_.empty()) std::fwrite(own_.data(), 1, own_.size(), file_);
}

void Writer::flush() {
  if (!file_) return;
  if (!own_.empty()) std::fwrite(own_.data(), 1, own_.size(), file_);
  own_.clear();
  std::fflush(file_);
}

void Writer::maybe_flush() {
  if (file_ && own_.size() >= (1 << 16)) {
    std::fwrite(own_.data(), 1, own_.size(), file_);
    own_.clear();
  }
}

void Writer::newline_indent(size_t depth) {
  out_->push_back('\n');
  out_->append(depth * static_cast<size_t>(indent_), ' ');
}

void Writer::before_value() {
  if (stack_.empty()) {
    if (wrote_top_) throw std::logic_error("json::Writer: second top-level value");
    wrote_top_ = true;
    return;
  }
  Level& l = stack_.back();
  if (l.ctx == Ctx::Object) {
    if (!l.have_key) throw std::logic_error("json::Writer: object member needs a key first");
    l.have_key = false;
    return;
  }
  if (!l.first) out_->push_back(',');
  l.first = false;
  if (pretty_) newline_indent(stack_.size());
}

Writer& Writer::key(std::string_view k) {
  if (stack_.empty() || stack_.back().ctx != Ctx::Object || stack_.back().have_key)
    throw std::logic_error("json::Writer: key outside an object or twice in a row");
  Level& l = stack_.back();
  if (!l.first) out_->push_back(',');
  l.first = false;
  l.have_key = true;
  if (pretty_) newline_indent(stack_.size());
  append_string(*out_, k);
  out_->append(pretty_ ? ": " : ":");
  return *this;
}

Writer& Writer::begin_object() {
  before_value();
  out_->push_back('{');
  stack_.push_back({Ctx::Object});
  return *this;
}

Writer& Writer::begin_array() {
  before_value();
  out_->push_back('[');
  stack_.push_back({Ctx::Array});
  return *this;
}

Writer& Writer::end_object() {
  if (stack_.empty() || stack_.back().ctx != Ctx::Object || stack_.back().have_key)
    throw std::logic_error("json::Writer: end_object without a matching begin_object");
  bool empty = stack_.back().first;
  stack_.pop_back();
  if (pretty_ && !empty) newline_indent(stack_.size());
  out_->push_back('}');
  maybe_flush();
  return *this;
}

Writer& Writer::end_array() {
  if (stack_.empty() || stack_.back().ctx != Ctx::Array)
    throw std::logic_error("json::Writer: end_array without a matching begin_array");
  bool empty = stack_.back().first;
  stack_.pop_back();
  if (pretty_ && !empty) newline_indent(stack_.size());
  out_->push_back(']');
  maybe_flush();
  return *this;
}

Writer& Writer::value(std::string_view s) {
  before_value();
  append_string(*out_, s);
  return *this;
}

Writer& Writer::value(bool b) {
  before_value();
  out_->append(b ? "true" : "false");
  return *this;
}

Writer& Writer::value(double d) {
  before_value();
  append_double(*out_, d);
  return *this;
}

Writer& Writer::value_int(int64_t v) {
  before_value();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_->append(buf, r.ptr);
  return *this;
}

Writer& Writer::value_uint(uint64_t v) {
  before_value();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_->append(buf, r.ptr);
  return *this;
}

Writer& Writer::null() {
  before_value();
  out_->append("null");
  return *this;
}

Writer& Writer::raw(std::string_view json) {
  before_value();
  out_->append(json);
  return *this;
}

// ---- Value ----------------------------------------------------------------------------------

Value Value::make_bool(bool b) {
  Value v;
  v.type_ = Type::Bool;
  v.bool_ = b;
  return v;
}
Value Value::make_number(double d) {
  Value v;
  v.type_ = Type::Number;
  v.num_ = d;
  return v;
}
Value Value::make_int(int64_t i) {
  Value v;
  v.type_ = Type::Number;
  v.is_int_ = true;
  v.int_ = i;
  v.num_ = static_cast<double>(i);
  return v;
}
Value Value::make_string(std::string s) {
  Value v;
  v.type_ = Type::String;
  v.str_ = std::move(s);
  return v;
}
Value Value::make_array(std::vector<Value> a) {
  Value v;
  v.type_ = Type::Array;
  v.arr_ = std::move(a);
  return v;
}
Value Value::make_object(std::vector<Member> o) {
  Value v;
  v.type_ = Type::Object;
  v.obj_ = std::move(o);
  return v;
}

namespace {
const char* type_name(Value::Type t) {
  switch (t) {
    case Value::Type::Null: return "null";
    case Value::Type::Bool: return "bool";
    case Value::Type::Number: return "number";
    case Value::Type::String: return "string";
    case Value::Type::Array: return "array";
    case Value::Type::Object: return "object";
  }
  return "?";
}
[[noreturn]] void type_error(Value::Type want, Value::Type got) {
  throw std::runtime_error(fmt::format("json: expected {}, got {}", type_name(want),
                                       type_name(got)));
}
}  // namespace

bool Value::as_bool() const {
  if (type_ != Type::Bool) type_error(Type::Bool, type_);
  return bool_;
}
double Value::as_number() const {
  if (type_ != Type::Number) type_error(Type::Number, type_);
  return num_;
}
int64_t Value::as_int() const {
  if (type_ != Type::Number) type_error(Type::Number, type_);
  if (!is_int_) throw std::runtime_error(fmt::format("json: expected an integer, got {}", num_));
  return int_;
}
const std::string& Value::as_string() const {
  if (type_ != Type::String) type_error(Type::String, type_);
  return str_;
}
const std::vector<Value>& Value::as_array() const {
  if (type_ != Type::Array) type_error(Type::Array, type_);
  return arr_;
}
const std::vector<Value::Member>& Value::as_object() const {
  if (type_ != Type::Object) type_error(Type::Object, type_);
  return obj_;
}
const Value* Value::find(std::string_view key) const {
  if (type_ != Type::Object) return nullptr;
  for (const auto& m : obj_)
    if (m.first == key) return &m.second;
  return nullptr;
}
const Value& Value::at(std::string_view key) const {
  if (type_ != Type::Object) type_error(Type::Object, type_);
  const Value* v = find(key);
  if (!v) throw std::runtime_error(fmt::format("json: no member '{}'", key));
  return *v;
}
const Value& Value::operator[](size_t i) const {
  const auto& a = as_array();
  if (i >= a.size())
    throw std::runtime_error(fmt::format("json: index {} out of range (size {})", i, a.size()));
  return a[i];
}
size_t Value::size() const {
  if (type_ == Type::Array) return arr_.size();
  if (type_ == Type::Object) return obj_.size();
  return 0;
}

void Value::write(Writer& w) const {
  switch (type_) {
    case Type::Null: w.null(); break;
    case Type::Bool: w.value(bool_); break;
    case Type::Number:
      if (is_int_) w.value(int_);
      else w.value(num_);
      break;
    case Type::String: w.value(str_); break;
    case Type::Array:
      w.begin_array();
      for (const auto& v : arr_) v.write(w);
      w.end_array();
      break;
    case Type::Object:
      w.begin_object();
      for (const auto& m : obj_) {
        w.key(m.first);
        m.second.write(w);
      }
      w.end_object();
      break;
  }
}

std::string Value::dump(bool pretty) const {
  std::string out;
  {
    Writer w(&out, pretty);
    write(w);
  }
  return out;
}

// ---- parser: nlohmann's SAX parser builds Values directly -----------------------------------

namespace {

constexpr int kMaxDepth = 512;
// Objects up to this size check for duplicate keys by a linear scan, larger ones with a set.
constexpr size_t kLinearKeys = 16;

// 1-based line and column of byte `pos` (at most text.size(), the end of input).
std::string where(std::string_view text, const std::string& name, size_t pos) {
  pos = std::min(pos, text.size());
  size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + pos, '\n'));
  size_t nl = text.rfind('\n', pos == 0 ? std::string_view::npos : pos - 1);
  size_t col = nl == std::string_view::npos || pos == 0 ? pos + 1 : pos - nl;
  return fmt::format("{}:{}:{}", name, line, col);
}

// Start of the object key number `k` (0-based, in document order), found by a scan that only
// tracks strings; called after the SAX parser has accepted the text up to that key.
size_t key_offset(std::string_view s, size_t k) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '"') continue;
    size_t start = i++;
    while (i < s.size() && s[i] != '"') i += s[i] == '\\' ? 2 : 1;
    size_t j = i + 1;
    while (j < s.size() && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r')) ++j;
    if (j < s.size() && s[j] == ':' && k-- == 0) return start;
  }
  return s.size();
}

// Offset of the bracket that opens nesting level `depth` (top level 0) first.
size_t nesting_offset(std::string_view s, int depth) {
  int open = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      for (++i; i < s.size() && s[i] != '"';) i += s[i] == '\\' ? 2 : 1;
    } else if (c == '[' || c == '{') {
      if (open++ == depth) return i;
    } else if (c == ']' || c == '}') {
      --open;
    }
  }
  return s.size();
}

// The text nlohmann read as the failing token, with its "<U+000A>" spellings of control
// characters counted as the one byte they stand for.
size_t raw_length(const std::string& token) {
  size_t n = token.size();
  for (size_t i = token.find("<U+"); i != std::string::npos; i = token.find("<U+", i + 1))
    if (i + 8 <= token.size() && token[i + 7] == '>') n -= 7;
  return n;
}

std::string shorten(const std::string& token) {
  return token.size() <= 40 ? token : "..." + token.substr(token.size() - 37);
}

class Builder {
 public:
  Builder(std::string_view text, const std::string& name) : text_(text), name_(name) {}

  Value result() { return std::move(root_); }

  bool null() { return add(Value()); }
  bool boolean(bool b) { return add(Value::make_bool(b)); }
  bool number_integer(int64_t i) { return add(Value::make_int(i)); }
  bool number_unsigned(uint64_t u) {
    // Integers past int64 stay numbers, not integers: is_int() promises an exact as_int().
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return add(Value::make_number(static_cast<double>(u)));
    return add(Value::make_int(static_cast<int64_t>(u)));
  }
  bool number_float(double d, const std::string&) { return add(Value::make_number(d)); }
  // Copied, not moved: the lexer keeps its buffer's capacity for the next string.
  bool string(std::string& s) { return add(Value::make_string(s)); }
  bool binary(nlohmann::json::binary_t&) { return false; }  // JSON text has no binary values

  bool start_object(size_t) { return open(true); }
  bool start_array(size_t) { return open(false); }
  bool key(std::string& k) {
    Frame& f = stack_[depth_ - 1];
    bool dup = false;
    if (f.members.size() < kLinearKeys) {
      for (const auto& m : f.members) dup = dup || m.first == k;
    } else {
      if (!f.keys) {
        f.keys = std::make_unique<std::unordered_set<std::string>>();
        for (const auto& m : f.members) f.keys->insert(m.first);
      }
      dup = !f.keys->insert(k).second;
    }
    if (dup) fail(key_offset(text_, keys_seen_), fmt::format("duplicate key \"{}\"", k));
    ++keys_seen_;
    f.key = k;
    return true;
  }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool parse_error(size_t position, const std::string& token,
                   const nlohmann::json::exception& e) {
    // nlohmann's what(): "[json.exception.parse_error.101] parse error at line 1, column 2:
    // syntax error while parsing CONTEXT - unexpected TOKEN; expected WANT" for a token in the
    // wrong place, "... - LEXER MESSAGE; last read: 'TEXT'" for text that is no token.
    std::string what = e.what();
    size_t colon = what.find(": ");
    if (what.compare(0, 16, "[json.exception.") == 0 && colon != std::string::npos)
      what.erase(0, colon + 2);
    // `position` counts the bytes read, end of input as one more. `token` holds the text of a
    // string or number token (nlohmann restarts it there), not of punctuation or literals.
    const size_t end = std::min(position, text_.size());
    auto start_of = [&](size_t len) { return end - std::min(end, len); };
    if (e.id == 406)  // 1e999
      fail(start_of(raw_length(token)), fmt::format("number out of range: {}", token));
    const std::string kSyntax = "syntax error while parsing ";
    size_t dash = what.find(" - ");
    std::string context;
    if (what.compare(0, kSyntax.size(), kSyntax) == 0 && dash != std::string::npos)
      context = what.substr(kSyntax.size(), dash - kSyntax.size());
    if (dash != std::string::npos) what.erase(0, dash + 3);
    size_t last_read = what.find("; last read: ");
    if (last_read != std::string::npos) {
      // Text that is no token: the position is the byte that made it wrong, or the string's
      // start when the input ended inside it.
      what.erase(last_read);
      if (what == "invalid string: missing closing quote")
        fail(start_of(raw_length(token)), "unterminated string");
      fail(std::min(position - 1, text_.size()), what);
    }
    // A token in the wrong place: "unexpected KIND; expected WANT".
    std::string kind = what.substr(0, what.find("; expected "));
    if (kind.compare(0, 11, "unexpected ") == 0) kind.erase(0, 11);
    size_t start = start_of(1);
    std::string got = kind;  // '[' and the like
    if (kind == "end of input") {
      start = text_.size();
    } else if (kind == "true literal" || kind == "false literal" || kind == "null literal") {
      got = kind.substr(0, kind.find(' '));
      start = start_of(got.size());
      got = "'" + got + "'";
    } else if (kind == "number literal" || kind == "string literal") {
      start = start_of(raw_length(token));
      got = fmt::format("'{}'", shorten(token));
    }
    if (what.find("; expected end of input") != std::string::npos)
      fail(start, "unexpected text after the JSON value");
    if (context == "array") fail(start, fmt::format("expected ',' or ']', got {}", got));
    if (context == "object") fail(start, fmt::format("expected ',' or '}}', got {}", got));
    if (context == "object separator") fail(start, fmt::format("expected ':', got {}", got));
    if (context == "object key") fail(start, fmt::format("expected a key, got {}", got));
    if (context == "value") fail(start, fmt::format("expected a value, got {}", got));
    fail(start, what);
  }

 private:
  struct Frame {
    bool object = false;
    std::vector<Value> items;
    std::vector<Value::Member> members;
    std::string key;
    std::unique_ptr<std::unordered_set<std::string>> keys;  // once members outgrow kLinearKeys
  };

  [[noreturn]] void fail(size_t pos, const std::string& what) const {
    throw InputError(fmt::format("{}: {}", where(text_, name_, pos), what));
  }

  bool add(Value v) {
    if (depth_ == 0) {
      root_ = std::move(v);
    } else if (Frame& f = stack_[depth_ - 1]; f.object) {
      f.members.emplace_back(std::move(f.key), std::move(v));
    } else {
      f.items.push_back(std::move(v));
    }
    return true;
  }
  bool open(bool object) {
    // Values are destroyed and written recursively: the limit keeps hostile input off the stack.
    if (depth_ > static_cast<size_t>(kMaxDepth))
      fail(nesting_offset(text_, kMaxDepth + 1),
           fmt::format("nesting deeper than {} levels", kMaxDepth));
    if (depth_ == stack_.size()) stack_.emplace_back();  // frames are reused, not rebuilt
    stack_[depth_++].object = object;
    return true;
  }
  bool close() {
    Frame& f = stack_[--depth_];
    f.keys.reset();
    Value v = f.object ? Value::make_object(std::move(f.members))
                       : Value::make_array(std::move(f.items));
    f.members.clear();  // moved from: empty in practice, cleared to be sure
    f.items.clear();
    return add(std::move(v));
  }

  std::string_view text_;
  const std::string& name_;
  std::vector<Frame> stack_;  // open arrays and objects are stack_[0, depth_)
  size_t depth_ = 0;
  Value root_;
  size_t keys_seen_ = 0;
};

}  // namespace

Value parse(std::string_view text, const std::string& name) {
  Builder b(text, name);
  nlohmann::json::sax_parse(text.data(), text.data() + text.size(), &b);
  return b.result();
}

Value parse_file(const std::string& path) { return parse(read_text_file(path), path); }

}  // namespace trnsim::json
