// phrony-decode <kind>: reads one response body on stdin and prints the parsed value as canonical
// JSON (documented fields under their wire names, unknown fields kept, opaque values verbatim).
// On malformed input it prints one line naming the JSON path, e.g.
// "/items/3/ordinal: expected number", and exits 1. Outside checks drive the parsers through it.
#include <phrony/phrony.hpp>

#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>

namespace {

template <class Parse> int decode(std::string_view body, Parse parse) {
  const auto parsed = parse(body);
  if (!parsed) {
    std::cerr << parsed.error().what() << '\n';
    return 1;
  }
  std::cout << phrony::to_json(*parsed) << '\n';
  return 0;
}

int usage() {
  std::cerr << "usage: phrony-decode <kind> < body\n"
               "kinds: start-run, run, accept\n";
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    return usage();
  }
  const std::string_view kind = argv[1];
  std::ios::sync_with_stdio(false);
  const std::string body{std::istreambuf_iterator<char>(std::cin),
                         std::istreambuf_iterator<char>()};

  if (kind == "start-run") return decode(body, phrony::parse_start_run);
  if (kind == "run") return decode(body, phrony::parse_run_status);
  if (kind == "accept") return decode(body, phrony::parse_accept);
  return usage();
}
