// Compile-cost probe (tests/bench/run): simdjson alone, parsing one field.
#include <simdjson.h>

#include <string_view>

int main(int argc, char** argv) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string body(std::string_view(argc > 1 ? argv[1] : "{}"));
  std::string_view run_id;
  auto doc = parser.iterate(body);
  return doc["runId"].get_string().get(run_id) == simdjson::SUCCESS ? 0 : 1;
}
