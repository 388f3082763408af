// phrony::indirect and optional_indirect: heap-held values with the semantics of what they hold.
#include <phrony/indirect.hpp>

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace indirect_test { // file-local names stay apart in the unity build (CMakeLists.txt)

using phrony::indirect;
using phrony::optional_indirect;

TEST_CASE("indirect holds a T: default, copy, move, compare") {
  indirect<std::string> empty;
  CHECK(empty->empty()); // a default T, with nothing on the heap yet
  indirect<std::string> a = std::string("alpha");
  indirect<std::string> b = a;
  CHECK(a == b);
  CHECK(&*a != &*b); // deep copy
  *b += "!";
  CHECK(*a == "alpha");
  CHECK(*b == "alpha!");
  indirect<std::string> c = std::move(b);
  CHECK(*c == "alpha!");
  CHECK(b->empty()); // NOLINT(bugprone-use-after-move): a moved-from indirect holds T{}
  c.reset();
  CHECK(c == empty);
  const indirect<std::variant<std::monostate, int>> v;
  CHECK(std::holds_alternative<std::monostate>(*v));
}

TEST_CASE("optional_indirect behaves like std::optional") {
  optional_indirect<std::string> none;
  CHECK(!none);
  CHECK(!none.has_value());
  optional_indirect<std::string> some = std::string("x");
  CHECK(some.has_value());
  CHECK(*some == "x");
  CHECK(some->size() == 1);
  optional_indirect<std::string> copy = some;
  CHECK(copy == some);
  CHECK(!(copy == none));
  copy.emplace("y");
  CHECK(*copy == "y");
  CHECK(*some == "x");
  some = std::nullopt;
  CHECK(!some);
  CHECK(some == none);
}

} // namespace indirect_test
