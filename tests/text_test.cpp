// phrony::text: owning and independent like std::string, packed into shared blocks while
// parsing, and the reference counts behind that.
#include <phrony/text.hpp>

#include <doctest/doctest.h>

#include <phrony/conversation.hpp>
#include <phrony/runs.hpp>

#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "counting_new.hpp"
#include "test_util.hpp"

namespace text_test { // file-local names stay apart in the unity build (CMakeLists.txt)

using namespace phrony;
using phrony_test::allocation_count;
using phrony_test::fixture;
using phrony_test::generated;

TEST_CASE("text reads like the std::string it replaced") {
  const std::string source = "run-42";
  text t = source;
  CHECK(t == "run-42");
  CHECK("run-42" == t);
  CHECK(t == source);
  CHECK(t == std::string_view("run-42"));
  CHECK(t != "run-43");
  CHECK(t < text("run-43"));
  CHECK(t.size() == 6);
  CHECK(t.c_str()[6] == '\0');
  CHECK(std::string(t) == source);
  const std::string& as_string = t; // a const std::string& parameter takes a text
  CHECK(as_string == source);
  CHECK("id " + t + "!" == "id run-42!");
  CHECK(t.substr(4) == "42");
  CHECK(t.find('-') == 3);
  CHECK((t.starts_with("run") && t.ends_with('2') && t.contains("n-4")));
  t = std::string("other");
  CHECK(t == "other");
  t.clear();
  CHECK(t.empty());
  CHECK(t.c_str()[0] == '\0');
  std::unordered_set<text> set{text("a"), text("b"), text("a")};
  CHECK(set.size() == 2);
}

TEST_CASE("an empty text allocates nothing") {
  const auto before = allocation_count;
  text a;
  text b = "";
  text c = a;
  CHECK((a.empty() && b.empty() && c.empty()));
  CHECK(allocation_count == before);
}

TEST_CASE("a copy is independent; a moved text keeps its bytes") {
  text a = "payload";
  text copy = a;
  CHECK(copy.data() != a.data());
  text moved = std::move(a);
  CHECK(moved == "payload");
  CHECK(a.empty()); // NOLINT(bugprone-use-after-move): a moved-from text is empty
  moved = "replaced";
  CHECK(copy == "payload");
  const text& alias = copy; // self-assignment through a reference, as a container may do
  copy = alias;
  CHECK(copy == "payload");
}

TEST_CASE("values parsed from one body share blocks yet outlive the body, the parser and each "
          "other") {
  std::vector<timeline_item> kept;
  std::vector<text> ids;
  {
    std::string body = fixture("conversation_waiting.json");
    auto c = parse_conversation(body);
    REQUIRE(c.has_value());
    REQUIRE(c->items.size() >= 3);
    for (const auto& item : c->items) {
      ids.push_back(item.id); // copies
    }
    kept.push_back(std::move(c->items[1])); // a move keeps the shared block alive
    kept.push_back(c->items[2]);
    body.assign(body.size(), 'x'); // the body is overwritten and then freed
    release_thread_buffers();      // and the thread's parse buffers with it
  }
  const auto again = parse_conversation(fixture("conversation_waiting.json"));
  REQUIRE(again.has_value());
  CHECK(kept[0] == again->items[1]);
  CHECK(kept[1] == again->items[2]);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    CHECK(ids[i] == again->items[i].id);
  }
}

TEST_CASE("a fresh parse packs its texts: a conversation costs few allocations per item") {
  const std::string body = generated("conversation_1000.json");
  {
    auto warm = parse_conversation(body); // grows the thread's parse buffers
    REQUIRE(warm.has_value());
  }
  const auto before = allocation_count;
  const auto c = parse_conversation(body);
  const auto allocations = allocation_count - before;
  REQUIRE(c.has_value());
  // The content on the heap is one; unknown fields and option lists add a few; every string
  // is packed. (With a std::string per id and timestamp it was about 14.)
  CHECK(static_cast<double>(allocations) / static_cast<double>(c->items.size()) <= 2.0);
}

TEST_CASE("a value read over keeps its texts' storage: the third parse allocates nothing") {
  const std::string body = fixture("run_completed.json");
  run_status status;
  REQUIRE(parse_run_status(body, status).has_value()); // packed texts
  REQUIRE(parse_run_status(body, status).has_value()); // each text gets storage of its own
  const auto before = allocation_count;
  REQUIRE(parse_run_status(body, status).has_value());
  CHECK(allocation_count == before);
  CHECK(status == *parse_run_status(body));
}

#if !defined(PHRONY_TEST_NO_THREADS)
#define PHRONY_TEST_NO_THREADS 0
#endif

TEST_CASE("texts made on one thread are freed on others" * doctest::skip(PHRONY_TEST_NO_THREADS)) {
  const std::string body = generated("conversation_1000.json");
  auto c = parse_conversation(body);
  REQUIRE(c.has_value());
  const auto expected = *c;
  std::vector<std::thread> threads;
  std::vector<std::vector<timeline_item>> parts(4);
  for (std::size_t i = 0; i < c->items.size(); ++i) {
    parts[i % 4].push_back(std::move(c->items[i]));
  }
  c->items.clear();
  std::vector<int> ok(4, 0);
  for (std::size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<timeline_item> mine = std::move(parts[t]);
      ok[t] = 1;
      for (std::size_t j = 0; j < mine.size(); ++j) {
        ok[t] &= static_cast<int>(mine[j] == expected.items[j * 4 + t]);
      }
    }); // each thread drops its items, and with them references to the shared blocks
  }
  for (auto& th : threads) {
    th.join();
  }
  CHECK(ok == std::vector<int>(4, 1));
}

TEST_CASE("the arena spans parses and starts a new block when one is full") {
  auto& arena = detail::local_text_arena();
  arena.release();
  CHECK(arena.room() == 0);
  const text first = arena.make("first");
  CHECK(arena.room() == detail::text_arena::chunk_capacity - 6);
  // A text longer than a block's share gets storage of its own and leaves the block as it is.
  const std::string big(detail::text_arena::longest_packed + 1, 'b');
  const text own = arena.make(big);
  CHECK(own == big);
  CHECK(arena.room() == detail::text_arena::chunk_capacity - 6);
  std::vector<text> filler;
  const std::string piece(detail::text_arena::longest_packed, 'f');
  for (std::size_t used = 6; used + piece.size() + 1 <= detail::text_arena::chunk_capacity;
       used += piece.size() + 1) {
    filler.push_back(arena.make(piece));
  }
  const text next = arena.make(piece); // does not fit: a new block
  CHECK(next == piece);
  CHECK(first == "first");
  CHECK(filler.back() == piece);
}

} // namespace text_test
