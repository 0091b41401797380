//===- TargetInfo.cpp - the supported targets -----------------------------===//

#include "codegen/TargetInfo.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"

namespace deltac {

const std::vector<TargetInfo> &allTargets() {
  static const std::vector<TargetInfo> targets = [] {
    std::vector<TargetInfo> t;
    // `host` compiles for the machine running deltac (CPU and features detected).
    std::string features;
    for (const auto &[feature, enabled] : llvm::sys::getHostCPUFeatures())
      features += (features.empty() ? "" : ",") + std::string(enabled ? "+" : "-") + feature.str();
    t.push_back({"host", llvm::sys::getDefaultTargetTriple(), llvm::sys::getHostCPUName().str(),
                 features, 512, "DeltacKernels_host", "-march=native", "the machine running deltac"});
    t.push_back({"x86-64-avx2", "x86_64-pc-linux-gnu", "x86-64-v3", "", 256,
                 "DeltacKernels_x86_64_v3", "-march=x86-64-v3", "x86-64 with AVX2 and FMA (x86-64-v3)"});
    t.push_back({"x86-64-avx512", "x86_64-pc-linux-gnu", "x86-64-v4", "", 512,
                 "DeltacKernels_x86_64_v4", "-march=x86-64-v4", "x86-64 with AVX-512 (x86-64-v4)"});
    return t;
  }();
  return targets;
}

llvm::Expected<TargetInfo> lookupTarget(llvm::StringRef name) {
  std::string known;
  for (const TargetInfo &t : allTargets()) {
    if (t.name == name)
      return t;
    known += (known.empty() ? "" : ", ") + t.name;
  }
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "unknown target '" + name.str() + "' (known: " + known + ")");
}

} // namespace deltac
