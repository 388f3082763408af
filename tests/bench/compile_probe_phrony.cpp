// Compile-cost probe (tests/bench/run): the umbrella header and one parser call.
#include <phrony/phrony.hpp>

int main(int argc, char** argv) {
  const auto r = phrony::parse_run_status(argc > 1 ? argv[1] : "{}");
  return r.has_value() ? 0 : 1;
}
