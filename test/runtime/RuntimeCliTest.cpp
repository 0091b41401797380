//===- RuntimeCliTest.cpp - the command line of a generated executable ----===//
//
// Runs runtime-fake-model (runtime/main.c linked with test/runtime/fake_program.c, the way deltac
// links a compiled model) as a separate process and checks its output, its logits dump, its
// benchmark JSON, its errors and exit codes, and that it needs only the C library family.
//
//===----------------------------------------------------------------------===//

#include "TestStore.h"
#include "fake_program.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace deltac::test;

namespace {

struct Result {
  int exitCode = -1;
  std::string out, err;
};

std::string readText(const std::string &path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int countLines(const std::string &text) {
  int lines = 0;
  for (char c : text)
    lines += c == '\n';
  return lines;
}

class RuntimeCli : public ::testing::Test {
protected:
  void SetUp() override {
    store = dir.file("fake.dcw");
    writeFakeStore(store, FAKE_FINGERPRINT);
  }

  /// Runs `exe args` in `cwd` (the test's directory by default).
  Result run(const std::string &args, const std::string &exe = DELTAC_FAKE_MODEL,
             const std::string &cwd = "") {
    std::string command = "cd '" + (cwd.empty() ? dir.path() : cwd) + "' && '" + exe + "' " + args +
                          " > '" + dir.file("stdout") + "' 2> '" + dir.file("stderr") + "'";
    int status = std::system(command.c_str());
    Result r;
    r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = readText(dir.file("stdout"));
    r.err = readText(dir.file("stderr"));
    return r;
  }

  /// Expects exit `code` and exactly one stderr line starting "error: " and containing `text`.
  void expectError(const Result &r, int code, const std::string &text) {
    EXPECT_EQ(r.exitCode, code) << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_EQ(countLines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(text), std::string::npos) << r.err;
  }

  /// The greedy continuation the fake program produces after `prompt`.
  static std::vector<int32_t> greedy(const std::vector<int32_t> &prompt, int n) {
    std::vector<int32_t> out;
    int32_t token = prompt.back();
    int64_t position = int64_t(prompt.size()) - 1;
    for (int i = 0; i < n; ++i) {
      token = int32_t((token + position + 1) % FAKE_VOCAB);
      out.push_back(token);
      ++position;
    }
    return out;
  }

  TempDir dir;
  std::string store;
};

TEST_F(RuntimeCli, GeneratesGreedilyAndReportsTimings) {
  Result r = run("--weights '" + store + "' --tokens 1,2,3 -n 5");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, "6 10 15 5 12\n");
  auto expected = greedy({1, 2, 3}, 5);
  EXPECT_EQ(expected, (std::vector<int32_t>{6, 10, 15, 5, 12}));
  EXPECT_NE(r.err.find("prompt tokens: 3, prefill:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("generated tokens: 5, decode: 4 steps"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("tok/s"), std::string::npos) << r.err;
  // --opt=value works as well, and more threads give the same tokens.
  r = run("--weights='" + store + "' --tokens=1,2,3 -n 5 --threads 3");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, "6 10 15 5 12\n");
  // So does the store mapped instead of read into memory.
  r = run("--weights '" + store + "' --tokens 1,2,3 -n 5 --mmap");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, "6 10 15 5 12\n");
}

TEST_F(RuntimeCli, JsonRun) {
  Result r = run("--weights '" + store + "' --tokens 4 -n 2 --json --threads 2");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out.rfind("{\"tokens\": [5, 7], \"prompt_tokens\": 1,", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\"threads\": 2}"), std::string::npos) << r.out;
  EXPECT_EQ(countLines(r.out), 1);
}

TEST_F(RuntimeCli, DumpLogitsHasOneRowPerPromptAndGeneratedToken) {
  // 6 prompt tokens: more than max_tokens (4), so the prefill is written in two chunks.
  std::vector<int32_t> prompt = {9, 0, 15, 3, 3, 8};
  const int n = 4;
  std::string logits = dir.file("logits.bin");
  Result r =
      run("--weights '" + store + "' --tokens 9,0,15,3,3,8 -n 4 --dump-logits '" + logits + "'");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto generated = greedy(prompt, n);
  std::string ids;
  for (int32_t t : generated)
    ids += (ids.empty() ? "" : " ") + std::to_string(t);
  EXPECT_EQ(r.out, ids + "\n");
  std::vector<uint8_t> bytes = readFile(logits);
  ASSERT_EQ(bytes.size(), (prompt.size() + n) * FAKE_VOCAB * 4);
  std::vector<int32_t> fed = prompt;
  fed.insert(fed.end(), generated.begin(), generated.end());
  for (size_t row = 0; row < fed.size(); ++row)
    for (int v = 0; v < FAKE_VOCAB; ++v) {
      float value;
      std::memcpy(&value, bytes.data() + (row * FAKE_VOCAB + v) * 4, 4);
      float expected =
          float(v) / 64.0f + (v == (fed[row] + int64_t(row) + 1) % FAKE_VOCAB ? 10.0f : 0.0f);
      ASSERT_EQ(value, expected) << "row " << row << " v " << v;
    }
}

