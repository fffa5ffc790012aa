// The small JSON reader and writer.
#include <doctest/doctest.h>

#include <string>

#include <nas/core/json.hpp>

namespace {
std::string error_of(const std::string& text) {
  try {
    (void)nas::json::parse(text);
  } catch (const nas::ParseError& e) {
    return std::to_string(e.offset()) + ": " + e.problem();
  }
  return "no error";
}
}  // namespace

TEST_CASE("json: reads every kind of value") {
  const auto v = nas::json::parse(
      R"( {"a": [1, -2.5, 3e2, 0.125E-1], "b": {"c": true, "d": false, "e": null}, "s": "x\"\\\n\u00e9\ud83d\ude00"} )");
  REQUIRE(v.is_object());
  const auto* a = v.find("a");
  REQUIRE(a != nullptr);
  REQUIRE(a->array.size() == 4);
  CHECK(a->array[0].number == 1.0);
  CHECK(a->array[1].number == -2.5);
  CHECK(a->array[2].number == 300.0);
  CHECK(a->array[3].number == doctest::Approx(0.0125));
  const auto* b = v.find("b");
  REQUIRE(b != nullptr);
  const auto* c = b->find("c");
  const auto* e = b->find("e");
  const auto* s = v.find("s");
  REQUIRE((c != nullptr && e != nullptr && s != nullptr));
  CHECK(c->boolean);
  CHECK(e->is_null());
  CHECK(s->string == "x\"\\\n\xC3\xA9\xF0\x9F\x98\x80");
  CHECK(v.find("missing") == nullptr);
  CHECK(nas::json::is_integer(a->array[0], 0, 10));
  CHECK_FALSE(nas::json::is_integer(a->array[1], -10, 10));
}

TEST_CASE("json: quote escapes what JSON needs and reads back") {
  const std::string raw = "tab\t quote\" backslash\\ newline\n bell\x07";
  const std::string quoted = nas::json::quote(raw);
  CHECK(quoted == "\"tab\\t quote\\\" backslash\\\\ newline\\n bell\\u0007\"");
  CHECK(nas::json::parse(quoted).string == raw);
}

TEST_CASE("json: malformed input names the position and the problem") {
  CHECK(error_of("") == "0: unexpected end of text; expected a JSON value");
  CHECK(error_of("{\"a\" 1}") == "5: expected ':' after an object key");
  CHECK(error_of("[1, 2") == "5: expected ',' or ']' in an array");
  CHECK(error_of("[01]") == "1: leading zero in a number");
  CHECK(error_of("\"abc") == "0: unterminated string");
  CHECK(error_of("\"\\q\"") == "2: unknown escape '\\q'");
  CHECK(error_of("\"\\ud800\"") == "7: unpaired surrogate in \\u escape");
  CHECK(error_of("tru") == "0: unknown literal; expected true, false or null");
  CHECK(error_of("{} {}") == "3: unexpected text after the JSON value");
  CHECK(error_of("1e999") == "0: number out of range");
  CHECK(error_of("-") == "1: expected a digit");
  CHECK(error_of(std::string(100, '[')) == "65: JSON nested too deeply");
  CHECK(error_of("{1: 2}") == "1: expected a string key");
}
