// Proves a downstream project can include and use phrony through its CMake package.
#include <phrony/phrony.hpp>

#include <cstdio>

int main() {
  const auto run = phrony::parse_run_status(R"({"runId":"r","status":"Completed","output":42})");
  if (!run || run->state() != phrony::run_state::completed || run->output.text != "42") {
    std::puts("consumer: unexpected parse result");
    return 1;
  }
  std::puts("consumer: ok");
  return 0;
}
