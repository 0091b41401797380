//===- RuntimeSessionTest.cpp - sessions on a hand-written program --------===//
//
// test/runtime/fake_program.c checks in its entry points what the runtime promises (zeroed states
// that persist between calls, an aligned arena, positions, at most max_tokens per call) and writes
// predictable logits; each call is logged. These tests drive it through the public API.
//
//===----------------------------------------------------------------------===//

#include "TestStore.h"
#include "fake_program.h"

#include "deltac/program.h"
#include "deltac/runtime.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include <unistd.h>

using namespace deltac::test;

namespace {

float expectedLogit(int32_t token, int64_t position, int64_t v) {
  return float(v) / 64.0f + (v == (token + position + 1) % FAKE_VOCAB ? 10.0f : 0.0f);
}

void expectRow(const float *row, int32_t token, int64_t position) {
  for (int64_t v = 0; v < FAKE_VOCAB; ++v)
    ASSERT_EQ(row[v], expectedLogit(token, position, v))
        << "token " << token << " position " << position << " v " << v;
}

std::vector<int64_t> takeLog() {
  std::vector<int64_t> log(fake_program_log, fake_program_log + fake_program_log_size);
  fake_program_log_size = 0;
  return log;
}

class RuntimeSession : public ::testing::TestWithParam<int32_t> {
protected:
  void SetUp() override {
    writeFakeStore(dir.file("fake.dcw"), FAKE_FINGERPRINT);
    dc_status *s = dc_model_open(&dc_model_program, dir.file("fake.dcw").c_str(), &model);
    ASSERT_EQ(s, nullptr) << dc_status_message(s);
    s = dc_session_create(model, GetParam(), &session);
    ASSERT_EQ(s, nullptr) << dc_status_message(s);
    fake_program_log_size = 0;
    fake_program_fail_at = -1;
    fake_program_bad_op = 0;
  }
  void TearDown() override {
    dc_session_destroy(session);
    dc_model_close(model);
    fake_program_fail_at = -1;
    fake_program_bad_op = 0;
  }

  /// Expects `s` to be an error of `code` whose message contains `text`; frees it.
  static void expectError(dc_status *s, dc_status_code code, const std::string &text) {
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(dc_status_get_code(s), code) << dc_status_message(s);
    EXPECT_NE(std::string(dc_status_message(s)).find(text), std::string::npos)
        << dc_status_message(s);
    dc_status_free(s);
  }

  TempDir dir;
  dc_model *model = nullptr;
  dc_session *session = nullptr;
};

TEST_P(RuntimeSession, Basics) {
  EXPECT_EQ(dc_session_threads(session), GetParam());
  EXPECT_EQ(dc_session_position(session), 0);
  EXPECT_EQ(dc_model_vocab_size(model), FAKE_VOCAB);
  EXPECT_EQ(dc_model_max_context(model), FAKE_CONTEXT);
  EXPECT_EQ(dc_model_max_tokens(model), FAKE_MAX_TOKENS);
  EXPECT_EQ(dc_model_fingerprint(model), FAKE_FINGERPRINT);
  EXPECT_EQ(dc_model_weight(model, 1), nullptr);
  const float *bias = static_cast<const float *>(dc_model_weight(model, 0));
  ASSERT_NE(bias, nullptr);
  EXPECT_EQ(bias[5], 5.0f / 64.0f);
}

TEST_P(RuntimeSession, PrefillSplitsIntoMaxTokensAndTracksThePosition) {
  std::vector<int32_t> prompt = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3};
  std::vector<float> all(prompt.size() * FAKE_VOCAB, NAN);
  const float *last = nullptr;
  dc_status *s =
      dc_session_prefill(session, prompt.data(), int64_t(prompt.size()), all.data(), &last);
  ASSERT_EQ(s, nullptr) << dc_status_message(s);
  EXPECT_EQ(takeLog(), (std::vector<int64_t>{4, 4, 2}));
  EXPECT_EQ(dc_session_position(session), 10);
  for (size_t t = 0; t < prompt.size(); ++t)
    expectRow(all.data() + t * FAKE_VOCAB, prompt[t], int64_t(t));
  EXPECT_EQ(last, all.data() + 9 * FAKE_VOCAB);

  // Without a buffer for every row, the last row comes from the session.
  s = dc_session_prefill(session, prompt.data(), 5, nullptr, &last);
  ASSERT_EQ(s, nullptr) << dc_status_message(s);
  EXPECT_EQ(takeLog(), (std::vector<int64_t>{4, 1}));
  EXPECT_EQ(dc_session_position(session), 15);
  expectRow(last, prompt[4], 14);

  s = dc_session_decode(session, 7, &last);
  ASSERT_EQ(s, nullptr) << dc_status_message(s);
  EXPECT_EQ(takeLog(), (std::vector<int64_t>{-1}));
  EXPECT_EQ(dc_session_position(session), 16);
  expectRow(last, 7, 15);
  // out_logits may be NULL.
  ASSERT_EQ(dc_session_decode(session, 0, nullptr), nullptr);
  EXPECT_EQ(dc_session_position(session), 17);
}