// A run that fails after the logits file is opened leaves no part of it behind. Here its writes
// fail: a file size limit of one block (512 or 1024 bytes; SIGXFSZ ignored, so write returns EFBIG)
// against 26 rows of 64 bytes. A model compiled with --prefill-logits=last fails the same way at
// its prefill.
TEST_F(RuntimeCli, FailedDumpLeavesNoLogitsFile) {
  std::string logits = dir.file("logits.bin");
  Result r = run("-c \"trap '' XFSZ; ulimit -f 1; exec '" DELTAC_FAKE_MODEL "' --weights '" +
                     store + "' --tokens 9,0,15,3,3,8 -n 20 --dump-logits '" + logits + "'\"",
                 "/bin/sh");
  expectError(r, 1, "cannot write logits");
  EXPECT_NE(r.err.find(logits), std::string::npos) << r.err;
  EXPECT_NE(access(logits.c_str(), F_OK), 0) << logits << " is left behind";
}

TEST_F(RuntimeCli, BenchJson) {
  Result r =
      run("--weights '" + store + "' --bench --bench-prompt 9 --bench-gen 5 --json --threads 2");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(countLines(r.out), 1) << r.out;
  EXPECT_EQ(r.out.front(), '{');
  for (const char *key : {"\"prefill_tok_s\": ", "\"decode_tok_s\": ", "\"peak_rss_bytes\": ",
                          "\"threads\": 2", "\"prefill_tokens\": 9", "\"decode_tokens\": 5",
                          "\"architecture\": \"fake\"", "\"target\": \"portable\""})
    EXPECT_NE(r.out.find(key), std::string::npos) << key << " in " << r.out;
  // The numbers are numbers: a positive RSS, finite rates.
  size_t at = r.out.find("\"peak_rss_bytes\": ") + strlen("\"peak_rss_bytes\": ");
  EXPECT_GT(std::stoull(r.out.substr(at)), 1000u);
  at = r.out.find("\"decode_tok_s\": ") + strlen("\"decode_tok_s\": ");
  EXPECT_GT(std::stod(r.out.substr(at)), 0.0);

  r = run("--weights '" + store + "' --bench --bench-prompt 9 --bench-gen 5");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.out.find("prefill: 9 tokens"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("decode: 5 tokens"), std::string::npos) << r.out;
}

TEST_F(RuntimeCli, BadCommandLinesExitWithTwo) {
  const std::string w = "--weights '" + store + "' ";
  expectError(run(w + "--tokens 1 --frobnicate"), 2, "unknown option '--frobnicate'");
  expectError(run(w + "--tokens 1 --temp"), 2, "--temp needs a value");
  expectError(run(w + "--tokens 1 --temp abc"), 2, "--temp: 'abc' is not a number");
  expectError(run(w + "--tokens 1 -n -1"), 2, "-n: -1 is not in");
  expectError(run(w + "--tokens 1,x"), 2, "--tokens");
  expectError(run(w + "--tokens 1,,2"), 2, "--tokens");
  expectError(run(w + "--tokens 1 --top-p 0"), 2, "--top-p");
  expectError(run(w + "--tokens 1 --min-p 1.5"), 2, "--min-p");
  expectError(run(w + "--tokens 1 --threads 0"), 2, "--threads");
  expectError(run(w + "-n 3"), 2, "no prompt");
  expectError(run(w + "--tokens 16"), 2, "outside the vocabulary of 16 tokens");
  expectError(run(w + "--tokens 1,2 -n 31"), 2, "exceed the context length of 32");
  expectError(run(w + "--bench --bench-prompt 30 --bench-gen 3"), 2, "context length");
  expectError(run(w + "--bench --dump-logits x"), 2, "--dump-logits");
  Result help = run("--help");
  EXPECT_EQ(help.exitCode, 0);
  EXPECT_NE(help.out.find("--dump-logits"), std::string::npos);
  EXPECT_NE(help.out.find("--chat"), std::string::npos);
  EXPECT_NE(help.out.find("--mmap"), std::string::npos);
}

