//===- TestStore.h - weight stores and temporary directories for tests ---*- C++ -*-===//

#ifndef DELTAC_TEST_RUNTIME_TESTSTORE_H
#define DELTAC_TEST_RUNTIME_TESTSTORE_H

#include "deltac/weight_store.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace deltac::test {

struct TestTensor {
  std::string name;
  dc_ws_dtype dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;
};

/// Writes a store with deltac's writer and returns its fingerprint. With `fingerprint`, the
/// header's fingerprint is overwritten afterwards (the runtime does not rehash the data), so a
/// test program can carry a fixed one.
uint64_t writeStore(const std::string &path, const std::vector<TestTensor> &tensors,
                    std::optional<uint64_t> fingerprint = std::nullopt);

/// The f32 tensor of values `values`.
TestTensor f32Tensor(const std::string &name, const std::vector<float> &values);

/// The fake program's store (test/runtime/fake_program.h): output.bias = v / 64.
void writeFakeStore(const std::string &path, uint64_t fingerprint);

std::vector<uint8_t> readFile(const std::string &path);
void writeFile(const std::string &path, const std::vector<uint8_t> &bytes);

/// A fresh directory under the system's temporary directory, removed with its contents.
class TempDir {
public:
  TempDir();
  ~TempDir();
  const std::string &path() const { return dir; }
  std::string file(const std::string &name) const { return dir + "/" + name; }

private:
  std::string dir;
};

} // namespace deltac::test

#endif // DELTAC_TEST_RUNTIME_TESTSTORE_H
