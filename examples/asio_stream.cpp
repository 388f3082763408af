// phrony-asio-stream: phrony on an asynchronous stack. One thread runs one Boost.Asio io_context
// and nothing blocks: it starts a run, streams the run's events, answers the approval task on a
// second connection while the stream stays open, and prints the run's output at the end.
//
//   phrony-asio-stream --base http://127.0.0.1:PORT --key KEY --agent ID [--reject]
//
// phrony builds the requests, decodes the SSE bytes (event_stream_decoder) and parses the
// bodies; this file only moves bytes: plain HTTP/1.1 over TCP (http:// bases, e.g. the
// emulator), one connection per request, chunked bodies decoded by hand. Exit status: 0 the run
// completed, 2 it failed, 1 an error (or no end within 30 s).
#include <phrony/client.hpp> // for the request builders, parsers and pending_user_tasks

#include <boost/asio.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
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
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--reject") {
      approve = false;
    } else if (i + 1 < argc && (a == "--base" || a == "--key" || a == "--agent")) {
      (a == "--base" ? cfg.base_url : a == "--key" ? cfg.api_key : agent) = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: phrony-asio-stream --base URL --key KEY --agent ID [--reject]\n");
      return 1;
    }
  }

  net::io_context io;
  int exit_code = 1;
  auto fail = [&](const std::string& why) {
    std::fprintf(stderr, "phrony-asio-stream: %s\n", why.c_str());
    io.stop();
  };
  net::steady_timer deadline(io, std::chrono::seconds(30));
  deadline.async_wait([&](auto ec) { return ec ? void() : fail("no end within 30 s"); });

  // The run's end: read its output (the stream's payloads are not the documented output).
  auto finish = [&](const std::string& run_id) {
    fetch(
        io, phrony::get_run_request(cfg, run_id),
        [&](const std::string& body) {
          auto s = phrony::parse_run_status(body);
          if (!s) {
            return fail("run status: " + s.error().what());
          }
          std::printf("%s: %s\n", s->status.c_str(), s->output.text.c_str());
          exit_code = s->state() == phrony::run_state::completed ? 0 : 2;
          deadline.cancel();
        },
        fail);
  };

  // Runs beside the open stream, on the same thread: conversation -> pending task -> answer.
  auto answer = [&](const std::string& run_id) {
    fetch(
        io, phrony::get_conversation_request(cfg, run_id, phrony::step_content::slim),
        [&, run_id](const std::string& body) {
          auto c = phrony::parse_conversation(body);
          if (!c) {
            return fail("conversation: " + c.error().what());
          }
          for (const auto& t : phrony::pending_user_tasks(*c)) {
            std::printf("   -> %s task %s: %s\n", approve ? "approving" : "rejecting",
                        t.user_task_id.c_str(), t.prompt.value_or("").c_str());
            auto m = approve ? phrony::run_message::approve(t.user_task_id)
                             : phrony::run_message::reject(t.user_task_id);
            fetch(
                io, phrony::send_message_request(cfg, t.run_id, m),
                [](const std::string&) { std::printf("   -> answer accepted\n"); }, fail);
          }
        },
        fail);
  };

  auto stream = [&](const std::string& run_id) {
    auto req = phrony::stream_request(cfg, run_id);
    auto decoder = std::make_shared<phrony::event_stream_decoder>();
    auto on_event = [&, run_id](const phrony::result<phrony::stream_event>& e,
                                const phrony::sse_event& raw) {
      const std::string id(raw.last_event_id);
      if (!e) {
        std::printf("event %s: %s\n", id.c_str(), e.error().what().c_str());
        return true;
      }
      std::printf("event %-3s %s %s\n", id.c_str(), e->subject.c_str(),
                  e->status.value_or("").c_str());
      if (e->kind_enum() == phrony::event_kind::run && e->run_id == run_id &&
          e->status == "WaitingForHITL") {
        answer(run_id);
      }
      return true;
    };
    http_call::start(
        io, *req,
        [decoder, on_event](std::string_view bytes) {
          return decoder->feed(bytes, on_event).has_value();
        },
        [&, run_id](int status, const std::string& failure) {
          if (!failure.empty() || status != 200) {
            return fail("stream: " +
                        (failure.empty() ? "HTTP " + std::to_string(status) : failure));
          }
          finish(run_id); // the server ends the stream after the session's last event
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
        stream(started->run_id);
      },
      fail);

  io.run();
  return exit_code;
}
