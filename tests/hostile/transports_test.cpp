// The example transports (examples/transports/*.hpp) against a real loopback server: response
// body bounds, the overall deadline against a trickle, exceptions from stream callbacks, and the
// headers an upload PUT carries. Every case runs for both libcurl and cpp-httplib.
#include "transports/curl_transport.hpp"
#include "transports/httplib_transport.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace std::chrono_literals;
using phrony::errc;
using phrony_examples::curl_transport;
using phrony_examples::httplib_transport;
using std::chrono::steady_clock;

namespace {

constexpr std::size_t mib = std::size_t{1} << 20;

/// An httplib::Server on 127.0.0.1 with the routes these tests use, in its own thread.
class loopback_server {
public:
  loopback_server() {
    srv_.Get("/small", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{\"ok\":true}", "application/json");
    });
    // 3 MiB, once with a Content-Length and once chunked (no length announced up front).
    srv_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(3 * mib, 'x'), "application/json");
    });
    srv_.Get("/big-chunked", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("application/json", big_chunks);
    });
    srv_.Get("/big-error-stream", [](const httplib::Request&, httplib::Response& res) {
      res.status = 500;
      res.set_chunked_content_provider("text/plain", big_chunks);
    });
    srv_.Get("/big-stream", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("text/event-stream", big_chunks);
    });
    // One byte every 100 ms for at most 20 s: a transport with a 1 s deadline must give up.
    srv_.Get("/trickle", [this](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("text/event-stream",
                                       [this](std::size_t, httplib::DataSink& sink) {
                                         for (int i = 0; i < 200 && !stopping_; ++i) {
                                           if (!sink.write(":", 1)) {
                                             return false;
                                           }
                                           std::this_thread::sleep_for(100ms);
                                         }
                                         sink.done();
                                         return true;
                                       });
    });
    srv_.Get("/events", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("data: {}\n\ndata: {}\n\n", "text/event-stream");
    });
    srv_.Put("/upload", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      last_content_types_.clear();
      for (const auto& [name, value] : req.headers) {
        if (strcasecmp(name.c_str(), "Content-Type") == 0) {
          last_content_types_.push_back(value);
        }
      }
      last_body_ = req.body;
      res.status = 200;
    });
    port_ = srv_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { srv_.listen_after_bind(); });
    for (int i = 0; i < 500 && !srv_.is_running(); ++i) {
      std::this_thread::sleep_for(10ms);
    }
  }
  loopback_server(const loopback_server&) = delete;
  loopback_server& operator=(const loopback_server&) = delete;
  ~loopback_server() {
    stopping_ = true;
    srv_.stop();
    thread_.join();
  }

  [[nodiscard]] std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  [[nodiscard]] std::vector<std::string> last_content_types() {
    std::lock_guard lock(mu_);
    return last_content_types_;
  }
  [[nodiscard]] std::string last_body() {
    std::lock_guard lock(mu_);
    return last_body_;
  }

private:
  static bool big_chunks(std::size_t offset, httplib::DataSink& sink) {
    const std::string chunk(64 * 1024, 'y');
    if (offset >= 3 * mib) {
      sink.done();
      return true;
    }
    return sink.write(chunk.data(), chunk.size());
  }

  httplib::Server srv_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::vector<std::string> last_content_types_;
  std::string last_body_;
};

loopback_server& server() {
  static loopback_server s;
  return s;
}

/// A server on 127.0.0.1 that reads one request and answers with `answer(write)`, where
/// write(bytes) returns false once the client is gone or the test is over.
class raw_server {
public:
  using writer = std::function<bool(std::string_view)>;

  explicit raw_server(std::function<void(const writer&)> answer) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), len) == 0);
    REQUIRE(listen(fd_, 4) == 0);
    REQUIRE(getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this, answer = std::move(answer)] {
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) {
        return;
      }
      conn_ = c;
      char buf[4096];
      (void)!read(c, buf, sizeof buf);
      answer([this, c](std::string_view bytes) {
        return !stopping_ && send(c, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
                                 static_cast<ssize_t>(bytes.size());
      });
    });
  }
  raw_server(const raw_server&) = delete;
  raw_server& operator=(const raw_server&) = delete;
  ~raw_server() {
    stopping_ = true;
    shutdown(fd_, SHUT_RDWR); // wakes a pending accept()
    const int c = conn_;      // closed here, not by the thread, so this number stays ours
    if (c >= 0) {
      shutdown(c, SHUT_RDWR); // wakes a send() the client no longer reads (its window closed)
    }
    thread_.join();
    if (const int last = conn_; last >= 0) {
      close(last);
    }
    close(fd_);
  }
  [[nodiscard]] std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/raw";
  }

private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> conn_{-1};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

phrony::http_request get(const std::string& path, std::size_t max_body = 0,
                         std::chrono::milliseconds timeout = 0ms) {
  phrony::http_request r;
  r.method = "GET";
  r.url = server().url(path);
  r.max_response_body = max_body;
  r.timeout = timeout;
  return r;
}

/// A stream_handler that counts the bytes it is handed.
phrony::stream_handler counting(std::size_t& bytes) {
  phrony::stream_handler h;
  h.on_data = [&bytes](std::string_view chunk) {
    bytes += chunk.size();
    return true;
  };
  return h;
}

} // namespace

