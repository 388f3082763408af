// phrony-asio-stream: phrony on an asynchronous stack. One thread runs one Boost.Asio io_context
// and nothing blocks: it starts a run, streams the run's events, lets phrony's run_follower
// decide what each event means (a hint, confirmed with the run's status), answers approval tasks
// on other connections while the stream stays open, and prints the run's output at the end.
//
//   phrony-asio-stream --base http://127.0.0.1:PORT --key KEY --agent ID [--reject]
//                      [--option ID] [--text TEXT]
//
// phrony builds the requests, decodes the SSE bytes (event_stream_decoder), parses the bodies
// and decides the next step (run_follower); this file only moves bytes and runs the timers:
// plain HTTP/1.1 over TCP (http:// bases, e.g. the emulator), one connection per request,
// chunked bodies decoded by hand. Exit status: 0 the run completed, 2 it failed, 3 a task waits
// for a person in the dashboard at the end of the 30 s limit, 1 an error (or no end in 30 s).
#include <phrony/client.hpp> // for the request builders, parsers and pending_user_tasks

#include <boost/asio.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

/// Decodes the chunked transfer coding (RFC 9112, section 7.1) as bytes arrive.
class chunked_decoder {
public:
  /// Appends the body bytes found in `in` to `out`; false on a malformed framing.
  bool feed(std::string_view in, std::string& out) {
    buf_.append(in);
    for (;;) {
      if (state_ == state::data) {
        const std::size_t n = std::min(left_, buf_.size());
        out.append(buf_, 0, n);
        buf_.erase(0, n);
        left_ -= n;
        if (left_ > 0) {
          return true;
        }
        state_ = state::data_end;
      }
      const std::size_t eol = buf_.find("\r\n");
      if (eol == std::string::npos || state_ == state::done) {
        return true;
      }
      const std::string line = buf_.substr(0, eol);
      buf_.erase(0, eol + 2);
      if (state_ == state::data_end) {
        if (!line.empty()) {
          return false;
        }
        state_ = state::size;
      } else if (state_ == state::trailers) {
        state_ = line.empty() ? state::done : state::trailers;
      } else { // a size line: hex digits, then maybe ";extensions"
        char* end = nullptr;
        left_ = std::strtoull(line.c_str(), &end, 16);
        if (end == line.c_str()) {
          return false;
        }
        state_ = left_ == 0 ? state::trailers : state::data;
      }
    }
  }
  [[nodiscard]] bool done() const { return state_ == state::done; }

private:
  enum class state { size, data, data_end, trailers, done };
  state state_ = state::size;
  std::size_t left_ = 0;
  std::string buf_;
};

/// One HTTP/1.1 exchange on its own connection: resolve, connect, write, then read the head and
/// hand the body to `on_body` as it arrives. `on_body` returns false to stop reading.
class http_call : public std::enable_shared_from_this<http_call> {
public:
  using body_fn = std::function<bool(std::string_view)>;
  using done_fn = std::function<void(int status, const std::string& failure)>;

  static void start(net::io_context& io, const phrony::http_request& req, body_fn on_body,
                    done_fn on_done) {
    auto c = std::shared_ptr<http_call>(new http_call(io, std::move(on_body), std::move(on_done)));
    c->begin(req);
  }

private:
  http_call(net::io_context& io, body_fn b, done_fn d)
      : resolver_(io), socket_(io), on_body_(std::move(b)), on_done_(std::move(d)) {}