TEST_P(RuntimeSession, ContextLengthIsEnforcedBeforeRunning) {
  std::vector<int32_t> tokens(FAKE_CONTEXT + 1, 1);
  expectError(dc_session_prefill(session, tokens.data(), FAKE_CONTEXT + 1, nullptr, nullptr),
              DC_STATUS_OUT_OF_RANGE, "context length of 32");
  EXPECT_TRUE(takeLog().empty());
  EXPECT_EQ(dc_session_position(session), 0);

  ASSERT_EQ(dc_session_prefill(session, tokens.data(), FAKE_CONTEXT - 1, nullptr, nullptr),
            nullptr);
  expectError(dc_session_prefill(session, tokens.data(), 2, nullptr, nullptr),
              DC_STATUS_OUT_OF_RANGE, "at position 31");
  EXPECT_EQ(dc_session_position(session), FAKE_CONTEXT - 1);
  const float *logits = nullptr;
  ASSERT_EQ(dc_session_decode(session, 2, &logits), nullptr); // fills the context exactly
  expectRow(logits, 2, FAKE_CONTEXT - 1);
  takeLog();
  expectError(dc_session_decode(session, 2, &logits), DC_STATUS_OUT_OF_RANGE, "context");
  EXPECT_TRUE(takeLog().empty());
  EXPECT_EQ(dc_session_position(session), FAKE_CONTEXT);
}

TEST_P(RuntimeSession, TokenIdsAreCheckedBeforeRunning) {
  std::vector<int32_t> tokens = {1, 2, FAKE_VOCAB, 3};
  expectError(dc_session_prefill(session, tokens.data(), 4, nullptr, nullptr),
              DC_STATUS_INVALID_ARGUMENT, "token id 16 (at index 2)");
  tokens[2] = -1;
  expectError(dc_session_prefill(session, tokens.data(), 4, nullptr, nullptr),
              DC_STATUS_INVALID_ARGUMENT, "token id -1");
  expectError(dc_session_decode(session, FAKE_VOCAB + 5, nullptr), DC_STATUS_INVALID_ARGUMENT,
              "outside the vocabulary [0, 16)");
  expectError(dc_session_prefill(session, tokens.data(), 0, nullptr, nullptr),
              DC_STATUS_INVALID_ARGUMENT, "at least one token");
  EXPECT_TRUE(takeLog().empty());
  EXPECT_EQ(dc_session_position(session), 0);
}

TEST_P(RuntimeSession, ResetZeroesTheStates) {
  std::vector<int32_t> tokens = {5, 6, 7, 8, 9, 10};
  ASSERT_EQ(dc_session_prefill(session, tokens.data(), 6, nullptr, nullptr), nullptr);
  EXPECT_EQ(dc_session_position(session), 6);
  dc_session_reset(session);
  EXPECT_EQ(dc_session_position(session), 0);
  // The fake program returns FAKE_BAD_STATE unless its counter state equals `start` (0 again).
  const float *logits = nullptr;
  dc_status *s = dc_session_prefill(session, tokens.data(), 3, nullptr, &logits);
  ASSERT_EQ(s, nullptr) << dc_status_message(s);
  expectRow(logits, 7, 2);
  ASSERT_EQ(dc_session_decode(session, 1, &logits), nullptr);
  expectRow(logits, 1, 3);
}

TEST_P(RuntimeSession, EntryAndOpFailuresBecomeErrors) {
  std::vector<int32_t> tokens = {1, 2, 3, 4, 5, 6};
  fake_program_fail_at = 1; // the second chunk
  expectError(dc_session_prefill(session, tokens.data(), 6, nullptr, nullptr), DC_STATUS_INTERNAL,
              "prefill entry failed (returned 7) at position 4");
  dc_session_reset(session);
  fake_program_fail_at = -1;
  fake_program_bad_op = 1;
  expectError(dc_session_decode(session, 1, nullptr), DC_STATUS_INTERNAL, "multiple of 32");
  fake_program_bad_op = 0;
  dc_session_reset(session);
  ASSERT_EQ(dc_session_decode(session, 1, nullptr), nullptr); // the error was consumed
}

TEST_P(RuntimeSession, TwoSessionsShareAModel) {
  dc_session *other = nullptr;
  ASSERT_EQ(dc_session_create(model, 2, &other), nullptr);
  std::vector<int32_t> tokens = {1, 2, 3};
  ASSERT_EQ(dc_session_prefill(session, tokens.data(), 3, nullptr, nullptr), nullptr);
  const float *logits = nullptr;
  ASSERT_EQ(dc_session_decode(other, 4, &logits), nullptr);
  expectRow(logits, 4, 0);
  EXPECT_EQ(dc_session_position(session), 3);
  EXPECT_EQ(dc_session_position(other), 1);
  dc_session_destroy(other);
}

INSTANTIATE_TEST_SUITE_P(Threads, RuntimeSession, ::testing::Values(1, 3),
                         [](const auto &info) { return std::to_string(info.param) + "Threads"; });

TEST(RuntimeSessionCreate, DefaultThreadsIsTheCpuCount) {
  TempDir dir;
  writeFakeStore(dir.file("fake.dcw"), FAKE_FINGERPRINT);
  dc_model *model = nullptr;
  ASSERT_EQ(dc_model_open(&dc_model_program, dir.file("fake.dcw").c_str(), &model), nullptr);
  dc_session *session = nullptr;
  ASSERT_EQ(dc_session_create(model, 0, &session), nullptr);
  EXPECT_EQ(dc_session_threads(session), int32_t(sysconf(_SC_NPROCESSORS_ONLN)));
  dc_session_destroy(session);
  dc_model_close(model);
}

} // namespace