TEST_CASE_TEMPLATE("send() gives up with limit_exceeded past max_response_body", T, curl_transport,
                   httplib_transport) {
  T t;
  for (const char* path : {"/big", "/big-chunked"}) {
    CAPTURE(path);
    auto r = t.send(get(path, 1 * mib));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::limit_exceeded);
    // The same body within the bound arrives whole.
    auto whole = t.send(get(path, 4 * mib));
    REQUIRE(whole);
    CHECK(whole->body.size() == 3 * mib);
  }
  // Still usable after a cut-off exchange.
  auto small = t.send(get("/small"));
  REQUIRE(small);
  CHECK(small->body == "{\"ok\":true}");
}

TEST_CASE_TEMPLATE("stream() bounds an error body but hands a 2xx body on whole", T, curl_transport,
                   httplib_transport) {
  T t;
  std::size_t bytes = 0;
  auto err = t.stream(get("/big-error-stream", 1 * mib), counting(bytes));
  REQUIRE_FALSE(err);
  CHECK(err.error().code == errc::limit_exceeded);
  CHECK(bytes <= 1 * mib);

  bytes = 0;
  auto ok = t.stream(get("/big-stream", 1 * mib), counting(bytes));
  CHECK(ok);
  CHECK(bytes == 3 * mib);
}

TEST_CASE_TEMPLATE("a trickling body ends at the overall deadline", T, curl_transport,
                   httplib_transport) {
  T t;
  SUBCASE("send") {
    const auto start = steady_clock::now();
    auto r = t.send(get("/trickle", 0, 1000ms));
    const auto took = steady_clock::now() - start;
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::transport);
    CHECK(r.error().message.find("timed out") != std::string::npos);
    CHECK(took >= 900ms);
    CHECK(took < 4s);
  }
  SUBCASE("stream") {
    std::size_t bytes = 0;
    const auto start = steady_clock::now();
    auto r = t.stream(get("/trickle", 0, 1000ms), counting(bytes));
    const auto took = steady_clock::now() - start;
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::transport);
    CHECK(r.error().message.find("timed out") != std::string::npos);
    CHECK(bytes > 0);
    CHECK(took < 4s);
  }
}

TEST_CASE_TEMPLATE("trickling headers end at the overall deadline", T, curl_transport,
                   httplib_transport) {
  // A status line, then one header byte every 100 ms for at most 20 s.
  raw_server slow([](const raw_server::writer& write) {
    bool ok = write("HTTP/1.1 200 OK\r\nX-Slow: ");
    for (int i = 0; ok && i < 200; ++i) {
      ok = write("a");
      std::this_thread::sleep_for(100ms);
    }
  });
  T t;
  phrony::http_request r;
  r.method = "GET";
  r.url = slow.url();
  r.timeout = 1000ms;
  const auto start = steady_clock::now();
  auto res = t.send(r);
  const auto took = steady_clock::now() - start;
  REQUIRE_FALSE(res);
  CHECK(res.error().code == errc::transport);
  CHECK(res.error().message.find("timed out") != std::string::npos);
  CHECK(took < 4s);
}

TEST_CASE_TEMPLATE("an endless header line ends with limit_exceeded", T, curl_transport,
                   httplib_transport) {
  // At most 256 MiB, written as fast as the client reads; no deadline set on the request.
  raw_server endless([](const raw_server::writer& write) {
    const std::string block(64 * 1024, 'a');
    bool ok = write("HTTP/1.1 200 OK\r\nX-Endless: ");
    for (int i = 0; ok && i < 4096; ++i) {
      ok = write(block);
    }
  });
  T t;
  phrony::http_request r;
  r.method = "GET";
  r.url = endless.url();
  const auto start = steady_clock::now();
  auto res = t.send(r);
  REQUIRE_FALSE(res);
  CHECK(res.error().code == errc::limit_exceeded);
  CHECK(steady_clock::now() - start < 10s);
}

TEST_CASE_TEMPLATE("an exception from a stream callback reaches the caller unchanged", T,
                   curl_transport, httplib_transport) {
  T t;
  SUBCASE("on_data") {
    phrony::stream_handler h;
    h.on_data = [](std::string_view) -> bool { throw std::runtime_error("from on_data"); };
    CHECK_THROWS_WITH_AS((void)t.stream(get("/events"), h), "from on_data", std::runtime_error);
  }
  SUBCASE("on_head") {
    phrony::stream_handler h;
    h.on_head = [](const phrony::response_head&) -> bool {
      throw std::logic_error("from on_head");
    };
    CHECK_THROWS_WITH_AS((void)t.stream(get("/events"), h), "from on_head", std::logic_error);
  }
  // The transport works on afterwards.
  std::size_t bytes = 0;
  CHECK(t.stream(get("/events"), counting(bytes)));
  CHECK(bytes == std::strlen("data: {}\n\ndata: {}\n\n"));
}

TEST_CASE_TEMPLATE("an upload PUT carries no Content-Type unless the request has one", T,
                   curl_transport, httplib_transport) {
  T t;
  phrony::http_request put;
  put.method = "PUT";
  put.url = server().url("/upload");
  put.headers = {{"x-amz-meta-purpose", "test"}};
  put.body = "raw file bytes";
  auto r = t.send(put);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(server().last_content_types().empty());
  CHECK(server().last_body() == "raw file bytes");

  put.headers.push_back({"Content-Type", "image/png"});
  r = t.send(put);
  REQUIRE(r);
  CHECK(server().last_content_types() == std::vector<std::string>{"image/png"});
  CHECK(server().last_body() == "raw file bytes");
}
