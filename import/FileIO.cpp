//===- FileIO.cpp - files for the importer --------------------------------===//

#include "import/FileIO.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace llvm;

namespace deltac {

Error fileError(StringRef path, const Twine &message) {
  return createStringError(inconvertibleErrorCode(), (path + ": " + message).str());
}

static Error errnoError(StringRef path, const Twine &what) {
  return fileError(path, what + ": " + std::strerror(errno));
}

Expected<std::unique_ptr<InputFile>> InputFile::open(StringRef path) {
  int fd = ::open(path.str().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errnoError(path, "cannot open");
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return errnoError(path, "cannot stat");
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return fileError(path, "not a regular file");
  }
  return std::unique_ptr<InputFile>(
      new InputFile(path.str(), fd, static_cast<uint64_t>(st.st_size)));
}

InputFile::~InputFile() { ::close(fd); }

Error InputFile::read(uint64_t offset, MutableArrayRef<uint8_t> buffer) const {
  if (offset > fileSize || buffer.size() > fileSize - offset)
    return fileError(filePath, "truncated: needs bytes " + Twine(offset) + ".." +
                                   Twine(offset + buffer.size()) + " but the file has " +
                                   Twine(fileSize));
  size_t done = 0;
  while (done < buffer.size()) {
    ssize_t n = ::pread(fd, buffer.data() + done, buffer.size() - done,
                        static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n == 0 ? fileError(filePath, "unexpected end of file")
                    : errnoError(filePath, "read failed");
    done += static_cast<size_t>(n);
  }
  return Error::success();
}

Expected<std::unique_ptr<AtomicOutputFile>> AtomicOutputFile::create(StringRef path) {
  SmallString<256> model(path);
  model += ".tmp-%%%%%%";
  int fd;
  SmallString<256> temp;
  if (std::error_code ec = sys::fs::createUniqueFile(model, fd, temp))
    return fileError(path, "cannot create a temporary output file: " + ec.message());
  return std::unique_ptr<AtomicOutputFile>(
      new AtomicOutputFile(path.str(), std::string(temp.str()), fd));
}

AtomicOutputFile::~AtomicOutputFile() {
  if (fd >= 0)
    ::close(fd);
  if (!committed)
    ::unlink(tempPath.c_str());
}

static Error writeAll(int fd, StringRef path, ArrayRef<uint8_t> bytes, uint64_t offset) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pwrite(fd, bytes.data() + done, bytes.size() - done,
                         static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return errnoError(path, "write failed");
    done += static_cast<size_t>(n);
  }
  return Error::success();
}

Error AtomicOutputFile::append(ArrayRef<uint8_t> bytes) {
  if (Error e = writeAll(fd, finalPath, bytes, written))
    return e;
  written += bytes.size();
  return Error::success();
}

Error AtomicOutputFile::appendZeros(uint64_t count) {
  static const uint8_t zeros[4096] = {};
  while (count > 0) {
    uint64_t n = std::min<uint64_t>(count, sizeof(zeros));
    if (Error e = append(ArrayRef<uint8_t>(zeros, n)))
      return e;
    count -= n;
  }
  return Error::success();
}

Error AtomicOutputFile::writeAt(uint64_t offset, ArrayRef<uint8_t> bytes) {
  if (offset + bytes.size() > written)
    return fileError(finalPath, "internal error: write past the written end");
  return writeAll(fd, finalPath, bytes, offset);
}

Error AtomicOutputFile::commit() {
  if (::fsync(fd) != 0)
    return errnoError(finalPath, "cannot flush");
  ::close(fd);
  fd = -1;
  if (std::error_code ec = sys::fs::rename(tempPath, finalPath))
    return fileError(finalPath, "cannot rename the finished output into place: " + ec.message());
  committed = true;
  return Error::success();
}

Error writeFileAtomically(StringRef path, StringRef text) {
  Expected<std::unique_ptr<AtomicOutputFile>> out = AtomicOutputFile::create(path);
  if (!out)
    return out.takeError();
  if (Error e = (*out)->append(ArrayRef<uint8_t>(
          reinterpret_cast<const uint8_t *>(text.data()), text.size())))
    return e;
  return (*out)->commit();
}

static uint64_t mix(uint64_t state, uint64_t word) {
  state ^= word * 0x9E3779B97F4A7C15ull;
  state = (state << 27) | (state >> 37);
  return state * 0xBF58476D1CE4E5B9ull + 0x94D049BB133111EBull;
}

void StreamHasher::update(ArrayRef<uint8_t> bytes) {
  total += bytes.size();
  size_t i = 0;
  // Finish a partial word left by the previous chunk, then hash whole words.
  while (pendingBytes != 0 && i < bytes.size()) {
    pending |= uint64_t(bytes[i++]) << (8 * pendingBytes);
    if (++pendingBytes == 8) {
      state = mix(state, pending);
      pending = 0;
      pendingBytes = 0;
    }
  }
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, bytes.data() + i, 8);
    state = mix(state, word);
  }
  for (; i < bytes.size(); ++i)
    pending |= uint64_t(bytes[i]) << (8 * pendingBytes++);
}

uint64_t StreamHasher::finish() const {
  uint64_t h = mix(mix(state, pending), total);
  h ^= h >> 33;
  return h == 0 ? 1 : h;
}

} // namespace deltac
