//===- Progress.h - a progress line for long commands -----------*- C++ -*-===//

#ifndef DELTAC_TOOLS_PROGRESS_H
#define DELTAC_TOOLS_PROGRESS_H

#include "llvm/ADT/StringRef.h"

#include <chrono>
#include <string>

namespace deltac {

/// Redraws one status line on stderr ("import  42%  672 / 1600 MiB  layers.7.mlp.up_proj.weight"),
/// at most ten times a second, and only when stderr is a terminal: logs and pipes stay clean.
class ProgressLine {
public:
  explicit ProgressLine(std::string label, bool enabled);
  ~ProgressLine();
  void update(uint64_t done, uint64_t total, llvm::StringRef item);
  void finish();

private:
  std::string label;
  bool enabled;
  bool drawn = false;
  std::chrono::steady_clock::time_point last;
};

} // namespace deltac

#endif // DELTAC_TOOLS_PROGRESS_H
