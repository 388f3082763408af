// tests/odr: two translation units that include every public header in the header-only mode,
// linked into one program. A function or variable that a header defines without `inline` is
// then defined twice, and the link fails. The suite's other programs of several files (the
// examples and end-to-end programs) link the compiled mode (phrony_compiled_dev), so this is the
// check that the header-only mode links in a program of more than one file.
#include <phrony/phrony.hpp>

#include <cstdio>

#include "second.hpp"

int main() {
  const auto run = phrony::parse_run_status(
      R"({"runId":"77fa34b4-12d6-4fd6-8c23-77526537307d","status":"Completed","output":{}})");
  if (!run || run->state() != phrony::run_state::completed || !second_unit_ok()) {
    std::fputs("odr_two_units: a parse gave an unexpected result\n", stderr);
    return 1;
  }
  return 0;
}
