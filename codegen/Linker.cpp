//===- Linker.cpp - link a program into an executable or a library --------===//

#include "codegen/Linker.h"

#include "import/FileIO.h"

#include "llvm/Object/Archive.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
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

llvm::Error assembleEmbeddedFile(llvm::StringRef path, llvm::StringRef symbol,
                                 const TargetInfo &target, const LinkInputs &inputs,
                                 llvm::StringRef objectPath) {
  llvm::SmallString<256> absolute(path);
  if (std::error_code ec = llvm::sys::fs::make_absolute(absolute))
    return fileError(path, "cannot resolve the path: " + ec.message());
  if (absolute.str().contains('"') || absolute.str().contains('\\'))
    return fileError(path, "cannot embed a file whose path holds quotes or backslashes");
  std::string source = (objectPath + ".s").str();
  std::string name = symbol.str();
  std::string text = "  .section .rodata." + name + ",\"a\",@progbits\n"
                     "  .balign 64\n"
                     "  .globl " + name + "\n" +
                     name + ":\n"
                     "  .incbin \"" + absolute.str().str() + "\"\n"
                     "  .globl " + name + "_end\n" +
                     name + "_end:\n"
                     "  .section .note.GNU-stack,\"\",@progbits\n";
  if (llvm::Error e = writeFileAtomically(source, text))
    return e;
  llvm::Error e = runDriver(inputs,
                            {inputs.driver, "--target=" + target.triple, "-c", source, "-o",
                             objectPath.str()},
                            objectPath, "assembling the embedded " + name);
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

llvm::Error writeStaticLibrary(llvm::ArrayRef<std::string> objects,
                               llvm::ArrayRef<std::string> archives, llvm::StringRef output) {
  // The members point into these buffers until the archive is written.
  std::vector<std::unique_ptr<llvm::MemoryBuffer>> buffers;
  std::vector<std::unique_ptr<llvm::object::Archive>> opened;
  std::vector<llvm::NewArchiveMember> members;
  for (const std::string &object : objects) {
    llvm::Expected<llvm::NewArchiveMember> member =
        llvm::NewArchiveMember::getFile(object, /*Deterministic=*/true);
    if (!member)
      return fileError(object, "cannot read the object: " + llvm::toString(member.takeError()));
    members.push_back(std::move(*member));
  }
  // Copy each library's members rather than nesting the library: linkers do not look into
  // archives inside archives.
  for (const std::string &archive : archives) {
    llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
        llvm::MemoryBuffer::getFile(archive, /*IsText=*/false, /*RequiresNullTerminator=*/false);
    if (!buffer)
      return fileError(archive, "cannot read the library: " + buffer.getError().message());
    llvm::Expected<std::unique_ptr<llvm::object::Archive>> parsed =
        llvm::object::Archive::create((*buffer)->getMemBufferRef());
    if (!parsed)
      return fileError(archive, "not a static library: " + llvm::toString(parsed.takeError()));
    buffers.push_back(std::move(*buffer));
    llvm::Error err = llvm::Error::success();
    for (const llvm::object::Archive::Child &child : (*parsed)->children(err)) {
      llvm::Expected<llvm::NewArchiveMember> member =
          llvm::NewArchiveMember::getOldMember(child, /*Deterministic=*/true);
      if (!member) {
        llvm::consumeError(std::move(err));
        return fileError(archive, "cannot read a member: " + llvm::toString(member.takeError()));
      }
      members.push_back(std::move(*member));
    }
    if (err)
      return fileError(archive, "cannot read the members: " + llvm::toString(std::move(err)));
    opened.push_back(std::move(*parsed));
  }
  std::string temp = (output + ".ar-tmp").str();
  if (llvm::Error e = llvm::writeArchive(temp, members, llvm::SymtabWritingMode::NormalSymtab,
                                         llvm::object::Archive::K_GNU, /*Deterministic=*/true,
                                         /*Thin=*/false)) {
    llvm::sys::fs::remove(temp);
    return fileError(output, "cannot write the library: " + llvm::toString(std::move(e)));
  }
  if (std::error_code ec = llvm::sys::fs::rename(temp, output)) {
    llvm::sys::fs::remove(temp);
    return fileError(output, "cannot move the library into place: " + ec.message());
  }
  return llvm::Error::success();
}

llvm::Error compileC(llvm::StringRef source, llvm::StringRef includeDirectory,
                     const TargetInfo &target, const LinkInputs &inputs,
                     llvm::StringRef objectPath) {
  return runDriver(inputs,
                   {inputs.driver, "--target=" + target.triple, "-std=c11", "-O2", "-fPIC", "-I",
                    includeDirectory.str(), "-c", source.str(), "-o", objectPath.str()},
                   objectPath, "compiling " + source.str());
}

} // namespace deltac
