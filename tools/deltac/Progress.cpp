//===- Progress.cpp - progress lines for long commands --------------------===//

#include "Progress.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

namespace deltac {

ProgressLine::ProgressLine(std::string label, bool enabled)
    : label(std::move(label)), enabled(enabled && llvm::sys::Process::StandardErrIsDisplayed()) {}

ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::update(uint64_t done, uint64_t total, llvm::StringRef item) {
  if (!enabled)
    return;
  auto now = std::chrono::steady_clock::now();
  if (drawn && done < total && now - last < std::chrono::milliseconds(100))
    return;
  last = now;
  drawn = true;
  unsigned percent = total ? unsigned(done * 100 / total) : 100;
  llvm::errs() << "\r\x1b[K" << label << " " << percent << "%  " << (done >> 20) << " / "
               << (total >> 20) << " MiB  " << item.take_front(60);
  llvm::errs().flush();
}

void ProgressLine::finish() {
  if (enabled && drawn) {
    llvm::errs() << "\r\x1b[K";
    llvm::errs().flush();
  }
  drawn = false;
}

PhaseProgress::PhaseProgress(unsigned phases, bool enabled)
    : phases(phases), enabled(enabled),
      terminal(enabled && llvm::sys::Process::StandardErrIsDisplayed()) {}

PhaseProgress::~PhaseProgress() { clear(); }

void PhaseProgress::draw(llvm::StringRef line) {
  // "\r\x1b[K": back to the start of the line and erase it: a shorter text leaves nothing behind.
  llvm::errs() << "\r\x1b[K" << line;
  llvm::errs().flush();
  drawn = true;
}

void PhaseProgress::begin(llvm::StringRef name) {
  phase = name.str();
  ++index;
  if (!terminal)
    return;
  text = llvm::formatv("deltac: [{0}/{1}] {2}", index, phases, phase).str();
  last = std::chrono::steady_clock::now();
  draw(text);
}

void PhaseProgress::update(uint64_t done, uint64_t total, llvm::StringRef item) {
  if (!terminal)
    return;
  auto now = std::chrono::steady_clock::now();
  if (done < total && now - last < std::chrono::milliseconds(100))
    return;
  last = now;
  unsigned percent = total ? unsigned(done * 100 / total) : 100;
  // MiB, or KiB for a store under one MiB (the tiny test models).
  bool small = total < (uint64_t(1) << 20);
  unsigned shift = small ? 10 : 20;
  text = llvm::formatv("deltac: [{0}/{1}] {2} {3,3}%  {4} / {5} {6}  {7}", index, phases, phase,
                       percent, done >> shift, total >> shift, small ? "KiB" : "MiB",
                       item.take_front(60))
             .str();
  draw(text);
}

void PhaseProgress::end(double seconds) {
  if (enabled && !terminal)
    llvm::errs() << llvm::formatv("deltac: {0} {1:f2} s\n", phase, seconds);
}

void PhaseProgress::note(const llvm::Twine &line) {
  bool redraw = drawn;
  clear();
  llvm::errs() << line << "\n";
  if (redraw)
    draw(text);
}

void PhaseProgress::clear() {
  if (terminal && drawn) {
    llvm::errs() << "\r\x1b[K";
    llvm::errs().flush();
  }
  drawn = false;
}

} // namespace deltac
