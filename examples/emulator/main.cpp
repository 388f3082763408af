// phrony-emulator: a local, deterministic stand-in for the Phrony API on 127.0.0.1.
//
//   phrony-emulator [--port N] [--port-file PATH] [--scenario FILE] [--seed N]
//                   [--max-connections N] [--trickle-ms N] [--drop-stream-after N]
//                   [--cr-line-ends] [--delay-ms N] [--max-concurrent N] [--camel-case-events]
//                   [--no-event-status] [--verbose] [--help] [--version]
//
// Our end-to-end tests, scripts/demo and offline development run against it, and users run it
// in their CI (README.md). Without --scenario it serves scenarios/default.json (compiled in),
// whose keys and agents are listed in examples/emulator/README.md.
#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstdint>
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

#include <phrony/version.hpp>

#include "capacity.hpp"
#include "routes.hpp"
#include "scenario.hpp"
#include "world.hpp"

namespace {

constexpr int default_port = 8787;
// Each stream follower holds a stream and, between requests, a kept-alive connection: 4096
// serves 2,000 followers at once on a thread apiece.
constexpr int default_max_connections = 4096;
// Exit statuses (sysexits.h's EX_USAGE for a bad command line).
constexpr int exit_error = 1;
constexpr int exit_usage = 64;

struct cli {
  int port = default_port;
  std::string port_file;
  std::string scenario_file;
  std::uint64_t seed = 0;
  int max_connections = default_max_connections;
};

void print_usage(std::FILE* to) {
  std::fprintf(
      to,
      "usage: phrony-emulator [--port N] [--port-file PATH] [--scenario FILE] [--seed N]\n"
      "         [--max-connections N] [--trickle-ms N] [--drop-stream-after N] [--cr-line-ends]\n"
      "         [--delay-ms N] [--max-concurrent N] [--camel-case-events] [--no-event-status]\n"
      "         [--tls-cert PEM --tls-key PEM] [--verbose] [--help] [--version]\n"
      "A local stand-in for the Phrony API on 127.0.0.1 (see examples/emulator/README.md).\n"
      "  --port N              port to bind (default %d; 0 = any free port)\n"
      "  --port-file PATH      write the bound port there once listening\n"
      "  --scenario FILE       agents and keys to serve (default: the built-in default.json)\n"
      "  --seed N              which deterministic id sequence to hand out (default 0)\n"
      "  --max-connections N   connections served at once, a thread each (default %d)\n"
      "  --trickle-ms N        send bodies in 16-byte pieces, N ms apart\n"
      "  --drop-stream-after N cut each run's first stream mid-event after N events\n"
      "  --cr-line-ends        end event-stream lines with a lone CR\n"
      "  --delay-ms N          delay every response by N ms\n"
      "  --max-concurrent N    more than N active sessions per key: start-run answers 429\n"
      "  --camel-case-events   stream events' data keys in camelCase\n"
      "  --no-event-status     run and session events carry no status\n"
      "  --tls-cert PEM --tls-key PEM  serve https with this certificate and key\n"
      "  --verbose             log METHOD path -> status to stderr\n"
      "Stops on SIGINT or SIGTERM. Exit status: 0 stopped by a signal, 1 an error (cannot read\n"
      "the scenario, cannot listen), 64 a usage error.\n",
      default_port, default_max_connections);
}

int usage(const std::string& why) {
  std::fprintf(stderr, "phrony-emulator: %s\n", why.c_str());
  print_usage(stderr);
  return exit_usage;
}

bool parse_int(std::string_view s, int& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size() && out >= 0;
}

bool parse_u64(std::string_view s, std::uint64_t& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
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
      {"--max-connections", &args.max_connections},
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--help" || a == "-h") {
      print_usage(stdout);
      return 0;
    }
    if (a == "--version") {
      std::printf("phrony-emulator %s\n", PHRONY_VERSION_STRING);
      return 0;
    }
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
        return usage("missing value after " + std::string(a));
      }
      (a == "--port-file" ? args.port_file : args.scenario_file) = value;
      ++i;
      continue;
    }
    if (a == "--seed") {
      if (value == nullptr || !parse_u64(value, args.seed)) {
        return usage("expected a number from 0 to 2^64-1 after --seed");
      }
      ++i;
      continue;
    }
    const auto* opt_int = std::find_if(std::begin(int_options), std::end(int_options),
                                       [&](const auto& o) { return o.first == a; });
    if (opt_int == std::end(int_options)) {
      return usage("unknown option: " + std::string(a));
    }
    if (value == nullptr || !parse_int(value, *opt_int->second)) {
      return usage("expected a non-negative integer after " + std::string(a));
    }
    ++i;
  }
  if (args.port > 65535) {
    return usage("--port must be at most 65535");
  }
  if (args.max_connections < 1) {
    return usage("--max-connections must be at least 1");
  }
  opt.max_concurrent = static_cast<std::size_t>(max_concurrent);

  std::string text(emu::default_scenario_json());
  if (!args.scenario_file.empty()) {
    std::ifstream f(args.scenario_file, std::ios::binary);
    std::ostringstream buf;
    buf << f.rdbuf();
    if (!f) {
      std::fprintf(stderr, "phrony-emulator: cannot read %s\n", args.scenario_file.c_str());
      return exit_error;
    }
    text = buf.str();
  }
  std::string why;
  auto sc = emu::parse_scenario(text, why);
  if (!sc) {
    std::fprintf(stderr, "phrony-emulator: bad scenario: %s\n", why.c_str());
    return exit_error;
  }

  // Block SIGINT/SIGTERM in every thread (they inherit the mask); one thread takes them with
  // sigwait, where it may safely stop the server, which a signal handler may not.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // A connection is a descriptor and a thread: keep --max-connections within the descriptors.
  const std::size_t descriptors = emu::raise_descriptor_limit();
  const auto max_connections = static_cast<std::size_t>(args.max_connections);
  if (descriptors < max_connections + 64) {
    std::fprintf(stderr,
                 "phrony-emulator: --max-connections %zu is more than the descriptor limit "
                 "(%zu; ulimit -n) allows: connections past it will wait or fail\n",
                 max_connections, descriptors);
  }

  emu::world world(std::move(*sc), std::chrono::milliseconds(20), args.seed);
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
  // A thread per connection, started as connections come (capacity.hpp): streams and kept-alive
  // connections each hold one, so a fixed pool lets open streams starve short requests.
  server.new_task_queue = [max_connections] { return new emu::connection_pool(max_connections); };
  const auto listener = emu::watch_listener(server);
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
    return exit_error;
  }
  if (!emu::widen_backlog(*listener, args.max_connections)) {
    std::fprintf(stderr, "phrony-emulator: cannot widen the listen backlog; bursts of connects "
                         "will wait\n");
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
  return ok || signalled ? 0 : exit_error;
}
