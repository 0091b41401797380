//===- Progress.h - progress lines for long commands ------------*- C++ -*-===//

#ifndef DELTAC_TOOLS_PROGRESS_H
#define DELTAC_TOOLS_PROGRESS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"

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

/// The phases of a command with several (`deltac compile`) on stderr.
///  - stderr a terminal: one line redrawn in place, "deltac: [3/8] weights  42%  672 / 1600 MiB
///    layers.7.mlp.up_proj.weight", replaced by the next phase and erased when the command ends
///    (a note or an error then starts on a clean line);
///  - stderr a file or a pipe: one line per finished phase, "deltac: weights 0.31 s", and no
///    carriage returns or escape sequences;
///  - disabled (--no-progress): nothing.
class PhaseProgress {
public:
  /// `phases`: how many begin() calls the command makes (the N of "[k/N]").
  PhaseProgress(unsigned phases, bool enabled);
  ~PhaseProgress();
  PhaseProgress(const PhaseProgress &) = delete;
  PhaseProgress &operator=(const PhaseProgress &) = delete;

  /// A phase starts: on a terminal its line replaces the previous one.
  void begin(llvm::StringRef phase);
  /// Progress inside the phase in bytes (`done` of `total`), with the item being worked on; redrawn
  /// at most ten times a second.
  void update(uint64_t done, uint64_t total, llvm::StringRef item);
  /// The phase begun last ended after `seconds`.
  void end(double seconds);
  /// Prints `line` on a line of its own, above the progress line, which is redrawn after it.
  void note(const llvm::Twine &line);
  /// Erases the progress line (a terminal only).
  void clear();

private:
  void draw(llvm::StringRef text);

  unsigned phases;
  unsigned index = 0;
  bool enabled;
  bool terminal;
  bool drawn = false;
  std::string phase;
  std::string text; ///< what the line shows now, redrawn after a note
  std::chrono::steady_clock::time_point last;
};

} // namespace deltac

#endif // DELTAC_TOOLS_PROGRESS_H
