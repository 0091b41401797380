//===- TestStore.cpp - weight stores and temporary directories for tests --===//

#include "TestStore.h"

#include "fake_program.h"
#include "import/WeightStore.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>

namespace deltac::test {

uint64_t writeStore(const std::string &path, const std::vector<TestTensor> &tensors,
                    std::optional<uint64_t> fingerprint) {
  std::vector<StoredTensorSpec> specs;
  for (const TestTensor &t : tensors)
    specs.push_back(
        {t.name, t.dtype, llvm::SmallVector<int64_t, 4>(t.shape.begin(), t.shape.end())});
  auto writer = WeightStoreWriter::create(path, specs);
  if (!writer) {
    ADD_FAILURE() << llvm::toString(writer.takeError());
    return 0;
  }
  for (size_t i = 0; i < (*writer)->tensors().size(); ++i) {
    const std::string &name = (*writer)->tensors()[i].name;
    for (const TestTensor &t : tensors)
      if (t.name == name)
        if (llvm::Error e = (*writer)->write(i, t.data)) {
          ADD_FAILURE() << llvm::toString(std::move(e));
          return 0;
        }
  }
  llvm::Expected<uint64_t> written = (*writer)->finish();
  if (!written) {
    ADD_FAILURE() << llvm::toString(written.takeError());
    return 0;
  }
  if (!fingerprint)
    return *written;
  std::vector<uint8_t> bytes = readFile(path);
  std::memcpy(bytes.data() + offsetof(dc_ws_header, fingerprint), &*fingerprint, 8);
  writeFile(path, bytes);
  return *fingerprint;
}

TestTensor f32Tensor(const std::string &name, const std::vector<float> &values) {
  TestTensor t{name, DC_WS_F32, {int64_t(values.size())}, {}};
  t.data.resize(values.size() * 4);
  std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

void writeFakeStore(const std::string &path, uint64_t fingerprint) {
  std::vector<float> bias(FAKE_VOCAB);
  for (int v = 0; v < FAKE_VOCAB; ++v)
    bias[v] = float(v) / 64.0f;
  writeStore(path, {f32Tensor("output.bias", bias), f32Tensor("unused", {1, 2, 3})}, fingerprint);
}

std::vector<uint8_t> readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void writeFile(const std::string &path, const std::vector<uint8_t> &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char *>(bytes.data()), std::streamsize(bytes.size()));
}

TempDir::TempDir() {
  llvm::SmallString<128> prefix, path;
  llvm::sys::path::system_temp_directory(/*ErasedOnReboot=*/true, prefix);
  llvm::sys::path::append(prefix, "deltac-runtime-test");
  if (std::error_code ec = llvm::sys::fs::createUniqueDirectory(prefix, path))
    ADD_FAILURE() << "cannot create a temporary directory: " << ec.message();
  dir = std::string(path);
}

TempDir::~TempDir() { llvm::sys::fs::remove_directories(dir); }

} // namespace deltac::test
