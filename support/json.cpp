// JSON writer and reader (see json.h).
#include "support/json.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <iterator>
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

// ---- parser ---------------------------------------------------------------------------------

namespace {

constexpr int kMaxDepth = 512;

class Parser {
 public:
  Parser(std::string_view text, const std::string& name) : s_(text), name_(name) {}

  Value document() {
    skip_ws();
    Value v = value(0);
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected text after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { fail_at(pos_, what); }
  [[noreturn]] void fail_at(size_t pos, const std::string& what) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos && i < s_.size(); ++i) {
      if (s_[i] == '\n') ++line, col = 1;
      else ++col;
    }
    throw InputError(fmt::format("{}:{}:{}: {}", name_, line, col, what));
  }
  std::string here() const {
    if (pos_ >= s_.size()) return "end of input";
    char c = s_[pos_];
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      return fmt::format("byte 0x{:02x}", static_cast<unsigned char>(c));
    return fmt::format("'{}'", c);
  }

  void skip_ws() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool consume(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Value value(int depth) {
    if (depth > kMaxDepth) fail(fmt::format("nesting deeper than {} levels", kMaxDepth));
    if (pos_ >= s_.size()) fail("expected a value, got end of input");
    char c = s_[pos_];
    switch (c) {
      case '{': return object(depth);
      case '[': return array(depth);
      case '"': return Value::make_string(string());
      case 't':
        if (consume("true")) return Value::make_bool(true);
        break;
      case 'f':
        if (consume("false")) return Value::make_bool(false);
        break;
      case 'n':
        if (consume("null")) return Value();
        break;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return number();
    }
    fail(fmt::format("expected a value, got {}", here()));
  }

  Value object(int depth) {
    ++pos_;  // '{'
    std::vector<Value::Member> members;
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return Value::make_object(std::move(members));
    }
    std::unordered_set<std::string> keys;
    while (true) {
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != '"') fail(fmt::format("expected a key, got {}", here()));
      size_t key_pos = pos_;
      std::string k = string();
      if (!keys.insert(k).second) fail_at(key_pos, fmt::format("duplicate key \"{}\"", k));
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != ':') fail(fmt::format("expected ':', got {}", here()));
      ++pos_;
      skip_ws();
      members.emplace_back(std::move(k), value(depth + 1));
      skip_ws();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return Value::make_object(std::move(members));
      }
      fail(fmt::format("expected ',' or '}}', got {}", here()));
    }
  }

  Value array(int depth) {
    ++pos_;  // '['
    std::vector<Value> items;
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return Value::make_array(std::move(items));
    }
    while (true) {
      skip_ws();
      items.push_back(value(depth + 1));
      skip_ws();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return Value::make_array(std::move(items));
      }
      fail(fmt::format("expected ',' or ']', got {}", here()));
    }
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  uint32_t hex4() {
    if (pos_ + 4 > s_.size()) fail("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else fail(fmt::format("bad hex digit in \\u escape: {}", here()));
      ++pos_;
    }
    return v;
  }

  std::string string() {
    size_t start = pos_++;  // '"'
    std::string out;
    while (true) {
      size_t run = pos_;
      while (pos_ < s_.size() && s_[pos_] != '"' && s_[pos_] != '\\' &&
             static_cast<unsigned char>(s_[pos_]) >= 0x20)
        ++pos_;
      out.append(s_.data() + run, pos_ - run);
      if (pos_ >= s_.size()) fail_at(start, "unterminated string");
      char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c != '\\') fail("control character in string (must be escaped)");
      ++pos_;
      if (pos_ >= s_.size()) fail_at(start, "unterminated string");
      char e = s_[pos_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (!consume("\\u")) fail("unpaired surrogate in \\u escape");
            uint32_t lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("unpaired surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail("unpaired surrogate in \\u escape");
          }
          append_utf8(out, cp);
          break;
        }
        default:
          --pos_;
          fail(fmt::format("bad escape \\{}", e));
      }
    }
  }

  Value number() {
    size_t start = pos_;
    bool integral = true;
    if (s_[pos_] == '-') ++pos_;
    auto digits = [&] {
      size_t d = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      return pos_ - d;
    };
    if (pos_ < s_.size() && s_[pos_] == '0') {
      ++pos_;
    } else if (digits() == 0) {
      fail_at(start, "bad number");
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      integral = false;
      ++pos_;
      if (digits() == 0) fail("bad number: expected digits after '.'");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      integral = false;
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (digits() == 0) fail("bad number: expected exponent digits");
    }
    const char* b = s_.data() + start;
    const char* e = s_.data() + pos_;
    if (integral) {
      int64_t i = 0;
      auto r = std::from_chars(b, e, i);
      if (r.ec == std::errc() && r.ptr == e) return Value::make_int(i);
    }
    double d = 0;
    auto r = std::from_chars(b, e, d);
    if (r.ec == std::errc::result_out_of_range) fail_at(start, "number out of range");
    if (r.ec != std::errc() || r.ptr != e) fail_at(start, "bad number");
    return Value::make_number(d);
  }

  std::string_view s_;
  const std::string& name_;
  size_t pos_ = 0;
};

}  // namespace

Value parse(std::string_view text, const std::string& name) {
  return Parser(text, name).document();
}

Value parse_file(const std::string& path) { return parse(read_text_file(path), path); }

}  // namespace trnsim::json
