//===- TokenizerTest.cpp - the runtime tokenizer and its importer ---------===//
//
// Hand-built tokenizer.json files go through readTokenizer into blobs, which the runtime opens:
// blob validation, BPE merge order, the Qwen pre-tokenizer regexes, NFC, decoding of partial UTF-8,
// added and special tokens, and readTokenizer's errors. Parity with Hugging Face on the real
// vocabulary is test/tokenizer/parity.py.
//
//===----------------------------------------------------------------------===//

#include "import/TokenizerImport.h"

#include "deltac/tokenizer.h"
#include "tokenizer_internal.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <string>
#include <vector>

using namespace deltac;
using namespace llvm;

namespace {

/// GPT-2's byte-level form of raw bytes.
std::string byteLevel(StringRef bytes) {
  std::string out;
  for (unsigned char b : bytes) {
    unsigned cp = b;
    if (!((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE)) {
      unsigned extra = 0;
      for (unsigned x = 0; x < b; ++x)
        if (!((x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || x >= 0xAE))
          ++extra;
      cp = 256 + extra;
    }
    if (cp < 0x80) {
      out.push_back(char(cp));
    } else {
      out.push_back(char(0xC0 | (cp >> 6)));
      out.push_back(char(0x80 | (cp & 0x3F)));
    }
  }
  return out;
}

struct Added {
  std::string content;
  bool special;
};

/// A tokenizer.json: the 256 bytes (ids 0-255), then `words` (raw bytes) in order, the merges
/// (raw bytes pairs) in rank order, the added tokens after the vocabulary.
json::Value tokenizerJSON(const std::vector<std::string> &words,
                          const std::vector<std::pair<std::string, std::string>> &merges,
                          const std::vector<Added> &added, StringRef regex,
                          bool ignoreMerges = false) {
  json::Object vocab;
  int64_t id = 0;
  for (unsigned b = 0; b < 256; ++b)
    vocab[byteLevel(std::string(1, char(b)))] = id++;
  for (const std::string &w : words)
    vocab[byteLevel(w)] = id++;
  json::Array mergeArray;
  for (const auto &[l, r] : merges)
    mergeArray.push_back(byteLevel(l) + " " + byteLevel(r));
  json::Array addedArray;
  for (const Added &a : added)
    addedArray.push_back(json::Object{{"id", id++},
                                      {"content", a.content},
                                      {"single_word", false},
                                      {"lstrip", false},
                                      {"rstrip", false},
                                      {"normalized", false},
                                      {"special", a.special}});
  json::Object byteLevelObject{{"type", "ByteLevel"},
                               {"add_prefix_space", false},
                               {"trim_offsets", false},
                               {"use_regex", false}};
  return json::Object{
      {"added_tokens", std::move(addedArray)},
      {"normalizer", json::Object{{"type", "NFC"}}},
      {"pre_tokenizer",
       json::Object{{"type", "Sequence"},
                    {"pretokenizers",
                     json::Array{json::Object{{"type", "Split"},
                                              {"pattern", json::Object{{"Regex", regex}}},
                                              {"behavior", "Isolated"},
                                              {"invert", false}},
                                 json::Object(byteLevelObject)}}}},
      {"decoder", json::Object(byteLevelObject)},
      {"model", json::Object{{"type", "BPE"},
                             {"dropout", nullptr},
                             {"unk_token", nullptr},
                             {"ignore_merges", ignoreMerges},
                             {"vocab", std::move(vocab)},
                             {"merges", std::move(mergeArray)}}}};
}

class TempDir {
public:
  TempDir() {
    EXPECT_FALSE(sys::fs::createUniqueDirectory("deltac-tokenizer-test", path));
  }
  ~TempDir() { sys::fs::remove_directories(path); }
  std::string file(StringRef name) const {
    SmallString<256> p(path);
    sys::path::append(p, name);
    return std::string(p);
  }
  void write(StringRef name, StringRef text) const {
    std::error_code ec;
    raw_fd_ostream os(file(name), ec);
    ASSERT_FALSE(ec);
    os << text;
  }
  SmallString<256> path;
};

std::vector<uint8_t> blobFrom(const json::Value &tokenizer) {
  TempDir dir;
  std::string text;
  raw_string_ostream(text) << tokenizer;
  dir.write("tokenizer.json", text);
  Expected<std::optional<std::vector<uint8_t>>> blob = readTokenizer(dir.path);
  if (!blob) {
    ADD_FAILURE() << toString(blob.takeError());
    return {};
  }
  EXPECT_TRUE(blob->has_value());
  return blob->value_or(std::vector<uint8_t>());
}

/// An open tokenizer that owns its blob.
struct Tok {
  explicit Tok(std::vector<uint8_t> bytes) : blob(std::move(bytes)) {
    dc_status *s = dc_tokenizer_open(blob.data(), blob.size(), &t);
    EXPECT_EQ(s, nullptr) << dc_status_message(s);
    dc_status_free(s);
  }
  ~Tok() { dc_tokenizer_close(t); }
  std::vector<int32_t> encode(StringRef text, bool parseSpecial = true) const {
    int32_t *ids = nullptr;
    size_t n = 0;
    dc_status *s = dc_tokenizer_encode(t, text.data(), text.size(), parseSpecial, &ids, &n);
    EXPECT_EQ(s, nullptr) << dc_status_message(s);
    dc_status_free(s);
    std::vector<int32_t> out(ids, ids + n);
    std::free(ids);
    return out;
  }
  std::string decode(const std::vector<int32_t> &ids, bool skipSpecial = false) const {
    char *text = nullptr;
    dc_status *s = dc_tokenizer_decode(t, ids.data(), ids.size(), skipSpecial, &text);
    EXPECT_EQ(s, nullptr) << dc_status_message(s);
    dc_status_free(s);
    std::string out = text ? text : "";
    std::free(text);
    return out;
  }
  std::vector<std::string> pieces(StringRef text) const {
    char *joined = nullptr;
    dc_status *s = dc_tokenizer_pretokenize(t, text.data(), text.size(), &joined);
    EXPECT_EQ(s, nullptr) << dc_status_message(s);
    dc_status_free(s);
    std::vector<std::string> out;
    std::string current;
    for (const char *c = joined; c && *c; ++c) {
      if (*c == '\x1f') {
        out.push_back(current);
        current.clear();
      } else {
        current.push_back(*c);
      }
    }
    std::free(joined);
    return out;
  }
  std::vector<uint8_t> blob;
  dc_tokenizer *t = nullptr;
};

using Pieces = std::vector<std::string>;

std::vector<uint8_t> bytesOnly(StringRef regex = kQwen35PretokenizerRegex) {
  return blobFrom(tokenizerJSON({}, {}, {}, regex));
}

TEST(Tokenizer, MergesApplyLowestRankFirst) {
  // Ranks: (b, c) first, then (a, b), then (a, bc). "abc" must go a|bc -> abc, never ab|c.
  Tok tok(blobFrom(tokenizerJSON({"bc", "ab", "abc", "abab"},
                                 {{"b", "c"}, {"a", "b"}, {"a", "bc"}, {"ab", "ab"}}, {},
                                 kQwen35PretokenizerRegex)));
  const int32_t bc = 256, ab = 257, abc = 258, abab = 259;
  EXPECT_EQ(tok.encode("abc"), (std::vector<int32_t>{abc}));
  EXPECT_EQ(tok.encode("abab"), (std::vector<int32_t>{abab}));
  EXPECT_EQ(tok.encode("ababab"), (std::vector<int32_t>{abab, ab}));
  EXPECT_EQ(tok.encode("cab"), (std::vector<int32_t>{'c', ab}));
  EXPECT_EQ(tok.encode("abcbc"), (std::vector<int32_t>{abc, bc}));
  EXPECT_EQ(tok.encode(""), (std::vector<int32_t>{}));
  EXPECT_EQ(tok.decode({abc, bc, 'x'}), "abcbcx");
  EXPECT_EQ(dc_tokenizer_vocab_size(tok.t), 260);
  EXPECT_EQ(dc_tokenizer_find(tok.t, "abc"), abc);
  EXPECT_EQ(dc_tokenizer_find(tok.t, " "), ' ');
  EXPECT_EQ(dc_tokenizer_find(tok.t, "zzz"), -1);
  size_t length = 0;
  const char *bytes = dc_tokenizer_token_bytes(tok.t, abc, &length);
  ASSERT_NE(bytes, nullptr);
  EXPECT_EQ(std::string(bytes, length), "abc");
  EXPECT_EQ(dc_tokenizer_token_bytes(tok.t, 260, &length), nullptr);
  EXPECT_EQ(dc_tokenizer_token_bytes(tok.t, -1, &length), nullptr);
}

TEST(Tokenizer, IgnoreMergesTakesWholeWords) {
  // "abc" is in the vocabulary but no merge reaches it: only ignore_merges finds it.
  json::Value j = tokenizerJSON({"ab", "abc"}, {{"a", "b"}}, {}, kQwen35PretokenizerRegex, true);
  Tok with(blobFrom(j));
  EXPECT_EQ(with.encode("abc"), (std::vector<int32_t>{257}));
  Tok without(blobFrom(tokenizerJSON({"ab", "abc"}, {{"a", "b"}}, {}, kQwen35PretokenizerRegex)));
  EXPECT_EQ(without.encode("abc"), (std::vector<int32_t>{256, 'c'}));
}

TEST(Tokenizer, RegexContractions) {
  Tok tok(bytesOnly());
  EXPECT_EQ(tok.pieces("I'M you'RE it's WE'LL they'Ve she'D"),
            (Pieces{"I", "'M", " you", "'RE", " it", "'s", " WE", "'LL", " they", "'Ve", " she",
                    "'D"}));
  // Not a contraction: the apostrophe after a space goes with the space.
  EXPECT_EQ(tok.pieces("'x 'reality"), (Pieces{"'x", " '", "reality"}));
}

TEST(Tokenizer, RegexWhitespace) {
  Tok tok(bytesOnly());
  // \s+(?!\S) gives back the last space before a non-space; a lone space joins the word.
  EXPECT_EQ(tok.pieces("a  b"), (Pieces{"a", " ", " b"}));
  EXPECT_EQ(tok.pieces("a \t b"), (Pieces{"a", " \t", " b"}));
  EXPECT_EQ(tok.pieces("end   "), (Pieces{"end", "   "}));
  // \s*[\r\n]+ ends at the last line break of the run.
  EXPECT_EQ(tok.pieces("a   \n\nb"), (Pieces{"a", "   \n\n", "b"}));
  EXPECT_EQ(tok.pieces("x\r\n\r\n  y"), (Pieces{"x", "\r\n\r\n", " ", " y"}));
  EXPECT_EQ(tok.pieces("x\n \n\ty"), (Pieces{"x", "\n \n", "\ty"}));
  // Punctuation takes the line breaks after it.
  EXPECT_EQ(tok.pieces("!!!\r\n\nx"), (Pieces{"!!!\r\n\n", "x"}));
  EXPECT_EQ(tok.pieces(" (x)"), (Pieces{" (", "x", ")"}));
}

TEST(Tokenizer, RegexDigitsOneByOne) {
  Tok tok(bytesOnly());
  EXPECT_EQ(tok.pieces("x 2024!"), (Pieces{"x", " ", "2", "0", "2", "4", "!"}));
  EXPECT_EQ(tok.pieces("a1b"), (Pieces{"a", "1", "b"}));
}

TEST(Tokenizer, RegexMarksQwen35VersusQwen2) {
  // x + U+0301 does not compose, so the mark survives NFC.
  Tok qwen35(bytesOnly(kQwen35PretokenizerRegex));
  Tok qwen2(bytesOnly(kQwen2PretokenizerRegex));
  EXPECT_EQ(qwen35.pieces("x\xCC\x81y z"), (Pieces{"x\xCC\x81y", " z"}));
  EXPECT_EQ(qwen2.pieces("x\xCC\x81y z"), (Pieces{"x", "\xCC\x81y", " z"}));
  // Hindi: vowel signs are marks.
  const char *namaste = "\xE0\xA4\xA8\xE0\xA4\xAE\xE0\xA4\xB8\xE0\xA5\x8D\xE0\xA4\xA4\xE0\xA5\x87";
  EXPECT_EQ(qwen35.pieces(namaste), (Pieces{namaste}));
  EXPECT_GT(qwen2.pieces(namaste).size(), 1u);
}

TEST(Tokenizer, NFC) {
  Tok tok(bytesOnly());
  // e + U+0301 -> U+00E9; Hangul jamo compose into a syllable.
  EXPECT_EQ(tok.pieces("Cafe\xCC\x81"), (Pieces{"Caf\xC3\xA9"}));
  EXPECT_EQ(tok.encode("Cafe\xCC\x81"), tok.encode("Caf\xC3\xA9"));
  EXPECT_EQ(tok.pieces("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8"), (Pieces{"\xEA\xB0\x81"}));
  // Canonical ordering: dot below (220) before dot above (230).
  EXPECT_EQ(tok.pieces("q\xCC\x87\xCC\xA3"), (Pieces{"q\xCC\xA3\xCC\x87"}));
}

TEST(Tokenizer, DecodePartialUTF8) {
  Tok tok(bytesOnly());
  // U+4E2D is E4 B8 AD: a cut sequence is one U+FFFD, a stray continuation byte another.
  EXPECT_EQ(tok.decode({0xE4, 0xB8}), "\xEF\xBF\xBD");
  EXPECT_EQ(tok.decode({0xE4, 0xB8, 'a'}), "\xEF\xBF\xBD" "a");
  EXPECT_EQ(tok.decode({0xE4, 0xB8, 0xAD}), "\xE4\xB8\xAD");
  EXPECT_EQ(tok.decode({0xAD, 'b'}), "\xEF\xBF\xBD" "b");
  EXPECT_EQ(tok.decode({0xF0, 0x80}), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(tok.decode({}), "");
  char *text = nullptr;
  int32_t bad[] = {'a', 256};
  dc_status *s = dc_tokenizer_decode(tok.t, bad, 2, 0, &text);
  EXPECT_EQ(dc_status_get_code(s), DC_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(text, nullptr);
  dc_status_free(s);
}

TEST(Tokenizer, InvalidUTF8IsAnError) {
  Tok tok(bytesOnly());
  for (StringRef bad : {StringRef("a\xC0\x80"), StringRef("\xED\xA0\x80"), StringRef("\xE4\xB8"),
                        StringRef("\xFF"), StringRef("\xF4\x90\x80\x80")}) {
    int32_t *ids = nullptr;
    size_t n = 0;
    dc_status *s = dc_tokenizer_encode(tok.t, bad.data(), bad.size(), 1, &ids, &n);
    EXPECT_EQ(dc_status_get_code(s), DC_STATUS_INVALID_ARGUMENT);
    EXPECT_EQ(ids, nullptr);
    dc_status_free(s);
  }
}

TEST(Tokenizer, SpecialAndAddedTokens) {
  Tok tok(blobFrom(tokenizerJSON({"ab"}, {{"a", "b"}},
                                 {{"<|im_start|>", true}, {"<|im_end|>", true}, {"<think>", false}},
                                 kQwen35PretokenizerRegex)));
  const int32_t start = 257, end = 258, think = 259;
  EXPECT_EQ(tok.encode("<|im_start|>ab<|im_end|>"), (std::vector<int32_t>{start, 256, end}));
  // Not parsed: the special token is plain text; the non-special added token still splits.
  std::vector<int32_t> plain = tok.encode("<|im_start|><think>", false);
  std::vector<int32_t> expected = tok.encode("<|im_start|>", false);
  EXPECT_EQ(expected.size(), 12u); // one id per byte: only "ab" has a merge
  expected.push_back(think);
  EXPECT_EQ(plain, expected);
  EXPECT_EQ(tok.encode("x<think>y"), (std::vector<int32_t>{'x', think, 'y'}));
  EXPECT_EQ(tok.decode({start, 256, end, think}), "<|im_start|>ab<|im_end|><think>");
  EXPECT_EQ(tok.decode({start, 256, end, think}, true), "ab<think>");
  EXPECT_TRUE(dc_tokenizer_is_special(tok.t, start));
  EXPECT_FALSE(dc_tokenizer_is_special(tok.t, think));
  EXPECT_FALSE(dc_tokenizer_is_special(tok.t, 256));
  EXPECT_FALSE(dc_tokenizer_is_special(tok.t, 1000));
  EXPECT_EQ(dc_tokenizer_find(tok.t, "<|im_end|>"), end);
  EXPECT_EQ(dc_tokenizer_find(tok.t, "<think>"), think);
}

TEST(Tokenizer, TruncatedAndCorruptBlobsAreErrors) {
  std::vector<uint8_t> blob = blobFrom(tokenizerJSON(
      {"ab", "abc"}, {{"a", "b"}, {"ab", "c"}}, {{"<|im_start|>", true}}, kQwen35PretokenizerRegex));
  ASSERT_FALSE(blob.empty());
  for (size_t size = 1; size < blob.size(); ++size) {
    std::vector<uint8_t> cut(blob.begin(), blob.begin() + size);
    dc_tokenizer *t = nullptr;
    dc_status *s = dc_tokenizer_open(cut.data(), cut.size(), &t);
    ASSERT_EQ(dc_status_get_code(s), DC_STATUS_INVALID_FORMAT) << "size " << size;
    EXPECT_EQ(t, nullptr);
    dc_status_free(s);
  }
  // Every byte changed in turn: an error or a tokenizer that still works, never a crash.
  size_t opened = 0;
  for (size_t i = 0; i < blob.size(); ++i) {
    for (uint8_t delta : {uint8_t(1), uint8_t(0x80), uint8_t(0xFF)}) {
      std::vector<uint8_t> bad = blob;
      bad[i] = uint8_t(bad[i] + delta);
      dc_tokenizer *t = nullptr;
      dc_status *s = dc_tokenizer_open(bad.data(), bad.size(), &t);
      if (s) {
        EXPECT_EQ(dc_status_get_code(s), DC_STATUS_INVALID_FORMAT);
        dc_status_free(s);
        continue;
      }
      ++opened;
      int32_t *ids = nullptr;
      size_t n = 0;
      const char text[] = "abc <|im_start|> ab\xC3\xA9";
      dc_status_free(dc_tokenizer_encode(t, text, sizeof text - 1, 1, &ids, &n));
      char *out = nullptr;
      dc_status_free(dc_tokenizer_decode(t, ids, n, 0, &out));
      std::free(ids);
      std::free(out);
      dc_tokenizer_close(t);
    }
  }
  EXPECT_GT(opened, 0u); // changed pool bytes of plain byte tokens still open
  static const char magic[] = "DCTK";
  dc_tokenizer *t = nullptr;
  dc_status *s = dc_tokenizer_open(magic, 4, &t);
  EXPECT_EQ(dc_status_get_code(s), DC_STATUS_INVALID_FORMAT);
  dc_status_free(s);
}

TEST(Tokenizer, TinyFixture) {
  Expected<std::optional<std::vector<uint8_t>>> blob =
      readTokenizer(DELTAC_FIXTURES "/tokenizer_tiny");
  ASSERT_TRUE(bool(blob)) << toString(blob.takeError());
  ASSERT_TRUE(blob->has_value());
  Tok tok(std::move(**blob));
  EXPECT_EQ(dc_tokenizer_vocab_size(tok.t), 384);
  std::string text = "<|im_start|>user\nHello, robot!<|im_end|>\n<think>\n</think>";
  std::vector<int32_t> ids = tok.encode(text);
  EXPECT_EQ(ids.front(), dc_tokenizer_find(tok.t, "<|im_start|>"));
  EXPECT_EQ(tok.decode(ids), text);
  EXPECT_TRUE(dc_tokenizer_is_special(tok.t, dc_tokenizer_find(tok.t, "<|im_end|>")));
  EXPECT_FALSE(dc_tokenizer_is_special(tok.t, dc_tokenizer_find(tok.t, "<think>")));
}

/// readTokenizer's error for a tokenizer.json holding `text`.
std::string importError(StringRef text, std::string *path = nullptr) {
  TempDir dir;
  dir.write("tokenizer.json", text);
  if (path)
    *path = dir.file("tokenizer.json");
  Expected<std::optional<std::vector<uint8_t>>> blob = readTokenizer(dir.path);
  if (blob) {
    ADD_FAILURE() << "no error for " << text.take_front(200).str();
    return "";
  }
  return toString(blob.takeError());
}

std::string mutated(function_ref<void(json::Object &)> change) {
  json::Value j =
      tokenizerJSON({"ab"}, {{"a", "b"}}, {{"<s>", true}}, kQwen35PretokenizerRegex);
  change(*j.getAsObject());
  std::string text;
  raw_string_ostream(text) << j;
  return text;
}

TEST(TokenizerImport, Errors) {
  {
    TempDir empty;
    Expected<std::optional<std::vector<uint8_t>>> none = readTokenizer(empty.path);
    ASSERT_TRUE(bool(none)) << toString(none.takeError());
    EXPECT_FALSE(none->has_value());
  }
  std::string path;
  std::string e = importError("{\"model\": ", &path);
  EXPECT_NE(e.find(path), std::string::npos) << e;
  EXPECT_NE(e.find("invalid JSON"), std::string::npos) << e;

  e = importError(mutated([](json::Object &o) {
                    (*o.getObject("model"))["type"] = "WordPiece";
                  }),
                  &path);
  EXPECT_NE(e.find(path), std::string::npos) << e;
  EXPECT_NE(e.find("WordPiece"), std::string::npos) << e;

  e = importError(mutated([](json::Object &o) {
                    json::Array &pre = *o.getObject("pre_tokenizer")->getArray("pretokenizers");
                    (*pre[0].getAsObject())["pattern"] = json::Object{{"Regex", "\\w+|\\s+"}};
                  }),
                  &path);
  EXPECT_NE(e.find(path), std::string::npos) << e;
  EXPECT_NE(e.find("\\w+|\\s+"), std::string::npos) << e;

  e = importError(mutated([](json::Object &o) {
    o.getObject("model")->getArray("merges")->push_back("a zz");
  }));
  EXPECT_NE(e.find("zz"), std::string::npos) << e;

  e = importError(mutated([](json::Object &o) {
    o.getObject("model")->getObject("vocab")->insert({"dup", 3});
  }));
  EXPECT_NE(e.find("duplicate id 3"), std::string::npos) << e;

  e = importError(mutated([](json::Object &o) { o["normalizer"] = json::Object{{"type", "NFKC"}}; }));
  EXPECT_NE(e.find("NFKC"), std::string::npos) << e;

  Expected<std::optional<std::vector<uint8_t>>> missing = readTokenizer("/nonexistent/x.gguf");
  ASSERT_FALSE(bool(missing));
  EXPECT_NE(toString(missing.takeError()).find("/nonexistent/x.gguf"), std::string::npos);
}

} // namespace
