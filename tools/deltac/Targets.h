//===- Targets.h - `deltac targets` ----------------------------*- C++ -*-===//

#ifndef DELTAC_TOOLS_TARGETS_H
#define DELTAC_TOOLS_TARGETS_H

namespace deltac {

/// Prints every target with its description, the CPU features its programs need, whether this
/// machine runs them and whether this deltac has its libraries. Returns the exit status (0).
int listTargets();

} // namespace deltac

#endif // DELTAC_TOOLS_TARGETS_H
