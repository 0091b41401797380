//===- Linker.cpp - link a program object into an executable --------------===//

#include "codegen/Linker.h"

#include "import/FileIO.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"

namespace deltac {

llvm::Error linkExecutable(llvm::StringRef object, const TargetInfo &target,
                           const LinkInputs &inputs, llvm::StringRef output) {
  std::string temp = (output + ".link-tmp").str();
  std::vector<std::string> args = {inputs.driver, "--target=" + target.triple, "-o", temp,
                                   object.str()};
  for (const std::string &lib : inputs.libraries)
    args.push_back(lib);
  for (const char *lib : {"-lm", "-lpthread"})
    args.push_back(lib);
  std::vector<llvm::StringRef> argv(args.begin(), args.end());
  std::string message;
  int status = llvm::sys::ExecuteAndWait(inputs.driver, argv, std::nullopt, {}, 0, 0, &message);
  if (status != 0) {
    llvm::sys::fs::remove(temp);
    return fileError(output, "linking failed (" + inputs.driver + " exited with " +
                                 llvm::Twine(status) + (message.empty() ? "" : ": " + message) +
                                 ")");
  }
  if (std::error_code ec = llvm::sys::fs::rename(temp, output)) {
    llvm::sys::fs::remove(temp);
    return fileError(output, "cannot move the linked executable into place: " + ec.message());
  }
  return llvm::Error::success();
}

} // namespace deltac
