//===- TokenizerImport.cpp - a checkpoint's tokenizer as a runtime blob ---===//
//
// Both sources are first read into one TokenizerSpec (tokens by id as raw bytes, merges by rank as
// id triples, added tokens), which is then checked and serialized. Vocabulary strings arrive in
// GPT-2's byte-to-unicode form ("Ġthe"); the blob holds raw bytes (" the"), so the runtime never
// sees that mapping.
//
//===----------------------------------------------------------------------===//

#include "import/TokenizerImport.h"

#include "import/FileIO.h"
#include "import/GGUF.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <array>

using namespace llvm;

namespace deltac {

const char kQwen2PretokenizerRegex[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char kQwen35PretokenizerRegex[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| "
    "?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

namespace {

// The blob's constants (docs/tokenizer.md; runtime/tokenizer.c reads them).
constexpr uint32_t kBlobVersion = 1;
enum : uint32_t { PreQwen2 = 1, PreQwen35 = 2 };
enum : uint32_t { BlobNFC = 1, BlobIgnoreMerges = 2 };
enum : uint8_t { TokenVocab = 1, TokenAdded = 2, TokenSpecial = 4 };

struct TokenizerSpec {
  struct Token {
    std::string bytes;
    uint8_t flags = 0;
  };
  std::vector<Token> tokens; ///< by id; flags 0: no token has this id
  std::vector<std::array<uint32_t, 3>> merges; ///< left, right, result; by rank
  std::vector<std::pair<uint32_t, std::string>> added; ///< id, content (UTF-8 text)
  uint32_t pretokenizer = PreQwen35;
  bool nfc = true;
  bool ignoreMerges = false;
};

/// GPT-2's byte-to-unicode table inverted: code point -> byte.
const DenseMap<uint32_t, uint8_t> &unicodeToByte() {
  static const DenseMap<uint32_t, uint8_t> table = [] {
    DenseMap<uint32_t, uint8_t> map;
    unsigned extra = 0;
    for (unsigned b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      map[printable ? b : 256 + extra++] = uint8_t(b);
    }
    return map;
  }();
  return table;
}

/// The code points of UTF-8 `s`, or nullopt if it is not valid UTF-8.
std::optional<std::vector<uint32_t>> codePoints(StringRef s) {
  std::vector<uint32_t> out;
  const UTF8 *p = reinterpret_cast<const UTF8 *>(s.begin());
  const UTF8 *end = reinterpret_cast<const UTF8 *>(s.end());
  while (p < end) {
    UTF32 cp;
    if (convertUTF8Sequence(&p, end, &cp, strictConversion) != conversionOK)
      return std::nullopt;
    out.push_back(cp);
  }
  return out;
}

/// A vocabulary string in byte-level form as raw bytes; nullopt when a character is outside the
/// byte-level alphabet.
std::optional<std::string> byteLevelDecode(StringRef s) {
  std::optional<std::vector<uint32_t>> cps = codePoints(s);
  if (!cps)
    return std::nullopt;
  std::string out;
  for (uint32_t cp : *cps) {
    auto it = unicodeToByte().find(cp);
    if (it == unicodeToByte().end())
      return std::nullopt;
    out.push_back(char(it->second));
  }
  return out;
}

/// What Hugging Face's ByteLevel decoder makes of an added token's content: its byte-level
/// decoding when every character is in the byte-level alphabet, else the content as it is.
std::string addedTokenBytes(StringRef content) {
  if (std::optional<std::string> bytes = byteLevelDecode(content))
    return *bytes;
  return content.str();
}

/// Shared by both readers: sets a vocabulary token, refusing duplicate ids and strings.
class SpecBuilder {
public:
  SpecBuilder(StringRef path, TokenizerSpec &spec) : path(path), spec(spec) {}

  Error error(const Twine &message) { return fileError(path, message); }

  Error addVocab(StringRef text, int64_t id) {
    if (id < 0 || id >= INT32_MAX - 1)
      return error("token '" + text + "' has id " + Twine(id) + ", outside [0, 2^31 - 1)");
    std::optional<std::string> bytes = byteLevelDecode(text);
    if (!bytes || bytes->empty())
      return error("vocabulary token '" + text + "' (id " + Twine(id) +
                   ") is not in byte-level form");
    auto [it, inserted] = ids.try_emplace(text, uint32_t(id));
    if (!inserted)
      return error("token '" + text + "' appears twice (ids " + Twine(it->second) + " and " +
                   Twine(id) + ")");
    TokenizerSpec::Token &token = slot(uint32_t(id));
    if (token.flags)
      return error("duplicate id " + Twine(id) + " (token '" + text + "')");
    token.bytes = std::move(*bytes);
    token.flags = TokenVocab;
    return Error::success();
  }

  Error addAdded(StringRef content, int64_t id, bool special) {
    if (id < 0 || id >= INT32_MAX - 1)
      return error("added token '" + content + "' has id " + Twine(id) +
                   ", outside [0, 2^31 - 1)");
    if (content.empty() || !codePoints(content))
      return error("added token " + Twine(id) + " is empty or not valid UTF-8");
    TokenizerSpec::Token &token = slot(uint32_t(id));
    if (token.flags & TokenAdded)
      return error("duplicate added token id " + Twine(id));
    if (token.flags & TokenVocab) {
      auto it = ids.find(content);
      if (it == ids.end() || it->second != uint32_t(id))
        return error("added token '" + content + "' has id " + Twine(id) +
                     ", which the vocabulary gives to another token");
    } else {
      token.bytes = addedTokenBytes(content);
    }
    token.flags |= TokenAdded | (special ? TokenSpecial : 0);
    for (const auto &[otherId, other] : spec.added)
      if (other == content)
        return error("added token '" + content + "' appears twice (ids " + Twine(otherId) +
                     " and " + Twine(id) + ")");
    spec.added.emplace_back(uint32_t(id), content.str());
    return Error::success();
  }

  Error addMerge(StringRef left, StringRef right) {
    auto l = ids.find(left), r = ids.find(right);
    if (l == ids.end() || r == ids.end())
      return error("merge '" + left + " " + right + "' names a token not in the vocabulary ('" +
                   (l == ids.end() ? left : right) + "')");
    auto x = ids.find((left + right).str());
    if (x == ids.end())
      return error("merge '" + left + " " + right + "' makes '" + left + right +
                   "', which is not in the vocabulary");
    spec.merges.push_back({l->second, r->second, x->second});
    return Error::success();
  }

  /// Checks left after all tokens are in.
  Error finish() {
    if (spec.tokens.empty())
      return error("the tokenizer has no tokens");
    std::array<bool, 256> bytes{};
    for (const TokenizerSpec::Token &t : spec.tokens)
      if ((t.flags & TokenVocab) && t.bytes.size() == 1)
        bytes[uint8_t(t.bytes[0])] = true;
    for (unsigned b = 0; b < 256; ++b)
      if (!bytes[b] && needsAllBytes)
        return error("the vocabulary has no token for byte " + Twine(b) +
                     " and names an unknown token, which deltac does not support");
    return Error::success();
  }

  bool needsAllBytes = false;

private:
  TokenizerSpec::Token &slot(uint32_t id) {
    if (id >= spec.tokens.size())
      spec.tokens.resize(size_t(id) + 1);
    return spec.tokens[id];
  }

  StringRef path;
  TokenizerSpec &spec;
  StringMap<uint32_t> ids; ///< vocabulary string (byte-level form) -> id
};

/// Appends little-endian u32s.
void putU32(std::vector<uint8_t> &out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(uint8_t(v >> (8 * i)));
}

std::vector<uint8_t> serialize(const TokenizerSpec &spec) {
  std::string pool;
  std::vector<uint32_t> offsets{0};
  for (const TokenizerSpec::Token &t : spec.tokens) {
    pool += t.bytes;
    offsets.push_back(uint32_t(pool.size()));
  }
  std::vector<std::array<uint32_t, 2>> addedContent;
  for (const auto &[id, content] : spec.added) {
    addedContent.push_back({uint32_t(pool.size()), uint32_t(content.size())});
    pool += content;
  }
  std::vector<uint8_t> out;
  const char magic[4] = {'D', 'C', 'T', 'K'};
  out.insert(out.end(), magic, magic + 4);
  putU32(out, kBlobVersion);
  putU32(out, spec.pretokenizer);
  putU32(out, (spec.nfc ? BlobNFC : 0) | (spec.ignoreMerges ? BlobIgnoreMerges : 0));
  putU32(out, uint32_t(spec.tokens.size()));
  putU32(out, uint32_t(spec.merges.size()));
  putU32(out, uint32_t(spec.added.size()));
  putU32(out, uint32_t(pool.size()));
  for (uint32_t o : offsets)
    putU32(out, o);
  for (const TokenizerSpec::Token &t : spec.tokens)
    out.push_back(t.flags);
  while (out.size() % 4)
    out.push_back(0);
  for (const auto &m : spec.merges)
    for (uint32_t v : m)
      putU32(out, v);
  for (size_t i = 0; i < spec.added.size(); ++i) {
    putU32(out, spec.added[i].first);
    putU32(out, addedContent[i][0]);
    putU32(out, addedContent[i][1]);
    putU32(out, 0);
  }
  out.insert(out.end(), pool.begin(), pool.end());
  return out;
}

} // namespace

uint32_t tokenizerVocabSize(ArrayRef<uint8_t> blob) {
  // The header's fifth u32 (docs/tokenizer.md): magic, version, pre-tokenizer, flags, N.
  if (blob.size() < 20)
    return 0;
  return uint32_t(blob[16]) | uint32_t(blob[17]) << 8 | uint32_t(blob[18]) << 16 |
         uint32_t(blob[19]) << 24;
}

namespace {

//===----------------------------------------------------------------------===//
// tokenizer.json
//===----------------------------------------------------------------------===//

/// "what" is the JSON path of the value, for messages.
Error expectString(SpecBuilder &b, const json::Object &o, StringRef key, StringRef want,
                   StringRef what) {
  std::optional<StringRef> s = o.getString(key);
  if (!s || *s != want)
    return b.error("unsupported " + what + " " + key + " " +
                   (s ? "'" + s->str() + "'" : std::string("(missing)")) + ": deltac supports '" +
                   want + "'");
  return Error::success();
}

Error readPreTokenizer(SpecBuilder &b, const json::Object *pre, TokenizerSpec &spec) {
  if (!pre)
    return b.error("no pre_tokenizer: deltac supports the Qwen Split regex + ByteLevel");
  const json::Array *seq = pre->getArray("pretokenizers");
  if (pre->getString("type") != "Sequence" || !seq || seq->size() != 2)
    return b.error("unsupported pre_tokenizer: deltac supports a Sequence of the Qwen Split regex "
                   "and ByteLevel");
  const json::Object *split = (*seq)[0].getAsObject();
  const json::Object *byteLevel = (*seq)[1].getAsObject();
  if (!split || !byteLevel)
    return b.error("pre_tokenizer.pretokenizers entries must be objects");
  if (Error e = expectString(b, *split, "type", "Split", "pre-tokenizer"))
    return e;
  const json::Object *pattern = split->getObject("pattern");
  std::optional<StringRef> regex = pattern ? pattern->getString("Regex") : std::nullopt;
  if (!regex)
    return b.error("the Split pre-tokenizer has no pattern.Regex");
  if (*regex == kQwen2PretokenizerRegex)
    spec.pretokenizer = PreQwen2;
  else if (*regex == kQwen35PretokenizerRegex)
    spec.pretokenizer = PreQwen35;
  else
    return b.error("unsupported pre-tokenizer regex '" + *regex +
                   "': deltac implements the qwen2 and qwen35 patterns only");
  if (Error e = expectString(b, *split, "behavior", "Isolated", "Split"))
    return e;
  if (split->getBoolean("invert").value_or(false))
    return b.error("unsupported Split invert: true");
  if (Error e = expectString(b, *byteLevel, "type", "ByteLevel", "pre-tokenizer"))
    return e;
  if (byteLevel->getBoolean("add_prefix_space").value_or(false) ||
      byteLevel->getBoolean("use_regex").value_or(true))
    return b.error("unsupported ByteLevel pre-tokenizer: deltac needs add_prefix_space false and "
                   "use_regex false");
  return Error::success();
}

Expected<std::optional<std::vector<uint8_t>>> readTokenizerJSON(StringRef path) {
  TokenizerSpec spec;
  SpecBuilder b(path, spec);
  ErrorOr<std::unique_ptr<MemoryBuffer>> text = MemoryBuffer::getFile(path);
  if (!text)
    return b.error("cannot read: " + text.getError().message());
  Expected<json::Value> parsed = json::parse((*text)->getBuffer());
  if (!parsed)
    return b.error("invalid JSON: " + toString(parsed.takeError()));
  const json::Object *root = parsed->getAsObject();
  if (!root)
    return b.error("not a JSON object");

  // Normalizer: none or NFC.
  const json::Value *normalizer = root->get("normalizer");
  if (!normalizer || normalizer->kind() == json::Value::Null) {
    spec.nfc = false;
  } else {
    const json::Object *n = normalizer->getAsObject();
    std::optional<StringRef> type = n ? n->getString("type") : std::nullopt;
    if (type != "NFC")
      return b.error("unsupported normalizer '" + (type ? type->str() : std::string("?")) +
                     "': deltac supports NFC or none");
  }
  if (Error e = readPreTokenizer(b, root->getObject("pre_tokenizer"), spec))
    return std::move(e);
  const json::Object *decoder = root->getObject("decoder");
  if (!decoder || decoder->getString("type") != "ByteLevel")
    return b.error("unsupported decoder: deltac supports ByteLevel");

  const json::Object *model = root->getObject("model");
  if (!model)
    return b.error("no 'model' object");
  if (Error e = expectString(b, *model, "type", "BPE", "model"))
    return std::move(e);
  if (model->getBoolean("byte_fallback").value_or(false))
    return b.error("unsupported BPE byte_fallback: true");
  for (StringRef key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (std::optional<StringRef> s = model->getString(key); s && !s->empty())
      return b.error("unsupported BPE " + key + " '" + *s + "'");
  if (const json::Value *dropout = model->get("dropout");
      dropout && dropout->kind() != json::Value::Null)
    return b.error("unsupported BPE dropout");
  spec.ignoreMerges = model->getBoolean("ignore_merges").value_or(false);
  if (const json::Value *unk = model->get("unk_token"); unk && unk->kind() != json::Value::Null)
    b.needsAllBytes = true;

  const json::Object *vocab = model->getObject("vocab");
  if (!vocab)
    return b.error("model.vocab is not an object");
  for (const auto &[key, value] : *vocab) {
    std::optional<int64_t> id = value.getAsInteger();
    if (!id)
      return b.error("model.vocab['" + key.str() + "'] is not an integer");
    if (Error e = b.addVocab(key.str(), *id))
      return std::move(e);
  }
  const json::Array *merges = model->getArray("merges");
  if (!merges)
    return b.error("model.merges is not an array");
  for (const json::Value &m : *merges) {
    StringRef left, right;
    if (std::optional<StringRef> s = m.getAsString()) {
      size_t space = s->find(' ');
      if (space == StringRef::npos || s->find(' ', space + 1) != StringRef::npos)
        return b.error("merge '" + *s + "' is not two tokens separated by one space");
      left = s->take_front(space);
      right = s->drop_front(space + 1);
    } else if (const json::Array *pair = m.getAsArray();
               pair && pair->size() == 2 && (*pair)[0].getAsString() &&
               (*pair)[1].getAsString()) {
      left = *(*pair)[0].getAsString();
      right = *(*pair)[1].getAsString();
    } else {
      return b.error("a merge is neither \"a b\" nor [\"a\", \"b\"]");
    }
    if (Error e = b.addMerge(left, right))
      return std::move(e);
  }

  if (const json::Array *added = root->getArray("added_tokens")) {
    for (const json::Value &v : *added) {
      const json::Object *a = v.getAsObject();
      std::optional<int64_t> id = a ? a->getInteger("id") : std::nullopt;
      std::optional<StringRef> content = a ? a->getString("content") : std::nullopt;
      if (!id || !content)
        return b.error("an added_tokens entry lacks an integer 'id' or a string 'content'");
      for (StringRef flag : {"single_word", "lstrip", "rstrip", "normalized"})
        if (a->getBoolean(flag).value_or(false))
          return b.error("added token '" + *content + "' has " + flag +
                         ": true, which deltac does not support");
      if (Error e = b.addAdded(*content, *id, a->getBoolean("special").value_or(false)))
        return std::move(e);
    }
  }
  if (Error e = b.finish())
    return std::move(e);
  return std::optional<std::vector<uint8_t>>(serialize(spec));
}

//===----------------------------------------------------------------------===//
// GGUF
//===----------------------------------------------------------------------===//

Expected<std::optional<std::vector<uint8_t>>> readTokenizerGGUF(StringRef path) {
  Expected<std::unique_ptr<InputFile>> file = InputFile::open(path);
  if (!file)
    return file.takeError();
  Expected<GGUFFile> gguf = readGGUF(**file);
  if (!gguf)
    return gguf.takeError();
  TokenizerSpec spec;
  SpecBuilder b(path, spec);

  const GGUFValue *modelValue = gguf->find("tokenizer.ggml.model");
  const GGUFValue *tokens = gguf->find("tokenizer.ggml.tokens");
  std::optional<StringRef> model = modelValue ? modelValue->getString() : std::nullopt;
  if (!tokens || model == "no_vocab")
    return std::optional<std::vector<uint8_t>>();
  if (model != "gpt2")
    return b.error("unsupported tokenizer.ggml.model '" +
                   (model ? model->str() : std::string("(missing)")) +
                   "': deltac supports 'gpt2' (byte-level BPE)");
  if (tokens->type != GGUFType::Array || tokens->elementType != GGUFType::String)
    return b.error("tokenizer.ggml.tokens is not an array of strings");

  const GGUFValue *preValue = gguf->find("tokenizer.ggml.pre");
  std::optional<StringRef> pre = preValue ? preValue->getString() : std::nullopt;
  if (pre == "qwen2")
    spec.pretokenizer = PreQwen2;
  else if (pre == "qwen35")
    spec.pretokenizer = PreQwen35;
  else
    return b.error("unsupported tokenizer.ggml.pre '" +
                   (pre ? pre->str() : std::string("(missing)")) +
                   "': deltac supports 'qwen2' and 'qwen35'");
  spec.nfc = true; // the Hugging Face tokenizer.json of both has an NFC normalizer

  const GGUFValue *types = gguf->find("tokenizer.ggml.token_type");
  if (types && (types->type != GGUFType::Array ||
                types->elements.size() != tokens->elements.size()))
    return b.error("tokenizer.ggml.token_type is not an array as long as tokenizer.ggml.tokens");
  for (size_t id = 0; id < tokens->elements.size(); ++id) {
    StringRef text = *tokens->elements[id].getString();
    int64_t type = 1;
    if (types) {
      std::optional<int64_t> t = types->elements[id].getInteger();
      if (!t)
        return b.error("tokenizer.ggml.token_type[" + Twine(id) + "] is not an integer");
      type = *t;
    }
    // 3: control (special), 4: user-defined (added, not special); the rest are vocabulary.
    Error e = type == 3 || type == 4 ? b.addAdded(text, int64_t(id), type == 3)
                                     : b.addVocab(text, int64_t(id));
    if (e)
      return std::move(e);
  }
  if (const GGUFValue *merges = gguf->find("tokenizer.ggml.merges")) {
    if (merges->type != GGUFType::Array || merges->elementType != GGUFType::String)
      return b.error("tokenizer.ggml.merges is not an array of strings");
    for (const GGUFValue &m : merges->elements) {
      StringRef s = *m.getString();
      size_t space = s.find(' ');
      if (space == StringRef::npos || s.find(' ', space + 1) != StringRef::npos)
        return b.error("merge '" + s + "' is not two tokens separated by one space");
      if (Error e = b.addMerge(s.take_front(space), s.drop_front(space + 1)))
        return std::move(e);
    }
  }
  if (Error e = b.finish())
    return std::move(e);
  return std::optional<std::vector<uint8_t>>(serialize(spec));
}

} // namespace

Expected<std::optional<std::vector<uint8_t>>> readTokenizer(StringRef checkpointPath) {
  if (sys::fs::is_directory(checkpointPath)) {
    SmallString<256> json(checkpointPath);
    sys::path::append(json, "tokenizer.json");
    if (!sys::fs::exists(json))
      return std::optional<std::vector<uint8_t>>();
    return readTokenizerJSON(json);
  }
  return readTokenizerGGUF(checkpointPath);
}

} // namespace deltac
