// Issue 10's first report, as a user wrote it: a small file writing a few integers with
// json_writer, built with -O3 -Wall -Werror. g++ 12 inlined json_writer::number's
// append(first, last) into a false -Wrestrict error; a larger program (all_headers.cpp) does not
// inline it the same way, so this one stays its own test.
#include <phrony/json_writer.hpp>

#include <cstdint>
#include <cstdio>

int main() {
  phrony::json_writer w;
  w.begin_array().value(1).value(std::int64_t{-42}).value(std::uint64_t{7}).end_array();
  std::puts(w.str().c_str());
  return w.str() == "[1,-42,7]" ? 0 : 1;
}
