// A map dump's entries as rows of text, sorted by value: how a large count()/sum() map is printed
// at exit (src/runtime/output/typed-dump.ts says what a row holds). It runs once per process, so
// in JS it ran mostly as cold code while the JIT caught up: 100k entries took 35-110 ms there (on
// a busy machine), ~15 ms here. Nothing here knows an output format: a row is the fields the
// caller lists (literal bytes, key elements, the value). Entries come in the order libstdc++'s
// std::sort by value leaves them: bpftrace orders map entries with it, and it is not stable, so
// ties land where bpftrace's do.
#include "common.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

namespace tracelet {

namespace {

struct Field {
  enum Kind { kLiteral, kInt, kString, kValue } kind;
  std::string literal;    // kLiteral
  uint32_t offset = 0;    // kInt, kString: where in the key
  uint32_t size = 0;      // kInt: 1, 2, 4 or 8 bytes; kString: at most this many bytes, up to a NUL
  bool isSigned = false;  // kInt
};

struct Rows {
  uint32_t keySize = 0;
  uint32_t valueBytes = 0;  // one entry's value bytes: `slots` 64-bit integers, 8 bytes apart
  uint32_t slots = 1;
  bool valueSigned = false;
  std::vector<Field> fields;
  std::string separator;  // between two rows
  std::vector<std::string> escapes;  // per byte of a string: its replacement, if not empty
  size_t longestEscape = 1;
};

uint32_t U32(Napi::Env env, Napi::Object o, const char* name) {
  Napi::Value v = o.Get(name);
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!(d >= 0 && d <= 4294967295.0) || d != static_cast<double>(static_cast<uint32_t>(d)))
    throw Napi::TypeError::New(env, std::string("rows.") + name + " must be an integer in [0, 2^32)");
  return static_cast<uint32_t>(d);
}

std::string Bytes(Napi::Env env, Napi::Value v, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, std::string(what) + " must be a Uint8Array");
  auto a = v.As<Napi::Uint8Array>();
  return std::string(reinterpret_cast<const char*>(a.Data()), a.ByteLength());
}

Rows ParseRows(Napi::Env env, Napi::Value value) {
  if (!value.IsObject()) throw Napi::TypeError::New(env, "rows must be an object");
  Napi::Object o = value.As<Napi::Object>();
  Rows rows;
  rows.keySize = U32(env, o, "keySize");
  rows.valueBytes = U32(env, o, "valueBytes");
  rows.slots = U32(env, o, "slots");
  rows.valueSigned = o.Get("signed").ToBoolean().Value();
  rows.separator = Bytes(env, o.Get("separator"), "rows.separator");
  if (rows.slots == 0 || static_cast<uint64_t>(rows.slots) * 8 > rows.valueBytes)
    throw Napi::RangeError::New(env, "rows.slots do not fit in rows.valueBytes");
  Napi::Value escapes = o.Get("escapes");
  if (!escapes.IsUndefined()) {
    if (!escapes.IsArray() || escapes.As<Napi::Array>().Length() != 256)
      throw Napi::TypeError::New(env, "rows.escapes must be an array of 256 entries");
    rows.escapes.resize(256);
    for (uint32_t b = 0; b < 256; ++b) {
      Napi::Value e = escapes.As<Napi::Array>().Get(b);
      if (e.IsUndefined()) continue;
      rows.escapes[b] = Bytes(env, e, "an escape");
      rows.longestEscape = std::max(rows.longestEscape, rows.escapes[b].size());
    }
  }
  Napi::Value fields = o.Get("fields");
  if (!fields.IsArray()) throw Napi::TypeError::New(env, "rows.fields must be an array");
  for (uint32_t i = 0; i < fields.As<Napi::Array>().Length(); ++i) {
    Napi::Value fv = fields.As<Napi::Array>().Get(i);
    if (!fv.IsObject()) throw Napi::TypeError::New(env, "a field must be an object");
    Napi::Object f = fv.As<Napi::Object>();
    std::string kind = f.Get("kind").IsString() ? f.Get("kind").As<Napi::String>().Utf8Value() : "";
    Field field{};
    if (kind == "literal") {
      field.kind = Field::kLiteral;
      field.literal = Bytes(env, f.Get("bytes"), "a literal field's bytes");
    } else if (kind == "int" || kind == "string") {
      field.kind = kind == "int" ? Field::kInt : Field::kString;
      field.offset = U32(env, f, "offset");
      field.size = U32(env, f, "size");
      field.isSigned = f.Get("signed").ToBoolean().Value();
      if (field.kind == Field::kInt && field.size != 1 && field.size != 2 && field.size != 4 && field.size != 8)
        throw Napi::RangeError::New(env, "an int field is 1, 2, 4 or 8 bytes");
      if (static_cast<uint64_t>(field.offset) + field.size > rows.keySize)
        throw Napi::RangeError::New(env, "a key field does not fit in the key");
    } else if (kind == "value") {
      field.kind = Field::kValue;
    } else {
      throw Napi::TypeError::New(env, "a field's kind is literal, int, string or value");
    }
    rows.fields.push_back(std::move(field));
  }
  return rows;
}

