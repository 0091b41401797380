//===- TargetInfo.h - what shared code may know about a target --*- C++ -*-===//
//
// The narrow interface of ARCHITECTURE.md §5: everything the shared lowering and the driver learn about
// a target comes from this struct. A target adds an entry to the table in TargetInfo.cpp and a kernel
// library; no other code asks which target it compiles for.
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_CODEGEN_TARGETINFO_H
#define DELTAC_CODEGEN_TARGETINFO_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace deltac {

struct TargetInfo {
  std::string name;          ///< the --target value
  std::string triple;        ///< LLVM target triple
  std::string cpu;           ///< LLVM CPU name for the generated program
  std::string features;      ///< LLVM feature string
  int vectorBits = 128;      ///< widest vector register the kernels use
  std::string kernelLibrary; ///< CMake name of the prebuilt kernel library (unspecialized)
  std::string kernelFlags;   ///< C compiler flags that build the kernels for this target,
                             ///< separated by spaces
  std::string description;
  /// The target's int8-activation kernels read packed rows (kernel_abi.h, "Packed rows"), so
  /// `delta-pack-weights` repacks Q8_0 / Q4_0 weights for them.
  bool packsWeights = true;
  /// Its packed-row kernels are the x86 ones (AVX2, FMA and F16C, with or without AVX-512 VNNI:
  /// linear_packed.c), which load Q4_0 fastest in the interleaved layout: `delta-pack-weights`
  /// then packs Q4_0 as packed_x8. Every kernel library reads both layouts; this only picks one.
  bool interleavesQ4 = false;
  /// CMake names of the runtime libraries built for the target's architecture: the runtime, and the
  /// main() of a generated executable (runtime/CMakeLists.txt).
  std::string runtimeLibrary = "DeltacRuntime";
  std::string runtimeMainLibrary = "DeltacRuntimeMain";
  /// The command line that runs the target's executables on the x86-64 development machines, the
  /// executable and its arguments appended (empty: they run natively).
  std::string emulator;
  /// The error of a deltac built without the target's libraries, saying how to get them (empty:
  /// they are always built, and the error names the missing library).
  std::string missingLibraries;
};

/// The targets this deltac supports.
const std::vector<TargetInfo> &allTargets();

/// The CPU features a program compiled for `target` needs, as dc_program.cpu_features records
/// them: comma-separated, only names of deltac/cpu_features.h (the runtime checks those before it
/// runs the program). x86: the features LLVM's CPU name implies, with the target's feature string
/// applied; AArch64: the checked features the feature string names.
std::string requiredCpuFeatures(const TargetInfo &target);

/// Looks up `name`; the error lists the known targets.
llvm::Expected<TargetInfo> lookupTarget(llvm::StringRef name);

} // namespace deltac

#endif // DELTAC_CODEGEN_TARGETINFO_H