// Text prompts and the chat need a tokenizer; the fake model (like a model compiled from a
// checkpoint without one) has none, and says so instead of running. The text options' own
// combinations are checked before anything is opened.
TEST_F(RuntimeCli, TextOptionsWithoutATokenizer) {
  const std::string w = "--weights '" + store + "' ";
  expectError(run(w + "-p hello"), 2, "without a tokenizer");
  expectError(run(w + "--prompt=hello -n 2"), 2, "--tokens");
  expectError(run(w + "--chat < /dev/null"), 2, "without a tokenizer");
  expectError(run(w + "-f '" + dir.file("absent.txt") + "'"), 2, "without a tokenizer");
  expectError(run(w + "-p hello --tokens 1"), 2, "give one of -p, -f, --tokens and --bench");
  expectError(run(w + "-p hello -f x.txt"), 2, "give one of");
  expectError(run(w + "--chat --tokens 1"), 2, "--chat takes its prompt from -p, -f or stdin");
  expectError(run(w + "-p hello --system 'be brief'"), 2, "--system goes with --chat");
  expectError(run(w + "-p hello --no-think"), 2, "--think/--no-think goes with --chat");
  expectError(run(w + "-p hello --dump-logits x"), 2, "--dump-logits goes with --tokens");
  expectError(run(w + "-p"), 2, "-p needs a value");
}

TEST_F(RuntimeCli, WeightsOfAnotherModelAreRefused) {
  std::string other = dir.file("other.dcw");
  writeFakeStore(other, 0xfeedfacecafebeefull);
  Result r = run("--weights '" + other + "' --tokens 1");
  expectError(r, 1, "fingerprint 0xfeedfacecafebeef");
  EXPECT_NE(r.err.find("0x0123456789abcdef"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(other), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST_F(RuntimeCli, MissingAndCorruptWeightsAreErrors) {
  expectError(run("--weights '" + dir.file("absent.dcw") + "' --tokens 1"), 1,
              "absent.dcw: cannot open the weight store");
  std::vector<uint8_t> bytes = readFile(store);
  bytes.resize(bytes.size() - 8);
  writeFile(dir.file("short.dcw"), bytes);
  expectError(run("--weights '" + dir.file("short.dcw") + "' --tokens 1"), 1, "truncated");
  writeFile(dir.file("empty.dcw"), {});
  expectError(run("--weights '" + dir.file("empty.dcw") + "' --tokens 1"), 1,
              "shorter than its header");
  expectError(run("--weights '" + dir.path() + "' --tokens 1"), 1, "not a regular file");
}

TEST_F(RuntimeCli, DefaultWeightsSitNextToTheExecutable) {
  // A copy of the executable with its store beside it, run from another directory.
  std::string bin = dir.file("bin");
  ASSERT_EQ(
      std::system(
          ("mkdir -p '" + bin + "' && cp '" DELTAC_FAKE_MODEL "' '" + bin + "/model'").c_str()),
      0);
  writeFakeStore(bin + "/model.dcw", FAKE_FINGERPRINT);
  Result r = run("--tokens 1,2,3 -n 2", bin + "/model", "/");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, "6 10\n");
  ASSERT_EQ(std::remove((bin + "/model.dcw").c_str()), 0);
  expectError(run("--tokens 1", bin + "/model", "/"), 1, bin + "/model.dcw");
}

TEST_F(RuntimeCli, NeedsOnlyTheCLibraries) {
#ifdef DELTAC_SANITIZED
  GTEST_SKIP() << "a sanitizer runtime adds shared libraries";
#endif
  std::string readelf = DELTAC_READELF;
  if (readelf.empty() || readelf.find("NOTFOUND") != std::string::npos)
    GTEST_SKIP() << "no readelf";
  std::string command =
      "'" + readelf + "' -d '" DELTAC_FAKE_MODEL "' > '" + dir.file("dynamic") + "'";
  ASSERT_EQ(std::system(command.c_str()), 0);
  std::string dynamic = readText(dir.file("dynamic"));
  std::istringstream lines(dynamic);
  std::string line;
  int needed = 0;
  while (std::getline(lines, line)) {
    if (line.find("(NEEDED)") == std::string::npos)
      continue;
    ++needed;
    size_t open = line.find('['), close = line.find(']');
    ASSERT_NE(open, std::string::npos) << line;
    std::string lib = line.substr(open + 1, close - open - 1);
    bool allowed = lib.rfind("libc.so", 0) == 0 || lib.rfind("libm.so", 0) == 0 ||
                   lib.rfind("libpthread.so", 0) == 0 || lib.rfind("ld-linux", 0) == 0;
    EXPECT_TRUE(allowed) << "the executable needs " << lib;
  }
  EXPECT_GE(needed, 1) << dynamic;
}

} // namespace