  void begin(const phrony::http_request& req) {
    const std::string_view url = req.url;
    if (!url.starts_with("http://")) {
      return finish("only http:// URLs are supported");
    }
    const std::string_view rest = url.substr(7);
    const std::size_t slash = std::min(rest.find('/'), rest.size());
    const std::string_view authority = rest.substr(0, slash);
    const std::size_t colon = std::min(authority.rfind(':'), authority.size());
    const std::string host(authority.substr(0, colon));
    const std::string port(colon < authority.size() ? authority.substr(colon + 1) : "80");
    out_ = req.method + " " + std::string(slash < rest.size() ? rest.substr(slash) : "/") +
           " HTTP/1.1\r\nHost: " + std::string(authority) + "\r\nConnection: close\r\n";
    for (const auto& h : req.headers) {
      out_ += h.name + ": " + h.value + "\r\n";
    }
    out_ += "Content-Length: " + std::to_string(req.body.size()) + "\r\n\r\n" + req.body;
    resolver_.async_resolve(host, port, [self = shared_from_this()](auto ec, auto endpoints) {
      if (ec) {
        return self->finish("resolve: " + ec.message());
      }
      net::async_connect(self->socket_, endpoints, [self](auto ec2, auto) {
        if (ec2) {
          return self->finish("connect: " + ec2.message());
        }
        net::async_write(self->socket_, net::buffer(self->out_), [self](auto ec3, auto) {
          return ec3 ? self->finish("write: " + ec3.message()) : self->read();
        });
      });
    });
  }

  void read() {
    socket_.async_read_some(net::buffer(in_), [self = shared_from_this()](auto ec, std::size_t n) {
      if (!ec) {
        return self->on_bytes(std::string_view(self->in_.data(), n));
      }
      const bool complete = ec == net::error::eof && self->status_ != 0 && !self->chunked_;
      self->finish(complete ? "" : "connection ended early: " + ec.message());
    });
  }

  void on_bytes(std::string_view bytes) {
    std::string body;
    if (status_ == 0) { // still in the head
      head_.append(bytes);
      const std::size_t end = head_.find("\r\n\r\n");
      if (end == std::string::npos) {
        return read();
      }
      status_ = head_.size() > 12 ? std::atoi(head_.c_str() + 9) : -1;
      std::string lower = head_.substr(0, end);
      for (char& ch : lower) {
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      }
      chunked_ = lower.find("\r\ntransfer-encoding: chunked") != std::string::npos;
      bytes = std::string_view(head_).substr(end + 4);
    }
    if (chunked_ && !dechunk_.feed(bytes, body)) {
      return finish("malformed chunked body");
    }
    const std::string_view piece = chunked_ ? std::string_view(body) : bytes;
    if (!piece.empty() && !on_body_(piece)) {
      return finish(""); // the caller has what it wanted
    }
    return chunked_ && dechunk_.done() ? finish("") : read();
  }

  void finish(const std::string& failure) {
    boost::system::error_code ignored;
    socket_.close(ignored);
    if (auto done = std::exchange(on_done_, nullptr)) {
      done(status_, failure);
    }
  }

  tcp::resolver resolver_;
  tcp::socket socket_;
  body_fn on_body_;
  done_fn on_done_;
  std::string out_, head_;
  std::array<char, 4096> in_{};
  int status_ = 0;
  bool chunked_ = false;
  chunked_decoder dechunk_;
};

/// A whole-body exchange: `then(body)` on a 2xx answer, else the error goes to `fail`.
void fetch(net::io_context& io, phrony::result<phrony::http_request> req,
           std::function<void(const std::string&)> then,
           std::function<void(const std::string&)> fail) {
  if (!req) {
    return fail(req.error().what());
  }
  auto body = std::make_shared<std::string>();
  http_call::start(
      io, *req, [body](std::string_view b) { return body->append(b), true; },
      [body, route = req->route(), then, fail](int status, const std::string& failure) {
        if (!failure.empty() || status < 200 || status > 299) {
          return fail(route + ": " +
                      (failure.empty() ? "HTTP " + std::to_string(status) : failure));
        }
        then(*body);
      });
}

} // namespace

