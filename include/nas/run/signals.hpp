#pragma once
/// @file
/// nas::run::StopOnSignals: SIGTERM and SIGINT (what Slurm and Kubernetes send before they kill
/// a job, and Ctrl-C) as a std::stop_token that every search and training loop of nas checks;
/// nas::run::Preempted and nas::run::exit_preempted, what a run stopped that way ends with.

#include <c10/util/Exception.h>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <filesystem>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace nas::run {

/// The exit code of a run stopped by a signal after it saved its checkpoint: 75 (EX_TEMPFAIL,
/// "try again later"), distinct from success (0), an error (1) and a non-finite loss (3).
/// Resume it with `nas_search --resume <folder>`.
inline constexpr int exit_preempted = 75;

/// A run stopped because its stop token was asked to (a signal, through nas::run::StopOnSignals),
/// after it saved its checkpoint: thrown by nas::run::Session::run. `folder()` holds the run to
/// resume.
class Preempted : public std::runtime_error {
 public:
  explicit Preempted(std::filesystem::path folder)
      : std::runtime_error("stopped on request; the checkpoint in '" + folder.string() +
                           "' is saved: resume with --resume " + folder.string()),
        folder_(std::move(folder)) {}
  [[nodiscard]] const std::filesystem::path& folder() const noexcept { return folder_; }

 private:
  std::filesystem::path folder_;
};

/// Catches SIGTERM and SIGINT for its lifetime and turns the first one into a stop request on
/// token(): a search given the token (nas::SearchCallbacks::stop, nas::eval::FromScratchOptions
/// ::stop, nas::run::Session) finishes its current step, and the caller saves and exits. A second
/// signal of the same kind ends the process at once (the handler resets itself), so a user who
/// presses Ctrl-C twice is not kept waiting.
///
/// The handler only stores the signal and writes a byte to a pipe (both async-signal-safe); a
/// watcher thread reads the pipe and asks the stop source, so no code runs in signal context.
/// One object at a time per process; the previous handlers are restored on destruction. A signal
/// ignored when the object is made (SIG_IGN, as a non-interactive shell sets SIGINT for its
/// background jobs) stays ignored.
///
/// ```
/// nas::run::StopOnSignals signals;
/// auto result = gdas.search(train, valid, {.on_epoch = save_it, .stop = signals.token()});
/// if (result.stop == nas::StopReason::interrupted) { save(gdas); return nas::run::exit_preempted;
/// }
/// ```
class StopOnSignals {
 public:
  StopOnSignals() {
    TORCH_CHECK(!active_.exchange(true),
                "nas::run::StopOnSignals: another one is already active in this process");
    if (::pipe2(pipe_, O_CLOEXEC) != 0) {
      active_ = false;
      TORCH_CHECK(false, "nas::run::StopOnSignals: cannot create a pipe: ",
                  std::error_code(errno, std::generic_category()).message());
    }
    // the handler must never block: a full pipe (thousands of signals) drops the byte
    ::fcntl(pipe_[1], F_SETFL, ::fcntl(pipe_[1], F_GETFL) | O_NONBLOCK);
    write_end_ = pipe_[1];
    try {
      watcher_ = std::thread([this] {
        char byte = 0;
        while (true) {
          const auto n = ::read(pipe_[0], &byte, 1);
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0 || byte == 0) return;  // closed, or woken by the destructor
          source_.request_stop();
        }
      });
    } catch (...) {
      ::close(pipe_[0]);
      ::close(pipe_[1]);
      write_end_ = -1;
      active_ = false;
      throw;
    }
    for (const int sig : {SIGTERM, SIGINT}) {
      struct sigaction old {};
      ::sigaction(sig, nullptr, &old);
      // a signal the parent set to be ignored stays ignored (POSIX convention: a background job
      // of a non-interactive shell ignores SIGINT)
      if (old.sa_handler == SIG_IGN) continue;
      struct sigaction action {};
      action.sa_handler = &StopOnSignals::handle;
      sigemptyset(&action.sa_mask);
      action.sa_flags = static_cast<int>(static_cast<unsigned>(SA_RESTART) | SA_RESETHAND);
      if (::sigaction(sig, &action, nullptr) == 0) previous_.emplace_back(sig, old);
    }
  }
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;
  ~StopOnSignals() {
    for (const auto& [sig, old] : previous_) ::sigaction(sig, &old, nullptr);
    write_end_ = -1;  // a handler still running on another thread writes nowhere from here on
    const char zero = 0;
    (void)!::write(pipe_[1], &zero, 1);
    if (watcher_.joinable()) watcher_.join();
    ::close(pipe_[0]);
    ::close(pipe_[1]);
    caught_ = 0;
    active_ = false;
  }

  /// Asked to stop once a signal arrived (or request_stop() was called).
  [[nodiscard]] std::stop_token token() const noexcept { return source_.get_token(); }
  /// The first signal caught (SIGTERM, SIGINT), 0 if none.
  [[nodiscard]] static int signal() noexcept { return caught_; }
  /// Asks the token to stop as a signal would (for callers with their own reasons).
  void request_stop() noexcept { source_.request_stop(); }
  /// Waits until a signal caught so far has reached token() (the watcher thread's hand-off; a
  /// few microseconds): after `std::raise(SIGTERM)`, the next check of the token sees it.
  void settle() const {
    for (int i = 0; i < 100000 && caught_ != 0 && !source_.stop_requested(); ++i)
      std::this_thread::yield();
  }
  /// "SIGTERM", "SIGINT", or "signal <n>".
  [[nodiscard]] static std::string name(int sig) {
    if (sig == SIGTERM) return "SIGTERM";
    if (sig == SIGINT) return "SIGINT";
    return "signal " + std::to_string(sig);
  }

 private:
  static void handle(int sig) {
    const int saved_errno = errno;
    int none = 0;
    (void)caught_.compare_exchange_strong(none, sig);
    const int fd = write_end_.load();
    if (fd >= 0) {
      const char one = 1;
      (void)!::write(fd, &one, 1);
    }
    errno = saved_errno;
  }

  // lock-free atomics: the handler may run on any thread (LibTorch's workers included)
  static inline std::atomic<int> caught_{0};
  static inline std::atomic<int> write_end_{-1};
  static_assert(std::atomic<int>::is_always_lock_free);
  static inline std::atomic<bool> active_{false};
  int pipe_[2] = {-1, -1};
  std::stop_source source_;
  std::thread watcher_;
  std::vector<std::pair<int, struct sigaction>> previous_;
};

}  // namespace nas::run
