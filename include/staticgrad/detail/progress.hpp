/// @file The progress display of fit and fit_windows: epoch, step, loss, samples per
/// second and time left, on a stream.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <ostream>

#if __has_include(<unistd.h>)
#include <unistd.h>
#endif

#include <iostream>

namespace staticgrad::detail {

/// Whether `os` writes to a terminal: std::cout or std::cerr/std::clog attached to one.
inline bool is_terminal(const std::ostream& os) {
#if __has_include(<unistd.h>)
  if (&os == &std::cout) return isatty(STDOUT_FILENO) != 0;
  if (&os == &std::cerr || &os == &std::clog) return isatty(STDERR_FILENO) != 0;
#endif
  return false;
}

/// Shows training's progress on a stream: on a terminal one line rewritten in place (at
/// most ten times a second, and at each epoch's end, which keeps its line), elsewhere one
/// line per epoch. Nothing without a stream.
class progress_display {
 public:
  using clock = std::chrono::steady_clock;

  progress_display(std::ostream* os, std::size_t epochs, std::size_t steps_per_epoch)
      : os_(os), terminal_(os != nullptr && is_terminal(*os)), epochs_(epochs), steps_per_epoch_(steps_per_epoch),
        start_(clock::now()), shown_(start_) {}
  progress_display(const progress_display&) = delete;
  progress_display& operator=(const progress_display&) = delete;
  /// Ends a line left open on a terminal (training stopped within an epoch).
  ~progress_display() {
    if (open_line_) *os_ << '\n' << std::flush;
  }

  /// After step `step` (counted over the run from 0) of `epoch`, which trained on
  /// `samples` samples; `epoch_loss` is the epoch's mean loss so far.
  void step_done(std::size_t epoch, std::size_t step, std::size_t samples, double epoch_loss, bool epoch_end) {
    if (os_ == nullptr) return;
    samples_ += samples;
    const auto now = clock::now();
    if (!epoch_end && (!terminal_ || now - shown_ < std::chrono::milliseconds(100))) return;
    shown_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const std::size_t done = step + 1, total = epochs_ * steps_per_epoch_;
    const double left = seconds / static_cast<double>(done) * static_cast<double>(total - done);
    const std::size_t step_in_epoch = step - epoch * steps_per_epoch_ + 1;
    char line[160];
    std::snprintf(line, sizeof line, "epoch %zu/%zu  step %zu/%zu  loss %.6g  %.0f samples/s  %02d:%02d left",
                  epoch + 1, epochs_, step_in_epoch, steps_per_epoch_, epoch_loss,
                  seconds > 0 ? static_cast<double>(samples_) / seconds : 0.0, static_cast<int>(left) / 60,
                  static_cast<int>(left) % 60);
    if (terminal_) *os_ << '\r' << line << "\x1b[K";  // the rest of the old line erased
    else *os_ << line;
    if (epoch_end) *os_ << '\n';
    open_line_ = !epoch_end;
    os_->flush();
  }

 private:
  std::ostream* os_;
  bool terminal_;
  std::size_t epochs_, steps_per_epoch_;
  std::size_t samples_ = 0;
  bool open_line_ = false;
  clock::time_point start_, shown_;
};

}  // namespace staticgrad::detail
