//===- TargetInfo.cpp - the supported targets -----------------------------===//

#include "codegen/TargetInfo.h"

#include "deltac/cpu_features.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"
#include "llvm/TargetParser/X86TargetParser.h"

namespace deltac {

const std::vector<TargetInfo> &allTargets() {
  static const std::vector<TargetInfo> targets = [] {
    std::vector<TargetInfo> t;
    // `host` compiles for the machine running deltac (CPU and features detected).
    std::string features;
    llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
    for (const auto &[feature, enabled] : host)
      features += (features.empty() ? "" : ",") + std::string(enabled ? "+" : "-") + feature.str();
    t.push_back({"host", llvm::sys::getDefaultTargetTriple(), llvm::sys::getHostCPUName().str(),
                 features, 512, "DeltacKernels_host", "-march=native", "the machine running deltac"});
    // The condition under which linear_packed.c, built with -march=native, takes its x86 paths
    // (AVX2, or AVX-512 VNNI), both of which read Q4_0 fastest interleaved.
    auto has = [&](const char *feature) { return host.lookup(feature); };
    t.back().interleavesQ4 = has("avx2") && has("fma") && has("f16c");
    t.push_back({"x86-64-avx2", "x86_64-pc-linux-gnu", "x86-64-v3", "", 256,
                 "DeltacKernels_x86_64_v3", "-march=x86-64-v3", "x86-64 with AVX2 and FMA (x86-64-v3)"});
    t.back().interleavesQ4 = true;
    // x86-64-v3 with AVX-VNNI (Alder Lake and later Intel Core, Zen 5): the AVX2 packed-row
    // kernels, their spans on 256-bit vpdpbusd (linear_packed.c, DC_PK_DPBUSD).
    t.push_back({"x86-64-avxvnni", "x86_64-pc-linux-gnu", "x86-64-v3", "+avxvnni", 256,
                 "DeltacKernels_x86_64_v3_avxvnni", "-march=x86-64-v3 -mavxvnni",
                 "x86-64 with AVX2 and AVX-VNNI (x86-64-v3 + AVX-VNNI: Alder Lake, Zen 5)"});
    t.back().interleavesQ4 = true;
    // x86-64-v4 has no VNNI: its packed-row kernels are the AVX2 ones.
    t.push_back({"x86-64-avx512", "x86_64-pc-linux-gnu", "x86-64-v4", "", 512,
                 "DeltacKernels_x86_64_v4", "-march=x86-64-v4", "x86-64 with AVX-512 (x86-64-v4)"});
    t.back().interleavesQ4 = true;
    // x86-64-v4 with AVX-512 VNNI (Cascade Lake, Ice Lake and later Intel cores; AMD Zen 4 and
    // later): the packed-row kernels take their VNNI byte spans (linear_packed.c).
    t.push_back({"x86-64-avx512-vnni", "x86_64-pc-linux-gnu", "x86-64-v4", "+avx512vnni", 512,
                 "DeltacKernels_x86_64_v4_vnni", "-march=x86-64-v4 -mavx512vnni",
                 "x86-64 with AVX-512 VNNI (x86-64-v4 + VNNI: Cascade Lake, Ice Lake, Zen 4)"});
    t.back().interleavesQ4 = true;
    // Sapphire Rapids and later Xeons: AVX-512 with VNNI, and the AMX tiles the packed int8 GEMM
    // takes for T >= 16 (linear_amx.h).
    t.push_back({"x86-64-amx", "x86_64-pc-linux-gnu", "sapphirerapids", "", 512,
                 "DeltacKernels_x86_64_amx", "-march=sapphirerapids",
                 "x86-64 with AVX-512 VNNI and AMX (Sapphire Rapids and later)"});
    t.back().interleavesQ4 = true;
    // 64-bit Arm Linux (glibc), one entry per instruction-set level. The libraries are built only
    // where the C compiler cross-compiles for aarch64 (targets/portable/CMakeLists.txt); clang
    // finds Debian's cross libc and linker (libc6-dev-arm64-cross, binutils-aarch64-linux-gnu) by
    // the triple alone.
    auto arm64 = [](const char *name, const char *features, const char *kernelLibrary,
                    const char *march, const char *description) {
      TargetInfo a = {
          name,       "aarch64-unknown-linux-gnu", "generic", features, 128, kernelLibrary, march,
          description};
      a.runtimeLibrary = "DeltacRuntime_aarch64";
      a.runtimeMainLibrary = "DeltacRuntimeMain_aarch64";
      a.emulator = "qemu-aarch64 -L /usr/aarch64-linux-gnu";
      a.missingLibraries = "this deltac was built without the arm64 libraries: install "
                           "g++-aarch64-linux-gnu libc6-dev-arm64-cross and rebuild";
      return a;
    };
    t.push_back(arm64("arm64", "+v8a,+fp-armv8,+neon", "DeltacKernels_arm64", "-march=armv8-a",
                      "64-bit Arm (Armv8-A with NEON)"));
    t.push_back(arm64("arm64-dotprod", "+v8.2a,+fp-armv8,+neon,+dotprod",
                      "DeltacKernels_arm64_dotprod", "-march=armv8.2-a+dotprod",
                      "64-bit Arm with the int8 dot product (Armv8.2-A+dotprod)"));
    t.push_back(arm64("arm64-i8mm", "+v8.6a,+fp-armv8,+neon,+dotprod,+i8mm",
                      "DeltacKernels_arm64_i8mm", "-march=armv8.6-a+dotprod+i8mm",
                      "64-bit Arm with the int8 matrix multiply (Armv8.6-A+i8mm)"));
    return t;
  }();
  return targets;
}

std::string requiredCpuFeatures(const TargetInfo &target) {
  llvm::Triple triple(target.triple);
  // Each feature on or off, with what it implies (x86: avx2 implies avx, -avx512f turns off the
  // AVX-512 extensions), as clang's -march and -m flags would set them.
  llvm::StringMap<bool> wanted;
  auto set = [&](llvm::StringRef feature, bool enabled) {
    wanted[feature] = enabled;
    if (triple.isX86())
      llvm::X86::updateImpliedFeatures(feature, enabled, wanted);
  };
  if (triple.isX86()) {
    llvm::SmallVector<llvm::StringRef> implied;
    llvm::X86::getFeaturesForCPU(target.cpu, implied, /*NeedPlus=*/false);
    for (llvm::StringRef feature : implied)
      set(feature, true);
  }
  llvm::SmallVector<llvm::StringRef> named;
  llvm::StringRef(target.features).split(named, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef feature : named) {
    if (feature.consume_front("+"))
      set(feature, true);
    else if (feature.consume_front("-"))
      set(feature, false);
  }
  std::vector<const char *> checked;
#define DC_X86_NAME(name, ...) checked.push_back(name);
#define DC_ARM64_NAME(name, ...) checked.push_back(name);
  if (triple.isX86()) {
    DC_X86_CPU_FEATURES(DC_X86_NAME)
  } else if (triple.isAArch64()) {
    DC_ARM64_CPU_FEATURES(DC_ARM64_NAME)
  }
#undef DC_X86_NAME
#undef DC_ARM64_NAME
  std::string list;
  for (const char *name : checked)
    if (wanted.lookup(name))
      list += (list.empty() ? "" : ",") + std::string(name);
  return list;
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
