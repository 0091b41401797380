//===- Targets.cpp - `deltac targets` --------------------------------------===//
//
// Lists the targets `--target` takes, each with whether this machine runs what it produces:
// natively (the CPU has every feature the target's programs need, requiredCpuFeatures), under the
// emulator the target names, or not (the features it lacks); and whether this deltac has the
// target's libraries.
//
//===----------------------------------------------------------------------===//

#include "Targets.h"

#include "Compile.h"
#include "codegen/TargetInfo.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

using namespace llvm;

namespace deltac {

namespace {

/// Whether this machine runs `target`'s executables, in a few words.
std::string runsHere(const TargetInfo &target, const StringMap<bool> &host) {
  Triple triple(target.triple), native(sys::getDefaultTargetTriple());
  if (triple.getArch() != native.getArch())
    return target.emulator.empty()
               ? "no (another architecture)"
               : "under " + target.emulator.substr(0, target.emulator.find(' '));
  std::string missing, list = requiredCpuFeatures(target);
  SmallVector<StringRef> needed;
  StringRef(list).split(needed, ',', -1, /*KeepEmpty=*/false);
  for (StringRef feature : needed)
    if (!host.lookup(feature))
      missing += (missing.empty() ? "" : ", ") + feature.str();
  return missing.empty() ? "yes" : "no: this CPU lacks " + missing;
}

} // namespace

int listTargets() {
  StringMap<bool> host = sys::getHostCPUFeatures();
  outs() << "deltac targets (--target), on this machine (" << sys::getHostCPUName() << ", "
         << sys::getDefaultTargetTriple() << "):\n";
  for (const TargetInfo &target : allTargets()) {
    std::string needs = requiredCpuFeatures(target);
    outs() << "\n  " << target.name << "\n";
    outs() << "    " << target.description << "\n";
    outs() << "    CPU features: " << (needs.empty() ? "(none checked)" : needs) << "\n";
    outs() << "    runs here:    " << runsHere(target, host) << "\n";
    if (Error e = checkTargetLibraries(target))
      outs() << "    libraries:    missing: " << toString(std::move(e)) << "\n";
    else
      outs() << "    libraries:    built\n";
  }
  return 0;
}

} // namespace deltac
