// phrony-emulator as a child process of a doctest program (e2e_test, e2e_record_replay).
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace phrony_e2e {

/// A phrony-emulator child process on a free loopback port; killed when this object dies, and
/// by the kernel when this program dies (PR_SET_PDEATHSIG), so no emulator outlives a test run.
class emulator {
public:
  explicit emulator(const std::vector<std::string>& flags = {}) {
    char dir[] = "/tmp/phrony-e2e-XXXXXX";
    REQUIRE(mkdtemp(dir) != nullptr);
    dir_ = dir;
    const std::string port_file = dir_ + "/port";
    std::vector<std::string> args{PHRONY_EMULATOR, "--port", "0", "--port-file", port_file};
    args.insert(args.end(), flags.begin(), flags.end());
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    const pid_t parent = getpid();
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) {
        _exit(1);
      }
      // Not freopen: that would flush this process's buffered output a second time.
      const int null = open("/dev/null", O_WRONLY);
      dup2(null, STDOUT_FILENO);
      execv(argv[0], argv.data());
      _exit(127);
    }
    for (int i = 0; i < 200 && base_.empty(); ++i) { // at most 10 s
      std::ifstream f(port_file);
      int port = 0;
      if (f >> port && port > 0) {
        base_ = "http://127.0.0.1:" + std::to_string(port);
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    REQUIRE_MESSAGE(!base_.empty(), "phrony-emulator did not start");
  }
  emulator(const emulator&) = delete;
  emulator& operator=(const emulator&) = delete;
  ~emulator() {
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100 && waitpid(pid_, &status, WNOHANG) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (waitpid(pid_, &status, WNOHANG) == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    std::remove((dir_ + "/port").c_str());
    rmdir(dir_.c_str());
  }
  [[nodiscard]] const std::string& base() const { return base_; }

private:
  pid_t pid_ = -1;
  std::string dir_;
  std::string base_;
};

} // namespace phrony_e2e
