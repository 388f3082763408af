// check_conversation, the conversation target's invariants (fuzz_conversation.cpp and
// fuzz_shaped.cpp): apart from checks.hpp because it parses from a simdjson::padded_string too,
// and simdjson.h is a third of the compile time of a target that does not need it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include <phrony/conversation.hpp>
#include <simdjson.h>

#include "checks.hpp"

namespace phrony_fuzz {

template <class = void> void check_conversation(std::string_view body) {
  round_trip(body, phrony::parse_conversation);
  check_parse_modes(body, phrony::parse_conversation, {.duplicate_item_type_refused = true});

  const simdjson::padded_string padded(body);
  for (const bool strict : {true, false}) {
    const phrony::parse_options opts{.strict = strict};
    const auto plain = phrony::parse_conversation(body, opts);
    const auto from_padded = phrony::parse_conversation(padded, opts);
    check(plain.has_value() == from_padded.has_value(), "padded and plain parses agree");
    if (!plain) {
      check(plain.error().code == from_padded.error().code &&
                plain.error().path == from_padded.error().path,
            "padded and plain parses fail alike");
    } else {
      check(*plain == *from_padded, "padded and plain parses give equal values");
    }
  }
  const auto plain = phrony::parse_conversation(body);
  if (body.size() % 8 == 0) { // now and then: from fresh buffers, the same result
    phrony::release_thread_buffers();
    const auto sizes = phrony::detail::thread_buffers();
    const std::size_t sso = std::string().capacity(); // an empty string's: 15 or 22 bytes
    check(sizes.parser == 0 && sizes.buffer <= sso && sizes.deferred_parser == 0 &&
              sizes.deferred_text <= 2 * sso,
          "release_thread_buffers frees the parse buffers");
    const auto fresh = phrony::parse_conversation(body);
    check(fresh.has_value() == plain.has_value() && (!fresh || *fresh == *plain),
          "parsing after release_thread_buffers gives the same result");
  }
  if (!plain) {
    return;
  }
  check(plain->session.state() == phrony::parse_run_state(plain->session.status),
        "the session's state() maps its status");
  for (const auto& run : plain->runs) {
    check(run.state() == phrony::parse_run_state(run.status), "a run's state() maps its status");
  }
  for (std::size_t i = 0; i < plain->items.size(); ++i) {
    const auto& item = plain->items[i];
    const auto kind = item.kind();
    check(phrony::to_string(kind).empty() == (kind == phrony::item_type::unknown) &&
              (kind == phrony::item_type::unknown ||
               phrony::parse_item_type(phrony::to_string(kind)) == kind),
          "a known item type's wire name maps back to it");
    if (const auto* done = item.content_as<phrony::run_completed_content>()) {
      check(done->state() == phrony::parse_run_state(done->status), "completion state() maps");
    }
    if (const auto* done = item.content_as<phrony::session_completed_content>()) {
      check(done->state() == phrony::parse_run_state(done->status), "completion state() maps");
    }
    if (const auto* result = item.content_as<phrony::tool_result_content>()) {
      const auto text = result->result.error_text();
      check(text.has_value() == (result->result.error.text.front() == '"'),
            "a tool result's error has a text exactly when it is a string");
    }
    check(item.content_as<std::monostate>() != nullptr ||
              (item.content_as<phrony::unknown_content>() != nullptr) ==
                  (item.kind() == phrony::item_type::unknown || item.content_error.has_value()),
          "a content is typed exactly when its type is known and it has the type's shape");
    if (!item.content_error) {
      continue;
    }
    check(item.content_as<phrony::unknown_content>() != nullptr &&
              item.kind() != phrony::item_type::unknown,
          "a kept content is verbatim, of a known type");
    const std::string prefix = "/items/" + std::to_string(i) + "/content";
    check(item.content_error->path.compare(0, prefix.size(), prefix) == 0,
          "a kept content's error names a path inside it");
  }
  const auto tasks = phrony::pending_user_tasks(*plain);
  for (std::size_t t = 0; t < tasks.size(); ++t) {
    const auto& task = tasks[t];
    const auto run = std::find_if(plain->runs.begin(), plain->runs.end(),
                                  [&](const auto& r) { return r.id == task.run_id; });
    check(run != plain->runs.end(), "a pending task belongs to a listed run");
    check(!phrony::is_terminal(run->state()), "a pending task's run is not finished");
    check(t == 0 || tasks[t - 1].ordinal <= task.ordinal, "pending tasks come by ordinal");
    check(std::none_of(tasks.begin(), tasks.begin() + static_cast<std::ptrdiff_t>(t),
                       [&](const auto& other) { return other.run_id == task.run_id; }),
          "one pending task per run");
    check(task.api_can_answer() == phrony::api_can_answer(task.kind_enum()),
          "api_can_answer follows the kind");
    check(!task.kind || phrony::parse_user_task_kind(*task.kind) == task.kind_enum(),
          "kind_enum maps the wire kind");
    const auto wire = phrony::to_string(task.kind_enum());
    check(wire.empty() == (task.kind_enum() == phrony::user_task_kind::unknown) &&
              (wire.empty() || phrony::parse_user_task_kind(wire) == task.kind_enum()),
          "a known task kind's wire name maps back to it");
  }
  if (!plain->items.empty()) {
    const auto& first = plain->items.front();
    const auto& last = plain->items.back();
    check_text(first.id, last.run_id);
    check_text(last.type, first.id);
    auto item = first; // copy-assigned over, content and content_error included
    item = last;
    check(item == last && plain->items.front() == first,
          "an item copy-assigned is equal and apart");
  }
  auto sorted = *plain;
  sorted.sort_by_ordinal();
  check(std::is_sorted(sorted.items.begin(), sorted.items.end(),
                       [](const auto& a, const auto& b) { return a.ordinal < b.ordinal; }) &&
            sorted.items.size() == plain->items.size(),
        "sort_by_ordinal sorts and keeps every item");
  check(phrony::pending_user_tasks(sorted) == tasks, "pending tasks do not depend on item order");
}

} // namespace phrony_fuzz
