// tests/odr: the second translation unit (see first.cpp).
#include "second.hpp"

#include <phrony/phrony.hpp>

bool second_unit_ok() {
  const auto run = phrony::parse_run_status(
      R"({"runId":"77fa34b4-12d6-4fd6-8c23-77526537307d","status":"Failed","output":null})");
  return run && run->state() == phrony::run_state::failed;
}