int main(int argc, char** argv) {
  phrony::api_config cfg;
  std::string agent;
  bool approve = true;
  std::optional<std::string> option, text; // answers to multi_option and text tasks
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--reject") {
      approve = false;
    } else if (i + 1 < argc && (a == "--base" || a == "--key" || a == "--agent")) {
      (a == "--base" ? cfg.base_url : a == "--key" ? cfg.api_key : agent) = argv[++i];
    } else if (i + 1 < argc && (a == "--option" || a == "--text")) {
      (a == "--option" ? option : text) = argv[++i];
    } else {
      std::fprintf(stderr, "usage: phrony-asio-stream --base URL --key KEY --agent ID [--reject]"
                           " [--option ID] [--text TEXT]\n");
      return 1;
    }
  }

  net::io_context io;
  int exit_code = 1;
  bool over = false;
  auto fail = [&](const std::string& why) {
    std::fprintf(stderr, "phrony-asio-stream: %s\n", why.c_str());
    over = true;
    io.stop();
  };
  auto now = [] { return std::chrono::system_clock::now(); };
  const phrony::follow_options fo; // poll backoff, hint debounce, idle watchdog
  std::optional<phrony::run_follower> follower;
  bool stream_open = false;
  net::steady_timer deadline(io), wait(io), idle(io), reconnect(io);
  deadline.expires_after(std::chrono::seconds(30));
  deadline.async_wait([&](auto ec) {
    if (ec) {
      return;
    }
    if (follower && follower->dashboard_task()) {
      std::printf("waiting for a person in the dashboard: %s\n",
                  follower->dashboard_task()->prompt.value_or("").c_str());
      exit_code = 3;
    }
    fail("no end within 30 s");
  });

  // Does what the follower asks; every answer comes back here. Stream hints and the idle
  // watchdog call it too while the follower listens; one that comes during a call is replayed
  // after it (a status read before the news would be stale).
  std::function<void()> step;
  bool busy = false, recheck = false;
  auto hint = [&](bool look) {
    if (look) {
      busy ? void(recheck = true) : step();
    }
  };
  // One call for the follower: `feed` gives it the 2xx body (or `on_error` the failure).
  auto call = [&](phrony::result<phrony::http_request> req,
                  std::function<void(const std::string&)> feed,
                  std::function<void(const std::string&)> on_error = nullptr) {
    busy = true;
    auto then = [&, feed](const std::string& body) {
      busy = false;
      feed(body);
      if (std::exchange(recheck, false)) {
        follower->on_stream_gap(now());
      }
      if (!over) {
        step();
      }
    };
    fetch(io, std::move(req), then,
          on_error ? [then, on_error](const std::string& why) { on_error(why), then(""); }
                   : std::function<void(const std::string&)>(fail));
  };
  step = [&] {
    using k = phrony::follow_action::kind;
    const phrony::follow_action& a = follower->next();
    const std::string run_id = follower->run_id();
    switch (a.what) {
    case k::done:
    case k::failed:
      std::printf("%s: %s\n", a.status.c_str(),
                  (a.what == k::done ? a.output.text : a.error).c_str());
      exit_code = a.what == k::done ? 0 : a.end == phrony::follow_end::failed ? 2 : 1;
      over = true;
      io.stop();
      return;
    case k::wait_for_dashboard:
      std::printf("   -> waiting for a person in the dashboard: %s\n",
                  a.task->prompt.value_or("").c_str());
      [[fallthrough]];
    case k::get_status:
      if (a.listen && stream_open) {
        return; // the stream's hints, or the idle watchdog, say when to look
      }
      wait.expires_after(a.delay);
      wait.async_wait([&, run_id](auto ec) {
        if (ec || busy) {
          return; // a hint came first and took over
        }
        call(phrony::get_run_request(cfg, run_id), [&](const std::string& body) {
          auto s = phrony::parse_run_status(body);
          s ? follower->on_status(*s) : follower->fail("run status: " + s.error().what());
        });
      });
      return;
    case k::get_conversation:
      call(phrony::get_conversation_request(cfg, run_id, phrony::step_content::slim),
           [&](const std::string& body) {
             auto c = phrony::parse_conversation(body);
             c ? follower->on_conversation(*c)
               : follower->fail("conversation: " + c.error().what());
           });
      return;
    case k::answer_task: {
      const phrony::pending_user_task& t = *a.task;
      std::optional<phrony::run_message> m;
      switch (t.kind_enum()) {
      case phrony::user_task_kind::multi_option:
        m = option ? std::optional(phrony::run_message::choose_option(t.user_task_id, *option))
                   : std::nullopt;
        break;
      case phrony::user_task_kind::text:
        m = text ? std::optional(phrony::run_message::answer_text(t.user_task_id, *text))
                 : std::nullopt;
        break;
      default: // approvals, and kinds this example does not know
        m = approve ? phrony::run_message::approve(t.user_task_id)
                    : phrony::run_message::reject(t.user_task_id);
      }
      if (!m) {
        follower->fail("no answer for a " + t.kind.value_or("") + " task on the command line");
        step();
        return;
      }
      std::printf("   -> answering task %s: %s\n", t.user_task_id.c_str(),
                  t.prompt.value_or("").c_str());
      call(phrony::send_message_request(cfg, t.run_id, *m), [&](const std::string&) {
        std::printf("   -> answer accepted\n");
        follower->on_answered();
      });
      return;
    }
    case k::skip_timer: // a 400 means the timer fired meanwhile: look again all the same
      call(
          phrony::skip_agent_wait_request(cfg, run_id),
          [&](const std::string&) { follower->on_answered(); }, [](const std::string&) {});
      return;
    case k::send_text:
      follower->fail("the run waits for a message, and this example sends none");
      step();
      return;
    }
  };

  // No bytes for idle_timeout: look at the run (the stream may be stalled or have lost events).
  std::function<void()> watch = [&] {
    idle.expires_after(fo.idle_timeout);
    idle.async_wait([&](auto ec) {
      if (!ec && !over) {
        hint(follower->on_stream_gap(now()));
        watch();
      }
    });
  };

  auto decoder = std::make_shared<phrony::event_stream_decoder>();
  std::function<void()> stream = [&] {
    const auto last = phrony::reconnect_last_event_id(*decoder);
    auto req = phrony::stream_request(cfg, follower->run_id(),
                                      last ? std::optional<std::string_view>(*last) : std::nullopt);
    if (!req) {
      return fail("stream: " + req.error().what());
    }
    auto on_event = [&](const phrony::result<phrony::stream_event>& e,
                        const phrony::sse_event& raw) {
      const std::string id(raw.last_event_id);
      if (!e) {
        std::printf("event %s: %s\n", id.c_str(), e.error().what().c_str());
        return true;
      }
      std::printf("event %-3s %s %s\n", id.c_str(), e->subject.c_str(),
                  e->status.value_or("").c_str());
      hint(follower->on_event(*e, now()));
      return true;
    };
    stream_open = true;
    watch();
    http_call::start(
        io, *req,
        [&, decoder, on_event](std::string_view bytes) {
          watch();
          return decoder->feed(bytes, on_event).has_value();
        },
        [&, decoder](int status, const std::string& failure) {
          stream_open = false;
          idle.cancel();
          (void)decoder->finish();
          if (over) {
            return;
          }
          if (!failure.empty() || status != 200) { // polling takes over
            std::printf("stream: %s\n",
                        (failure.empty() ? "HTTP " + std::to_string(status) : failure).c_str());
          } else { // the server ends the stream after the session's last event; else resume
            reconnect.expires_after(
                std::min(phrony::reconnect_delay(*decoder, std::chrono::milliseconds(1000)),
                         std::chrono::milliseconds(30'000)));
            reconnect.async_wait([&](auto ec) { return ec || over ? void() : stream(); });
          }
          hint(follower->on_stream_gap(now())); // what did the stream not tell?
        });
  };

  fetch(
      io, phrony::start_run_request(cfg, agent),
      [&](const std::string& body) {
        auto started = phrony::parse_start_run(body);
        if (!started) {
          return fail("start run: " + started.error().what());
        }
        std::printf("started run %s\n", started->run_id.c_str());
        follower.emplace(started->run_id, fo);
        stream();
        step(); // the follower's first step: read the run's status
      },
      fail);

  io.run();
  return exit_code;
}
