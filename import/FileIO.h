//===- FileIO.h - files for the importer: positioned reads, atomic writes -===//
//
// Checkpoints can be larger than memory (a 9B model is 18 GB in bf16), so the importer never maps or
// loads a whole file: it reads positioned ranges into a bounded buffer and writes outputs through a
// temporary file that is renamed into place only when complete.
//
//===----------------------------------------------------------------------===//

#ifndef DELTAC_IMPORT_FILEIO_H
#define DELTAC_IMPORT_FILEIO_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>

namespace deltac {

/// a * b into `result`; true when the product overflows (sizes read from files are untrusted).
inline bool mulOverflows(uint64_t a, uint64_t b, uint64_t &result) {
  return __builtin_mul_overflow(a, b, &result);
}

/// An error whose message starts with the file it is about: "<path>: <message>".
llvm::Error fileError(llvm::StringRef path, const llvm::Twine &message);

/// A read-only file accessed by positioned reads.
class InputFile {
public:
  static llvm::Expected<std::unique_ptr<InputFile>> open(llvm::StringRef path);
  ~InputFile();

  llvm::StringRef path() const { return filePath; }
  uint64_t size() const { return fileSize; }

  /// Reads exactly `buffer.size()` bytes at `offset`; an error names the file when the range runs past
  /// the end or the read fails.
  llvm::Error read(uint64_t offset, llvm::MutableArrayRef<uint8_t> buffer) const;

private:
  InputFile(std::string path, int fd, uint64_t size)
      : filePath(std::move(path)), fd(fd), fileSize(size) {}
  std::string filePath;
  int fd;
  uint64_t fileSize;
};

/// An output file written under a temporary name in the destination's directory and renamed to the
/// destination by commit(). Destroying it uncommitted removes the temporary file, so a failed or
/// interrupted write never leaves a partial file under the final name.
class AtomicOutputFile {
public:
  static llvm::Expected<std::unique_ptr<AtomicOutputFile>> create(llvm::StringRef path);
  ~AtomicOutputFile();

  llvm::StringRef path() const { return finalPath; }
  /// Appends bytes at the current end.
  llvm::Error append(llvm::ArrayRef<uint8_t> bytes);
  /// Appends `count` zero bytes.
  llvm::Error appendZeros(uint64_t count);
  /// Overwrites bytes at `offset` (inside what was already written).
  llvm::Error writeAt(uint64_t offset, llvm::ArrayRef<uint8_t> bytes);
  uint64_t size() const { return written; }
  /// Flushes to disk and renames the temporary file to the destination.
  llvm::Error commit();

private:
  AtomicOutputFile(std::string finalPath, std::string tempPath, int fd)
      : finalPath(std::move(finalPath)), tempPath(std::move(tempPath)), fd(fd) {}
  std::string finalPath, tempPath;
  int fd;
  uint64_t written = 0;
  bool committed = false;
};

/// Writes `text` to `path` atomically.
llvm::Error writeFileAtomically(llvm::StringRef path, llvm::StringRef text);

/// A streaming 64-bit hash (not cryptographic): fingerprints weight stores. Feeding the same bytes in
/// any chunking gives the same value.
class StreamHasher {
public:
  void update(llvm::ArrayRef<uint8_t> bytes);
  uint64_t finish() const;

private:
  uint64_t state = 0x243F6A8885A308D3ull;
  uint64_t pending = 0;
  unsigned pendingBytes = 0;
  uint64_t total = 0;
};

} // namespace deltac

#endif // DELTAC_IMPORT_FILEIO_H