// The most bytes one row (with the separator before it) takes.
size_t RowBound(const Rows& rows) {
  size_t n = rows.separator.size();
  for (const Field& f : rows.fields) {
    if (f.kind == Field::kLiteral) n += f.literal.size();
    else if (f.kind == Field::kString) n += f.size * (rows.escapes.empty() ? 1 : rows.longestEscape);
    else n += 20;  // -9223372036854775808, 18446744073709551615
  }
  return n;
}

// A key element as an int64 (signed) or uint64, from its little-endian bytes.
uint64_t KeyInt(const uint8_t* p, const Field& f) {
  uint64_t v = 0;
  memcpy(&v, p, f.size);
  if (f.isSigned && f.size < 8 && (v >> (8 * f.size - 1)) & 1) v |= ~uint64_t(0) << (8 * f.size);
  return v;
}

char* Decimal(char* out, uint64_t v, bool isSigned) {
  return isSigned ? std::to_chars(out, out + 20, static_cast<int64_t>(v)).ptr : std::to_chars(out, out + 20, v).ptr;
}

// renderDump(keys, values, count, rows, write): every entry's row, in value order, to `write` in
// pieces (each a view of one buffer reused: valid only during the call; each ends after a row).
Napi::Value RenderDump(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> keys = ArgBuffer(info, 0, "keys");
  Napi::Buffer<uint8_t> values = ArgBuffer(info, 1, "values");
  size_t count = ArgU32(info, 2, "count");
  Rows rows = ParseRows(env, info[3]);
  if (info.Length() < 5 || !info[4].IsFunction()) throw Napi::TypeError::New(env, "argument 'write' must be a function");
  Napi::Function write = info[4].As<Napi::Function>();
  if (keys.Length() < count * rows.keySize || values.Length() < count * rows.valueBytes)
    throw Napi::RangeError::New(env, "the dump holds fewer than `count` entries");

  // Each entry's value: the sum of its slots (one per CPU), wrapping as bpftrace's does.
  std::vector<uint64_t> sums(count);
  for (size_t e = 0; e < count; ++e) {
    const uint8_t* v = values.Data() + e * rows.valueBytes;
    uint64_t sum = 0;
    for (uint32_t s = 0; s < rows.slots; ++s) {
      uint64_t slot;
      memcpy(&slot, v + 8 * s, 8);
      sum += slot;
    }
    sums[e] = sum;
  }
  std::vector<uint32_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  if (rows.valueSigned)
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return static_cast<int64_t>(sums[a]) < static_cast<int64_t>(sums[b]);
    });
  else
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return sums[a] < sums[b]; });

  const size_t bound = RowBound(rows);
  Napi::Buffer<uint8_t> chunk = Napi::Buffer<uint8_t>::New(env, std::max<size_t>(bound, 1 << 16));
  char* const begin = reinterpret_cast<char*>(chunk.Data());
  char* const end = begin + chunk.Length();
  char* out = begin;
  auto flush = [&] {
    if (out == begin) return;
    write.Call({Napi::Uint8Array::New(env, out - begin, chunk.ArrayBuffer(), chunk.ByteOffset())});
    out = begin;
  };
  for (size_t i = 0; i < count; ++i) {
    if (static_cast<size_t>(end - out) < bound) flush();
    if (i > 0) out = std::copy(rows.separator.begin(), rows.separator.end(), out);
    const uint32_t e = order[i];
    const uint8_t* key = keys.Data() + e * rows.keySize;
    for (const Field& f : rows.fields) {
      switch (f.kind) {
        case Field::kLiteral:
          out = std::copy(f.literal.begin(), f.literal.end(), out);
          break;
        case Field::kInt:
          out = Decimal(out, KeyInt(key + f.offset, f), f.isSigned);
          break;
        case Field::kString:
          for (const uint8_t *p = key + f.offset, *stop = p + f.size; p < stop && *p != 0; ++p) {
            if (!rows.escapes.empty() && !rows.escapes[*p].empty())
              out = std::copy(rows.escapes[*p].begin(), rows.escapes[*p].end(), out);
            else
              *out++ = static_cast<char>(*p);
          }
          break;
        case Field::kValue:
          out = Decimal(out, sums[e], rows.valueSigned);
          break;
      }
    }
  }
  flush();
  return env.Undefined();
}

}  // namespace

void InitDump(Napi::Env env, Napi::Object exports) {
  exports.Set("renderDump", Napi::Function::New(env, RenderDump, "renderDump"));
}

}  // namespace tracelet
