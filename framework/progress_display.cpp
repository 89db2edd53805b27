#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "weft/callbacks.hpp"
#include "weft/trainer.hpp"

namespace weft {
namespace {

std::string clock_text(double seconds) {
  const auto s = static_cast<long long>(std::max(0.0, seconds) + 0.5);
  char text[32];
  if (s >= 3600) std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(text, sizeof text, "%lld:%02lld", s / 60, s % 60);
  return text;
}

}  // namespace

std::string epoch_summary(const Metrics& metrics, std::int64_t epochs) {
  char text[96];
  std::snprintf(text, sizeof text, "epoch %lld/%lld", static_cast<long long>(metrics.get("epoch").value_or(0)),
                static_cast<long long>(epochs));
  std::string line = text;
  for (const auto& [name, value] : metrics.items()) {
    if (name == "epoch" || name == "seconds" || name == "samples_per_second") continue;
    std::snprintf(text, sizeof text, "  %s %.4g", name.c_str(), value);
    line += text;
  }
  std::snprintf(text, sizeof text, "  %.0f samples/s  %.1f s", metrics.get("samples_per_second").value_or(0),
                metrics.get("seconds").value_or(0));
  return line + text;
}

ProgressDisplay::ProgressDisplay(std::FILE* out, bool live) : out_(out), live_(live) {}

bool ProgressDisplay::is_terminal(std::FILE* out) { return isatty(fileno(out)) == 1; }

void ProgressDisplay::on_fit_begin(Trainer&) {
  epoch_start_ = last_draw_ = Clock::now();
  loss_sum_ = 0;
  steps_ = samples_ = 0;
  first_batch_ = -1;
}

void ProgressDisplay::on_epoch_begin(Trainer&, const EpochEvent&) {
  epoch_start_ = last_draw_ = Clock::now();
  loss_sum_ = 0;
  steps_ = samples_ = 0;
  first_batch_ = -1;
}

void ProgressDisplay::on_step_begin(Trainer&, const StepEvent& event) {
  if (first_batch_ < 0) first_batch_ = event.batch;
}

void ProgressDisplay::on_step_end(Trainer&, const StepEvent& event) {
  loss_sum_ += event.loss;
  ++steps_;
  samples_ += event.samples;
  if (!live_) return;
  const auto now = Clock::now();
  if (event.batch < event.batches && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
  const double done = double(event.batch) / double(event.batches);
  // The ETA extrapolates from the batches this process ran, not those before a resume.
  const double rate = double(event.batch - first_batch_) / std::max(elapsed, 1e-9);
  const double eta = double(event.batches - event.batch) / std::max(rate, 1e-9);
  constexpr int width = 24;
  const int filled = static_cast<int>(done * width);
  std::string bar(static_cast<std::size_t>(filled), '=');
  if (filled < width) bar += '>' + std::string(static_cast<std::size_t>(width - filled - 1), ' ');
  std::fprintf(out_, "\r\033[Kepoch %lld/%lld [%s] %lld/%lld  ETA %s  loss %.4f  %.0f samples/s",
               static_cast<long long>(event.epoch), static_cast<long long>(event.epochs), bar.c_str(),
               static_cast<long long>(event.batch), static_cast<long long>(event.batches),
               clock_text(eta).c_str(), loss_sum_ / double(steps_),
               double(samples_) / std::max(elapsed, 1e-9));
  std::fflush(out_);
}

void ProgressDisplay::on_epoch_end(Trainer&, const EpochEvent& event) {
  std::fprintf(out_, "%s%s\n", live_ ? "\r\033[K" : "", epoch_summary(*event.metrics, event.epochs).c_str());
  std::fflush(out_);
}

}  // namespace weft
