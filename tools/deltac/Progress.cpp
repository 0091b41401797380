//===- Progress.cpp - a progress line for long commands -------------------===//

#include "Progress.h"

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

} // namespace deltac
