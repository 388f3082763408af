// phrony-emulator: a local, deterministic stand-in for the Phrony API on 127.0.0.1.
//
//   phrony-emulator [--port N] [--port-file PATH] [--scenario FILE] [--trickle-ms N]
//                   [--drop-stream-after N] [--cr-line-ends] [--delay-ms N]
//                   [--max-concurrent N] [--camel-case-events] [--no-event-status] [--verbose]
//
// Our end-to-end tests, scripts/demo and offline development run against it. Without
// --scenario it serves scenarios/default.json (compiled in), whose keys and agents are listed
// in examples/emulator/README.md.
#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <pthread.h>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "routes.hpp"
#include "scenario.hpp"
#include "world.hpp"

namespace {

constexpr int default_port = 8787;

struct cli {
  int port = default_port;
  std::string port_file;
  std::string scenario_file;
};

int usage(const char* why) {
  std::fprintf(
      stderr,
      "phrony-emulator: %s\n"
      "usage: phrony-emulator [--port N (0 = any free port; default %d)] [--port-file PATH]\n"
      "         [--scenario FILE] [--trickle-ms N] [--drop-stream-after N] [--cr-line-ends]\n"
      "         [--delay-ms N] [--max-concurrent N] [--camel-case-events] [--no-event-status]\n"
      "         [--verbose]\n",
      why, default_port);
  return 2;
}

bool parse_int(std::string_view s, int& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size() && out >= 0;
}

// Written to a temporary name and renamed, so a script polling for the file never reads it
// half-written.
bool write_port_file(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << port << '\n';
    if (!f) {
      return false;
    }
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

} // namespace

int main(int argc, char** argv) {
  // --tls-cert PEM --tls-key PEM: serve https. Taken out of argv before the other options.
  std::string tls_cert, tls_key;
  {
    int kept = 1;
    for (int i = 1; i < argc; ++i) {
      const std::string_view a = argv[i];
      if (a == "--tls-cert" || a == "--tls-key") {
        if (i + 1 >= argc) {
          return usage(("missing value after " + std::string(a)).c_str());
        }
        (a == "--tls-cert" ? tls_cert : tls_key) = argv[++i];
        continue;
      }
      argv[kept++] = argv[i];
    }
    argc = kept;
    if (tls_cert.empty() != tls_key.empty()) {
      return usage("--tls-cert and --tls-key go together");
    }
  }
  cli args;
  emu::http_options opt;
  int max_concurrent = 0;
  const std::pair<std::string_view, int*> int_options[] = {
      {"--port", &args.port},
      {"--trickle-ms", &opt.trickle_ms},
      {"--drop-stream-after", &opt.drop_stream_after},
      {"--delay-ms", &opt.delay_ms},
      {"--max-concurrent", &max_concurrent},
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--cr-line-ends") {
      opt.cr_line_ends = true;
      continue;
    }
    if (a == "--verbose") {
      opt.verbose = true;
      continue;
    }
    if (a == "--camel-case-events") {
      opt.camel_case_events = true;
      continue;
    }
    if (a == "--no-event-status") {
      opt.event_status = false;
      continue;
    }
    if (a == "--port-file" || a == "--scenario") {
      if (value == nullptr) {
        return usage(("missing value after " + std::string(a)).c_str());
      }
      (a == "--port-file" ? args.port_file : args.scenario_file) = value;
      ++i;
      continue;
    }
    const auto* opt_int = std::find_if(std::begin(int_options), std::end(int_options),
                                       [&](const auto& o) { return o.first == a; });
    if (opt_int == std::end(int_options)) {
      return usage(("unknown option: " + std::string(a)).c_str());
    }
    if (value == nullptr || !parse_int(value, *opt_int->second)) {
      return usage(("expected a non-negative integer after " + std::string(a)).c_str());
    }
    ++i;
  }
  if (args.port > 65535) {
    return usage("--port must be at most 65535");
  }
  opt.max_concurrent = static_cast<std::size_t>(max_concurrent);

  std::string text(emu::default_scenario_json());
  if (!args.scenario_file.empty()) {
    std::ifstream f(args.scenario_file, std::ios::binary);
    std::ostringstream buf;
    buf << f.rdbuf();
    if (!f) {
      std::fprintf(stderr, "phrony-emulator: cannot read %s\n", args.scenario_file.c_str());
      return 2;
    }
    text = buf.str();
  }
  std::string why;
  auto sc = emu::parse_scenario(text, why);
  if (!sc) {
    std::fprintf(stderr, "phrony-emulator: bad scenario: %s\n", why.c_str());
    return 2;
  }

  // Block SIGINT/SIGTERM in every thread (they inherit the mask); one thread takes them with
  // sigwait, where it may safely stop the server, which a signal handler may not.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  emu::world world(std::move(*sc), std::chrono::milliseconds(20));
  std::thread engine([&] { world.run_engine(); });

  // Debian's cpp-httplib is built with OpenSSL (CPPHTTPLIB_OPENSSL_SUPPORT): https on request.
  std::unique_ptr<httplib::Server> owned_server;
  if (!tls_cert.empty()) {
    auto tls = std::make_unique<httplib::SSLServer>(tls_cert.c_str(), tls_key.c_str());
    if (!tls->is_valid()) {
      std::fprintf(stderr, "phrony-emulator: cannot serve TLS with %s and %s\n", tls_cert.c_str(),
                   tls_key.c_str());
      world.stop();
      engine.join();
      return 1;
    }
    owned_server = std::move(tls);
  } else {
    owned_server = std::make_unique<httplib::Server>();
  }
  httplib::Server& server = *owned_server;
  // A thread per connection: streams and keep-alive connections each hold one, so the default
  // pool of 8 would let a few idle clients starve everyone else.
  server.new_task_queue = [] { return new httplib::ThreadPool(64); };
  server.set_payload_max_length(64u << 20);
  emu::install_routes(server, world, opt);

  int port = args.port;
  if (port == 0) {
    port = server.bind_to_any_port("127.0.0.1");
  } else if (!server.bind_to_port("127.0.0.1", port)) {
    port = -1;
  }
  if (port <= 0) {
    std::fprintf(stderr, "phrony-emulator: cannot listen on 127.0.0.1:%d\n", args.port);
    world.stop();
    engine.join();
    return 1;
  }
  opt.port = port;
  if (!args.port_file.empty() && !write_port_file(args.port_file, port)) {
    std::fprintf(stderr, "phrony-emulator: cannot write %s\n", args.port_file.c_str());
  }
  std::cout << (tls_cert.empty() ? "listening on http://127.0.0.1:"
                                 : "listening on https://127.0.0.1:")
            << port << std::endl;

  std::atomic<bool> signalled{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    signalled = true;
    world.stop(); // streams notice within one keepalive period
    server.stop();
  });
  const bool ok = server.listen_after_bind();
  if (!signalled) {
    pthread_kill(waiter.native_handle(), SIGTERM); // wake the waiter so it can be joined
  }
  waiter.join();
  world.stop();
  engine.join();
  if (opt.verbose) {
    std::fprintf(stderr, "phrony-emulator: stopped\n");
  }
  return ok || signalled ? 0 : 1;
}
