// Compile-cost probe (tests/bench/run): README's client example (client<curl_transport>:
// start_run, follow_run, stream_events), as a user's file that talks to the API.
#include <phrony/client.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>

#include "transports/curl_transport.hpp"

int main(int argc, char** argv) {
  const char* agent_id = argc > 1 ? argv[1] : "agent_1";
  const char* key = std::getenv("PHRONY_API_KEY");
  if (key == nullptr) {
    std::cerr << "set PHRONY_API_KEY\n";
    return 1;
  }
  phrony::client api(phrony_examples::curl_transport{},
                     phrony::api_config{"https://api.phrony.com", key});
  auto run = api.start_run(agent_id, phrony::parse_json_object(R"({"customer":"cus_1"})").value());
  if (!run) {
    std::cerr << run.error().what() << '\n';
    return 1;
  }
  phrony::follow_handler decide;
  decide.answer_task =
      [](const phrony::pending_user_task& t) -> std::optional<phrony::run_message> {
    return phrony::run_message::approve(t.user_task_id);
  };
  decide.on_dashboard_task = [](const phrony::pending_user_task& t) {
    std::cerr << "waiting for a person in the dashboard: " << t.prompt.value_or("") << '\n';
  };
  phrony::follow_options bound;
  bound.max_duration = std::chrono::minutes{10};
  auto outcome = api.follow_run(run->run_id, decide, bound);
  if (!outcome) {
    std::cerr << outcome.error().what() << '\n';
    return 1;
  }
  auto done = api.stream_events(run->run_id, [](const phrony::result<phrony::stream_event>& ev) {
    if (ev) {
      std::cout << ev->subject << '\n';
    }
  });
  return done ? 0 : 1;
}
