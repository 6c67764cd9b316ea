// JSON writer (escaping, numbers, layout, streaming) and reader (values, errors, round trip).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "support/error.h"
#include "support/json.h"

using namespace trnsim;

namespace {
std::string str(std::string_view s) {
  std::string out;
  json::append_string(out, s);
  return out;
}
std::string num(double d) {
  std::string out;
  json::append_double(out, d);
  return out;
}
std::string parse_error(std::string_view text) {
  try {
    json::parse(text, "t.json");
  } catch (const InputError& e) {
    return e.what();
  }
  FAIL("expected a parse error for " << text);
  return "";
}
}  // namespace

TEST_CASE("json strings escape quotes, backslashes, control characters and bad UTF-8", "[json]") {
  CHECK(str("plain") == "\"plain\"");
  CHECK(str("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(str("\n\r\t\b\f") == "\"\\n\\r\\t\\b\\f\"");
  CHECK(str(std::string("\x00\x01\x1f", 3)) == "\"\\u0000\\u0001\\u001f\"");
  CHECK(str("/ and \x7f") == "\"/ and \x7f\"");
  CHECK(str("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") == "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  CHECK(str("bad \xff byte") == "\"bad \\ufffd byte\"");
  CHECK(str("cut \xe2\x82") == "\"cut \\ufffd\\ufffd\"");
  CHECK(str("overlong \xc0\xaf") == "\"overlong \\ufffd\\ufffd\"");
  CHECK(str("surrogate \xed\xa0\x80") == "\"surrogate \\ufffd\\ufffd\\ufffd\"");
}

TEST_CASE("json numbers: integers exact, doubles shortest round-trip, non-finite null", "[json]") {
  CHECK(num(0.1) == "0.1");
  CHECK(num(1.0) == "1");
  CHECK(num(-2.5) == "-2.5");
  CHECK(num(1e300) == "1e+300");
  CHECK(num(std::numeric_limits<double>::quiet_NaN()) == "null");
  CHECK(num(std::numeric_limits<double>::infinity()) == "null");
  CHECK(num(-std::numeric_limits<double>::infinity()) == "null");
  for (double d : {0.1, 1.0 / 3, 6.02214076e23, 5e-324, -1.7976931348623157e308}) {
    CHECK(json::parse(num(d)).as_number() == d);
  }
  std::string out;
  json::Writer w(&out);
  w.begin_array()
      .value(int64_t{-9223372036854775807 - 1})
      .value(uint64_t{18446744073709551615u})
      .value(42)
      .value(size_t{7})
      .value(true)
      .value(2.5f)
      .null()
      .end_array();
  CHECK(out == "[-9223372036854775808,18446744073709551615,42,7,true,2.5,null]");
}

TEST_CASE("json writer: compact and pretty layout, string and FILE* sinks", "[json]") {
  auto build = [](json::Writer& w) {
    w.begin_object()
        .field("name", "core0.pe")
        .field("busy_ns", 1234)
        .key("empty_obj").begin_object().end_object()
        .key("list").begin_array().value(1).value("two").begin_array().end_array().end_array()
        .end_object();
  };
  std::string compact;
  {
    json::Writer w(&compact);
    build(w);
    CHECK(w.done());
  }
  CHECK(compact ==
        "{\"name\":\"core0.pe\",\"busy_ns\":1234,\"empty_obj\":{},\"list\":[1,\"two\",[]]}");
  std::string pretty;
  json::Writer pw(&pretty, true);
  build(pw);
  CHECK(pretty ==
        "{\n  \"name\": \"core0.pe\",\n  \"busy_ns\": 1234,\n  \"empty_obj\": {},\n  \"list\": [\n"
        "    1,\n    \"two\",\n    []\n  ]\n}");

  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  {
    json::Writer fw(f);
    fw.begin_array();
    for (int i = 0; i < 100000; ++i) fw.value(i);  // crosses the 64 KiB flush threshold
    fw.end_array();
  }
  std::fseek(f, 0, SEEK_END);
  long size = std::ftell(f);
  std::rewind(f);
  std::string text(static_cast<size_t>(size), '\0');
  CHECK(std::fread(text.data(), 1, text.size(), f) == text.size());
  std::fclose(f);
  json::Value v = json::parse(text);
  REQUIRE(v.size() == 100000);
  CHECK(v[99999].as_int() == 99999);
}

TEST_CASE("json writer rejects misuse", "[json]") {
  std::string out;
  json::Writer w(&out);
  w.begin_object();
  CHECK_THROWS_AS(w.value(1), std::logic_error);  // value without key
  CHECK_THROWS_AS(w.end_array(), std::logic_error);
  w.key("a");
  CHECK_THROWS_AS(w.key("b"), std::logic_error);
  w.value(1).end_object();
  CHECK_THROWS_AS(w.value(2), std::logic_error);  // second top-level value
  CHECK(out == "{\"a\":1}");
}

TEST_CASE("json reader parses every kind of value and round-trips", "[json]") {
  std::string text =
      " {\"a\": [1, -2.5, 3e2, true, false, null], \"s\": \"x\\\"\\\\\\/\\n\\u00e9\\ud83d\\ude00\","
      " \"big\": 9007199254740993, \"o\": {}} ";
  json::Value v = json::parse(text);
  REQUIRE(v.is_object());
  const auto& a = v["a"];
  REQUIRE(a.size() == 6);
  CHECK(a[0].is_int());
  CHECK(a[0].as_int() == 1);
  CHECK(a[1].as_number() == -2.5);
  CHECK(!a[2].is_int());
  CHECK(a[2].as_number() == 300);
  CHECK(a[3].as_bool());
  CHECK(!a[4].as_bool());
  CHECK(a[5].is_null());
  CHECK(v["s"].as_string() == "x\"\\/\n\xc3\xa9\xf0\x9f\x98\x80");
  CHECK(v["big"].as_int() == 9007199254740993);  // beyond double precision, kept exact
  // int64 limits are integers; past them a number is a double (is_int() means as_int() is exact).
  json::Value lim = json::parse("[-9223372036854775808, 9223372036854775807, 9223372036854775808, "
                                "-9223372036854775809, 18446744073709551616, -0]");
  CHECK(lim[0].as_int() == std::numeric_limits<int64_t>::min());
  CHECK(lim[1].as_int() == std::numeric_limits<int64_t>::max());
  CHECK(!lim[2].is_int());
  CHECK(lim[2].as_number() == 9223372036854775808.0);
  CHECK(!lim[3].is_int());
  CHECK(!lim[4].is_int());
  CHECK(lim[4].as_number() == 18446744073709551616.0);
  CHECK(lim[5].is_int());
  CHECK(lim[5].as_int() == 0);
  // A UTF-8 byte order mark is skipped (RFC 8259 lets a parser ignore it).
  CHECK(json::parse("\xef\xbb\xbf{\"a\": 1}")["a"].as_int() == 1);
  CHECK(v["o"].is_object());
  CHECK(v.find("missing") == nullptr);
  CHECK_THROWS_AS(v["missing"], std::runtime_error);
  CHECK_THROWS_AS(v["s"].as_number(), std::runtime_error);
  CHECK_THROWS_AS(a[1].as_int(), std::runtime_error);
  // Members keep document order.
  CHECK(v.as_object()[0].first == "a");
  CHECK(v.as_object()[3].first == "o");

  std::string again = v.dump();
  CHECK(again ==
        "{\"a\":[1,-2.5,300,true,false,null],\"s\":\"x\\\"\\\\/\\n\xc3\xa9\xf0\x9f\x98\x80\","
        "\"big\":9007199254740993,\"o\":{}}");
  CHECK(json::parse(again).dump() == again);
  CHECK(json::parse(v.dump(true)).dump() == again);
}

TEST_CASE("json reader errors name line and column", "[json]") {
  CHECK(parse_error("{\"a\": 1,\n \"b\" 2}") == "t.json:2:6: expected ':', got '2'");
  CHECK(parse_error("[1, 2") == "t.json:1:6: expected ',' or ']', got end of input");
  CHECK(parse_error("{\"a\": 1 \"b\": 2}") == "t.json:1:9: expected ',' or '}', got '\"b\"'");
  CHECK(parse_error("[1 true]") == "t.json:1:4: expected ',' or ']', got 'true'");
  CHECK(parse_error("{\"a\" [") == "t.json:1:6: expected ':', got '['");
  CHECK(parse_error("{1: 2}") == "t.json:1:2: expected a key, got '1'");
  CHECK(parse_error("[1,]") == "t.json:1:4: expected a value, got ']'");
  // Malformed tokens: nlohmann's lexer words the message; the column is the byte that made the
  // token wrong (one past the end when the input ends inside it).
  CHECK(parse_error("tru") == "t.json:1:4: invalid literal");
  CHECK(parse_error("[trUe]") == "t.json:1:4: invalid literal");
  CHECK(parse_error("\"abc") == "t.json:1:1: unterminated string");
  CHECK(parse_error("\"a\nb\"") ==
        "t.json:1:3: invalid string: control character U+000A (LF) must be escaped to \\u000A or "
        "\\n");
  CHECK(parse_error("\"\\x\"") ==
        "t.json:1:3: invalid string: forbidden character after backslash");
  CHECK(parse_error("\"\\ud800\"") ==
        "t.json:1:8: invalid string: surrogate U+D800..U+DBFF must be followed by U+DC00..U+DFFF");
  // RFC 8259 text is UTF-8: a stray byte is refused where it stands (trnsim's writers never
  // produce one: json::append_string turns it into U+FFFD).
  CHECK(parse_error("{\"k\": \"ok\xff\"}") == "t.json:1:10: invalid string: ill-formed UTF-8 byte");
  CHECK(parse_error("01") == "t.json:1:2: unexpected text after the JSON value");
  CHECK(parse_error("1.") == "t.json:1:3: invalid number; expected digit after '.'");
  CHECK(parse_error("-") == "t.json:1:2: invalid number; expected digit after '-'");
  CHECK(parse_error("[0, 1e999]") == "t.json:1:5: number out of range: 1e999");
  CHECK(parse_error("{\"k\": 1, \"k\": 2}") == "t.json:1:10: duplicate key \"k\"");
  std::string wide = "{\"o\": {\"s\": \"\\\": 1\"}, \"w\": {";  // a string that looks like a key
  for (int i = 0; i < 40; ++i) wide += "\"k" + std::to_string(i) + "\": 0, ";
  wide += "\n\"k7\": 0}}";  // past the 16 members checked by a linear scan
  CHECK(parse_error(wide) == "t.json:2:1: duplicate key \"k7\"");
  CHECK(parse_error("") == "t.json:1:1: expected a value, got end of input");
  CHECK(parse_error(std::string(600, '[')) == "t.json:1:514: nesting deeper than 512 levels");
  CHECK_THROWS_WITH(json::parse_file("/nonexistent/x.json"),
                    "/nonexistent/x.json: cannot open: No such file or directory");
}
