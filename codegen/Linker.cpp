//===- Linker.cpp - link a program object into an executable --------------===//

#include "codegen/Linker.h"

#include "import/FileIO.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"

namespace deltac {

/// Runs the driver with `args`; an error names `output` and quotes the driver's exit status.
static llvm::Error runDriver(const LinkInputs &inputs, llvm::ArrayRef<std::string> args,
                             llvm::StringRef output, llvm::StringRef what) {
  std::vector<llvm::StringRef> argv(args.begin(), args.end());
  std::string message;
  int status = llvm::sys::ExecuteAndWait(inputs.driver, argv, std::nullopt, {}, 0, 0, &message);
  if (status == 0)
    return llvm::Error::success();
  return fileError(output, what + " failed (" + inputs.driver + " exited with " +
                               llvm::Twine(status) + (message.empty() ? "" : ": " + message) + ")");
}

llvm::Error assembleEmbeddedWeights(llvm::StringRef storePath, const TargetInfo &target,
                                    const LinkInputs &inputs, llvm::StringRef objectPath) {
  llvm::SmallString<256> absolute(storePath);
  if (std::error_code ec = llvm::sys::fs::make_absolute(absolute))
    return fileError(storePath, "cannot resolve the path: " + ec.message());
  if (absolute.str().contains('"') || absolute.str().contains('\\'))
    return fileError(storePath, "cannot embed a file whose path holds quotes or backslashes");
  std::string source = (objectPath + ".s").str();
  std::string text = "  .section .rodata.deltac_weights,\"a\",@progbits\n"
                     "  .balign 64\n"
                     "  .globl dc_embedded_weights\n"
                     "dc_embedded_weights:\n"
                     "  .incbin \"" + absolute.str().str() + "\"\n"
                     "  .globl dc_embedded_weights_end\n"
                     "dc_embedded_weights_end:\n"
                     "  .section .note.GNU-stack,\"\",@progbits\n";
  if (llvm::Error e = writeFileAtomically(source, text))
    return e;
  llvm::Error e = runDriver(inputs,
                            {inputs.driver, "--target=" + target.triple, "-c", source, "-o",
                             objectPath.str()},
                            objectPath, "assembling the embedded weights");
  llvm::sys::fs::remove(source);
  return e;
}

llvm::Error linkExecutable(llvm::ArrayRef<std::string> objects, const TargetInfo &target,
                           const LinkInputs &inputs, llvm::StringRef output) {
  std::string temp = (output + ".link-tmp").str();
  std::vector<std::string> args = {inputs.driver, "--target=" + target.triple, "-o", temp};
  args.insert(args.end(), objects.begin(), objects.end());
  for (const std::string &lib : inputs.libraries)
    args.push_back(lib);
  for (const char *lib : {"-lm", "-lpthread"})
    args.push_back(lib);
  if (llvm::Error e = runDriver(inputs, args, output, "linking")) {
    llvm::sys::fs::remove(temp);
    return e;
  }
  if (std::error_code ec = llvm::sys::fs::rename(temp, output)) {
    llvm::sys::fs::remove(temp);
    return fileError(output, "cannot move the linked executable into place: " + ec.message());
  }
  return llvm::Error::success();
}

} // namespace deltac
