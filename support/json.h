// JSON: a streaming writer of our own and a DOM reader on nlohmann-json (goldens, sweeps, tests).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace trnsim::json {

// Appends `s` as a quoted JSON string: quotes, backslash and control characters escaped, bytes
// that are not valid UTF-8 replaced by \ufffd (so any std::string gives valid JSON).
void append_string(std::string& out, std::string_view s);
// Finite doubles as the shortest text that reads back exactly (fmt "{}"); NaN/inf as null.
void append_double(std::string& out, double v);

// Streaming writer. Writes into a std::string (appending) or a std::FILE* (buffered; flushed
// when the buffer grows past 64 KiB, on flush() and on destruction). Commas, colons and (when
// pretty) newlines/indentation are inserted automatically. Misuse (a value where a key is
// required, unbalanced end_*) throws std::logic_error.
//
//   json::Writer w(&text, /*pretty=*/true);
//   w.begin_object().field("cycles", 1234).key("engines").begin_array();
//   w.value("pe").value("act").end_array().end_object();
class Writer {
 public:
  explicit Writer(std::string* out, bool pretty = false, int indent = 2);
  explicit Writer(std::FILE* out, bool pretty = false, int indent = 2);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  Writer& begin_object();
  Writer& end_object();
  Writer& begin_array();
  Writer& end_array();
  Writer& key(std::string_view k);

  Writer& value(std::string_view s);
  Writer& value(const std::string& s) { return value(std::string_view(s)); }
  Writer& value(const char* s) { return value(std::string_view(s)); }
  Writer& value(bool b);
  Writer& value(double d);
  Writer& value(float f) { return value(static_cast<double>(f)); }
  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  Writer& value(T v) {
    if constexpr (std::is_signed_v<T>) return value_int(static_cast<int64_t>(v));
    else return value_uint(static_cast<uint64_t>(v));
  }
  Writer& null();
  // Inserts already-formatted JSON as one value (caller guarantees it is valid).
  Writer& raw(std::string_view json);

  template <class T>
  Writer& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

  // True once the single top-level value is complete.
  bool done() const { return stack_.empty() && wrote_top_; }
  // Pushes buffered text to the FILE* (no-op for string output).
  void flush();

 private:
  enum class Ctx : uint8_t { Object, Array };
  struct Level {
    Ctx ctx;
    bool first = true;
    bool have_key = false;
  };
  Writer& value_int(int64_t v);
  Writer& value_uint(uint64_t v);
  void before_value();
  void newline_indent(size_t depth);
  void maybe_flush();

  std::string own_;           // buffer when writing to a FILE*
  std::string* out_;          // where text goes (own_ for a FILE*)
  std::FILE* file_ = nullptr;
  bool pretty_;
  int indent_;
  bool wrote_top_ = false;
  std::vector<Level> stack_;
};

// A parsed JSON value. Objects keep their members in document order.
class Value {
 public:
  enum class Type : uint8_t { Null, Bool, Number, String, Array, Object };
  using Member = std::pair<std::string, Value>;

  Value() = default;
  static Value make_bool(bool b);
  static Value make_number(double d);
  static Value make_int(int64_t i);
  static Value make_string(std::string s);
  static Value make_array(std::vector<Value> a);
  static Value make_object(std::vector<Member> o);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::Null; }
  bool is_bool() const { return type_ == Type::Bool; }
  bool is_number() const { return type_ == Type::Number; }
  bool is_string() const { return type_ == Type::String; }
  bool is_array() const { return type_ == Type::Array; }
  bool is_object() const { return type_ == Type::Object; }
  // True for numbers written without fraction or exponent that fit int64 (exact as_int()).
  bool is_int() const { return type_ == Type::Number && is_int_; }

  // Accessors throw std::runtime_error naming the expected type on a mismatch.
  bool as_bool() const;
  double as_number() const;
  int64_t as_int() const;  // integral numbers only
  const std::string& as_string() const;
  const std::vector<Value>& as_array() const;
  const std::vector<Member>& as_object() const;

  // Object member lookup: nullptr when absent (or not an object).
  const Value* find(std::string_view key) const;
  // Throws std::runtime_error when absent.
  const Value& at(std::string_view key) const;
  const Value& operator[](std::string_view key) const { return at(key); }
  const Value& operator[](size_t i) const;
  size_t size() const;  // array or object size, 0 otherwise

  void write(Writer& w) const;
  std::string dump(bool pretty = false) const;

 private:
  Type type_ = Type::Null;
  bool bool_ = false;
  bool is_int_ = false;
  double num_ = 0;
  int64_t int_ = 0;
  std::string str_;
  std::vector<Value> arr_;
  std::vector<Member> obj_;
};

// Parses one JSON document (RFC 8259; nesting up to 512 levels). Errors throw
// trnsim::InputError("<name>:<line>:<col>: <what>").
Value parse(std::string_view text, const std::string& name = "<json>");
// Reads and parses a file; errors name the file.
Value parse_file(const std::string& path);

}  // namespace trnsim::json
