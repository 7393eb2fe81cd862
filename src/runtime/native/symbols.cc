// Symbol tables in bulk, for naming stack frames: /proc/kallsyms, the entries of an ELF file's
// symbol tables, and the sort of a table by address. The same work as the JavaScript of
// src/kernel/kallsyms.ts, elf.ts and symtab.ts (which the tests compare with these), done where a
// one-time pass over the node binary's 181k symbols costs milliseconds instead of running
// interpreted.
#include "common.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace tracelet {

namespace {

constexpr size_t kSymbolBytes = 24;            // sizeof(Elf64_Sym)
constexpr size_t kSymbolsPerRead = 4096;       // entries read at a time (96 KiB)
// The string table is checked 256 KiB at a time (a piece is resident beside the full arrays at
// the peak), each piece against the entries whose names are in it.
constexpr unsigned kNamePieceBits = 18;

// Reads up to `length` bytes at `offset`; returns how many (short only at the end of the file).
size_t ReadAt(Napi::Env env, int fd, uint8_t* into, size_t length, uint64_t offset) {
  size_t done = 0;
  while (done < length) {
    ssize_t n = pread(fd, into + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowErrno(env, "cannot read the symbol table", errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

// The first `n` elements of `a` in an array of their own with room for `room` (zero past them).
template <typename T>
Napi::TypedArrayOf<T> Copied(Napi::Env env, Napi::TypedArrayOf<T> a, size_t n, size_t room) {
  auto b = Napi::TypedArrayOf<T>::New(env, room);
  memcpy(b.Data(), a.Data(), n * sizeof(T));
  return b;
}

// The first `n` elements of `a`: a view of its buffer (the room past them was never written, so
// it holds no resident pages), or with `view` false a copy, to free a buffer mostly unused.
template <typename T>
Napi::TypedArrayOf<T> Head(Napi::Env env, Napi::TypedArrayOf<T> a, size_t n, bool view = true) {
  return view ? Napi::TypedArrayOf<T>::New(env, n, a.ArrayBuffer(), a.ByteOffset()) : Copied(env, a, n, n);
}

// Numbers kept in a Uint32Array (half the memory) until one needs more than 32 bits: then in a
// Float64Array, the values so far converted (plus `shift`, when the 32-bit ones were offsets from
// a higher base than the doubles'). Symbol starts and sizes; they rarely need more.
class NarrowOrWide {
 public:
  NarrowOrWide(Napi::Env env, size_t room) : narrow_(Napi::Uint32Array::New(env, room)) {}

  bool Wide() const { return !wide_.IsEmpty(); }
  // Becomes a Float64Array of `room` holding the first `n` values.
  void Widen(Napi::Env env, size_t n, size_t room, double shift = 0) {
    if (Wide()) return;
    wide_ = Napi::Float64Array::New(env, room);
    for (size_t j = 0; j < n; ++j) wide_[j] = shift + narrow_[j];
  }
  // `narrow` while 32-bit, else `wide`.
  void Set(size_t i, uint32_t narrow, double wide) {
    if (Wide()) wide_[i] = wide;
    else narrow_[i] = narrow;
  }
  void Move(size_t to, size_t from) {
    if (Wide()) wide_[to] = wide_[from];
    else narrow_[to] = narrow_[from];
  }
  // Room for `room`, the first `n` values kept.
  void Grow(Napi::Env env, size_t n, size_t room) {
    if (Wide()) wide_ = Copied(env, wide_, n, room);
    else narrow_ = Copied(env, narrow_, n, room);
  }
  Napi::Value Head(Napi::Env env, size_t n, bool view = true) const {
    if (Wide()) return tracelet::Head(env, wide_, n, view);
    return tracelet::Head(env, narrow_, n, view);
  }

 private:
  Napi::Uint32Array narrow_;
  Napi::Float64Array wide_;
};

// symbolEntries' arrays, filled in place: the JavaScript arrays handed back, not vectors copied
// into them at the end (which had both at once).
struct Entries {
  NarrowOrWide starts;
  NarrowOrWide sizes;
  Napi::Uint32Array nameOff;
  Napi::Uint8Array tableOf;
};

// Keeps the entries in [first, n) whose name is not empty (the offset points at a NUL byte),
// checking the string table a piece at a time; returns the new n. An empty name's offset is set
// to 0 (which no entry kept has) to mark it, rather than kept in a list.
size_t DropEmptyNames(Napi::Env env, int fd, uint64_t strOffset, uint64_t strSize, Entries& e, size_t first, size_t n) {
  // The entries by piece (a counting sort of their indices; every offset is below strSize): one
  // pass over them in all, not one per piece (the node binary's tables are 50 pieces).
  size_t pieces = static_cast<size_t>((strSize >> kNamePieceBits) + 1);
  std::vector<uint32_t> from(pieces + 1, 0), byPiece(n - first);
  for (size_t i = first; i < n; ++i) ++from[(e.nameOff[i] >> kNamePieceBits) + 1];
  for (size_t p = 0; p < pieces; ++p) from[p + 1] += from[p];
  std::vector<uint32_t> at(from.begin(), from.end() - 1);
  for (size_t i = first; i < n; ++i) byPiece[at[e.nameOff[i] >> kNamePieceBits]++] = static_cast<uint32_t>(i);
  std::vector<uint8_t> piece(std::min<uint64_t>(strSize, 1u << kNamePieceBits));
  for (size_t p = 0; p < pieces; ++p) {
    if (from[p] == from[p + 1]) continue;
    uint64_t base = static_cast<uint64_t>(p) << kNamePieceBits;
    size_t got = ReadAt(env, fd, piece.data(), std::min<uint64_t>(piece.size(), strSize - base), strOffset + base);
    for (uint32_t k = from[p]; k < from[p + 1]; ++k) {
      size_t i = byPiece[k];
      if (e.nameOff[i] - base < got && piece[e.nameOff[i] - base] == 0) e.nameOff[i] = 0;
    }
  }
  size_t kept = first;
  for (size_t i = first; i < n; ++i) {
    if (e.nameOff[i] == 0) continue;
    e.starts.Move(kept, i);
    e.sizes.Move(kept, i);
    e.nameOff[kept] = e.nameOff[i];
    e.tableOf[kept] = e.tableOf[i];
    ++kept;
  }
  return kept;
}

// symbolEntries(fd, tables): `tables` holds [symOffset, symSize, strOffset, strSize] per symbol
// table (strSize 0 for a string table without bytes in the file). Returns the entries that have
// a name and a non-zero value, in table order: { starts and sizes (each a Uint32Array unless one
// is 4 GiB or more, then a Float64Array), nameOff, tableOf } (as ElfFile.symbolEntries in
// src/kernel/elf.ts).
// The arrays are made for every entry up front (only those filled get resident pages) and handed
// back as views of that room, or copied when more than an eighth was left out.
Napi::Value SymbolEntries(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgI32(info, 0, "fd");
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      info[1].As<Napi::Float64Array>().ElementLength() % 4 != 0) {
    throw Napi::TypeError::New(env, "symbolEntries: tables must be a Float64Array of [symOffset, symSize, strOffset, strSize]...");
  }
  auto tables = info[1].As<Napi::Float64Array>();
  size_t total = 0;
  for (size_t t = 0; t < tables.ElementLength() / 4; ++t) total += static_cast<size_t>(tables[t * 4 + 1]) / kSymbolBytes;
  Entries e{NarrowOrWide(env, total), NarrowOrWide(env, total), Napi::Uint32Array::New(env, total),
            Napi::Uint8Array::New(env, total)};
  size_t n = 0;
  std::vector<uint8_t> chunk(kSymbolsPerRead * kSymbolBytes);
  for (size_t t = 0; t < tables.ElementLength() / 4; ++t) {
    uint64_t symOffset = static_cast<uint64_t>(tables[t * 4]);
    uint64_t count = static_cast<uint64_t>(tables[t * 4 + 1]) / kSymbolBytes;
    uint64_t strOffset = static_cast<uint64_t>(tables[t * 4 + 2]);
    uint64_t strSize = static_cast<uint64_t>(tables[t * 4 + 3]);
    size_t first = n;
    for (uint64_t done = 0; done < count;) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(kSymbolsPerRead, count - done));
      size_t got = ReadAt(env, fd, chunk.data(), want * kSymbolBytes, symOffset + done * kSymbolBytes) / kSymbolBytes;
      for (size_t i = 0; i < got; ++i) {
        const uint8_t* sym = chunk.data() + i * kSymbolBytes;
        uint32_t name;
        uint64_t value, size;
        memcpy(&name, sym, 4);
        memcpy(&value, sym + 8, 8);
        memcpy(&size, sym + 16, 8);
        // Name 0 is the empty name (an ELF string table starts with a NUL byte).
        if (name == 0 || name >= strSize || value == 0) continue;
        if (value > 0xffffffffu) e.starts.Widen(env, n, total);
        if (size > 0xffffffffu) e.sizes.Widen(env, n, total);
        e.starts.Set(n, static_cast<uint32_t>(value), static_cast<double>(value));
        e.sizes.Set(n, static_cast<uint32_t>(size), static_cast<double>(size));
        e.nameOff[n] = name;
        e.tableOf[n] = static_cast<uint8_t>(t);
        ++n;
      }
      if (got < want) break;
      done += got;
    }
    n = DropEmptyNames(env, fd, strOffset, strSize, e, first, n);
  }
  // As `cut` in ElfFile.symbolEntries.
  bool view = n >= total - (total >> 3);
  Napi::Object out = Napi::Object::New(env);
  out.Set("starts", e.starts.Head(env, n, view));
  out.Set("sizes", e.sizes.Head(env, n, view));
  out.Set("nameOff", Head(env, e.nameOff, n, view));
  out.Set("tableOf", Head(env, e.tableOf, n, view));
  return out;
}

// readKallsyms(path): /proc/kallsyms parsed as src/kernel/kallsyms.ts's Kallsyms keeps it:
// { starts (a Uint32Array from 0xffffffff00000000 when every address is at or above it, else a
// Float64Array from 0xffff000000000000), nameAt (page * 1 MiB + offset; with the top bit set,
// the name is `__pfx_` and the name stored there: a CALL_PADDING kernel's `__pfx_NAME` before
// each function NAME is not stored again), text (1 for functions: t, w), pages (1 MiB Buffers of
// `name[\t[module]]\n`, the last one valid up to pageUsed), pageUsed } of the symbols bcc keeps (kernel addresses, every type but b,
// d, r). Read 256 KiB at a time.
Napi::Value ReadKallsyms(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0, "path");
  constexpr size_t kChunk = 1u << 18;
  constexpr size_t kPage = 1u << 20;
  constexpr uint32_t kBaseHi = 0xffff0000u;
  constexpr double kTop = 281470681743360.0;  // 0xffffffff00000000 - 0xffff000000000000
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) ThrowErrno(env, "cannot open " + path, errno);
  // Closed on every way out, throws included.
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  // Filled in place and handed back as views (as Kallsyms does): room for a typical kernel's
  // symbols (about 120k; the file's size is not known before reading), doubled when exceeded.
  size_t room = 1u << 17, count = 0;
  // Starts are 32-bit, from the top 4 GiB (x86-64 puts the kernel, its modules and BPF code
  // there), until an address below it makes them doubles from 0xffff000000000000.
  NarrowOrWide starts(env, room);
  auto nameAt = Napi::Uint32Array::New(env, room);
  auto text = Napi::Uint8Array::New(env, room);
  // Made as Buffers from the start (pages are touched once: a copy would double the page faults).
  std::vector<Napi::Buffer<uint8_t>> pages;
  size_t pageUsed = kPage;
  // Copies `name[\t[module]]\n` to the pages; returns where it is, as nameAt holds it.
  auto store = [&](const uint8_t* line, size_t length) -> uint32_t {
    if (pageUsed + length > kPage) {
      if (!pages.empty()) memset(pages.back().Data() + pageUsed, 0, kPage - pageUsed);
      pages.push_back(Napi::Buffer<uint8_t>::New(env, kPage));
      pageUsed = 0;
    }
    uint32_t at = static_cast<uint32_t>((pages.size() - 1) * kPage + pageUsed);
    memcpy(pages.back().Data() + pageUsed, line, length);
    pageUsed += length;
    return at;
  };
  constexpr uint32_t kPfxFlag = 0x80000000u;
  static const char kPfx[] = "__pfx_";
  constexpr size_t kPfxLength = sizeof kPfx - 1;
  // A `__pfx_` symbol whose name waits for the next symbol's (the function it pads, most likely).
  bool pending = false;
  size_t pendingIndex = 0;
  std::string pendingLine;
  std::vector<uint8_t> buf(kChunk + 1);
  size_t have = 0;
  auto parse = [&](size_t len) -> size_t {  // whole lines of buf[0, len); returns bytes used
    size_t p = 0;
    for (;;) {
      const uint8_t* nl = static_cast<const uint8_t*>(memchr(buf.data() + p, '\n', len - p));
      if (!nl) return p;
      size_t eol = nl - buf.data();
      uint64_t address = 0;
      int digits = 0;
      for (; p < eol; ++p, ++digits) {
        uint8_t c = buf[p];
        int d = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
        if (d < 0) break;
        address = (address << 4) | static_cast<uint64_t>(d);
      }
      uint8_t type = buf[p + 1] | 0x20;
      size_t s0 = p + 3;
      uint32_t hi = static_cast<uint32_t>(address >> 32);
      if (digits > 0 && buf[p] == ' ' && s0 <= eol && hi >= kBaseHi && address != ~0ull &&
          type != 'b' && type != 'd' && type != 'r') {
        size_t length = eol + 1 - s0;
        if (count == room) {
          starts.Grow(env, count, room * 2);
          nameAt = Copied(env, nameAt, count, room * 2);
          text = Copied(env, text, count, room * 2);
          room *= 2;
        }
        if (hi != 0xffffffffu) starts.Widen(env, count, room, kTop);
        starts.Set(count, static_cast<uint32_t>(address),
                   static_cast<double>(hi - kBaseHi) * 4294967296.0 + static_cast<double>(address & 0xffffffffu));
        text[count] = type == 't' || type == 'w' ? 1 : 0;
        const uint8_t* line = buf.data() + s0;
        bool pfx = length > kPfxLength && memcmp(line, kPfx, kPfxLength) == 0;
        if (pfx) {
          if (pending) nameAt[pendingIndex] = store(reinterpret_cast<const uint8_t*>(pendingLine.data()), pendingLine.size());
          pending = true;
          pendingIndex = count;
          pendingLine.assign(reinterpret_cast<const char*>(line), length);
        } else {
          nameAt[count] = store(line, length);
          if (pending) {
            bool pads = pendingLine.size() - kPfxLength == length && memcmp(pendingLine.data() + kPfxLength, line, length) == 0;
            nameAt[pendingIndex] = pads ? (kPfxFlag | nameAt[count])
                                        : store(reinterpret_cast<const uint8_t*>(pendingLine.data()), pendingLine.size());
            pending = false;
          }
        }
        ++count;
      }
      p = eol + 1;
    }
  };
  for (;;) {
    ssize_t got = read(fd, buf.data() + have, kChunk - have);
    if (got < 0) {
      if (errno == EINTR) continue;
      ThrowErrno(env, "cannot read " + path, errno);
    }
    if (got == 0) break;
    have += static_cast<size_t>(got);
    size_t used = parse(have);
    if (used == 0 && have == kChunk) throw Napi::Error::New(env, path + ": line longer than 262144 bytes");
    memmove(buf.data(), buf.data() + used, have - used);
    have -= used;
  }
  if (have > 0) {
    buf[have] = '\n';
    parse(have + 1);
  }
  if (pending) nameAt[pendingIndex] = store(reinterpret_cast<const uint8_t*>(pendingLine.data()), pendingLine.size());
  // The last page is not zeroed past the names (that would make all of it resident): the reader
  // uses it up to pageUsed only.
  Napi::Object out = Napi::Object::New(env);
  Napi::Array pagesOut = Napi::Array::New(env, pages.size());
  for (size_t i = 0; i < pages.size(); ++i) pagesOut.Set(i, pages[i]);
  out.Set("starts", starts.Head(env, count));
  out.Set("nameAt", Head(env, nameAt, count));
  out.Set("text", Head(env, text, count));
  out.Set("pages", pagesOut);
  out.Set("pageUsed", Napi::Number::New(env, static_cast<double>(pageUsed)));
  return out;
}

// Sorts keys[0, n) ascending in place with libstdc++'s std::sort and returns the permutation (see
// SortSymbols).
template <typename K>
Napi::Int32Array SortKeys(Napi::Env env, K* keys, size_t n) {
  // (key, index) pairs sorted by key: std::sort decides by comparisons alone, so this is the
  // permutation sorting bcc's symbols makes. The pairs side by side, not indices into the keys,
  // keep each comparison's key in the cache line being moved (~3x faster over 180k symbols).
  struct Entry {
    K key;
    int32_t index;
    bool operator<(const Entry& o) const { return key < o.key; }
  };
  std::vector<Entry> entries(n);
  for (size_t i = 0; i < n; ++i) entries[i] = {keys[i], static_cast<int32_t>(i)};
  std::sort(entries.begin(), entries.end());
  Napi::Int32Array order = Napi::Int32Array::New(env, n);
  int32_t* by = order.Data();
  for (size_t j = 0; j < n; ++j) {
    keys[j] = entries[j].key;
    by[j] = entries[j].index;
  }
  return order;
}

// sortSymbols(keys): sorts `keys` (a Float64Array, or a Uint32Array of starts from a base)
// ascending in place with libstdc++'s std::sort, the sort bcc gives its symbol vectors, so that
// among aliases (equal start addresses) the one left last is bcc's, and bpftrace's; returns the
// permutation, sorted position -> index before the sort (what src/kernel/symtab.ts's stdSort makes
// of an order array 0..n-1). The same keys as 32 or 64 bits compare alike, so the permutation is
// the same. Made here, not in JavaScript: a loop over 100k+ symbols there gets V8's optimizing
// compiler started, whose code alone costs a run ~3.5 MiB of resident memory.
Napi::Value SortSymbols(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  napi_typedarray_type type = info[0].IsTypedArray() ? info[0].As<Napi::TypedArray>().TypedArrayType() : napi_int8_array;
  if (type != napi_float64_array && type != napi_uint32_array) {
    throw Napi::TypeError::New(env, "sortSymbols(keys: Float64Array | Uint32Array)");
  }
  size_t n = info[0].As<Napi::TypedArray>().ElementLength();
  if (n >= (1u << 31)) throw Napi::RangeError::New(env, "sortSymbols: too many symbols");
  if (type == napi_float64_array) return SortKeys(env, info[0].As<Napi::Float64Array>().Data(), n);
  return SortKeys(env, info[0].As<Napi::Uint32Array>().Data(), n);
}

// gather(source, order): a new array of source's type whose element k is source[order[k]]: a
// table's by-index columns (sizes, name offsets) put in its sorted order for the symbol caches.
// Made here for the reason SortSymbols is: a one-off JavaScript loop over 100k+ symbols runs
// interpreted (~20 ms a column).
template <typename T>
Napi::Value GatherAs(Napi::Env env, Napi::TypedArray source, const int32_t* order, size_t n) {
  const T* from = reinterpret_cast<const T*>(static_cast<uint8_t*>(source.ArrayBuffer().Data()) + source.ByteOffset());
  size_t length = source.ElementLength();
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, n * sizeof(T));
  T* to = static_cast<T*>(buffer.Data());
  for (size_t k = 0; k < n; ++k) {
    size_t i = static_cast<size_t>(order[k]);
    if (order[k] < 0 || i >= length) throw Napi::RangeError::New(env, "gather: an index is outside the source");
    to[k] = from[i];
  }
  return Napi::TypedArrayOf<T>::New(env, n, buffer, 0, source.TypedArrayType());
}

Napi::Value Gather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw Napi::TypeError::New(env, "gather(source: TypedArray, order: Int32Array)");
  }
  Napi::TypedArray source = info[0].As<Napi::TypedArray>();
  Napi::Int32Array order = info[1].As<Napi::Int32Array>();
  const int32_t* at = order.Data();
  size_t n = order.ElementLength();
  switch (source.TypedArrayType()) {
    case napi_uint8_array: return GatherAs<uint8_t>(env, source, at, n);
    case napi_int32_array: return GatherAs<int32_t>(env, source, at, n);
    case napi_uint32_array: return GatherAs<uint32_t>(env, source, at, n);
    case napi_float64_array: return GatherAs<double>(env, source, at, n);
    default: throw Napi::TypeError::New(env, "gather: source must be a Uint8Array, Int32Array, Uint32Array or Float64Array");
  }
}

// mapFile(fd, length, readOnly): the first `length` bytes of the open file `fd`, mapped
// copy-on-write (writes stay in this process), or read-only (what the kernel's BTF file allows),
// as an ArrayBuffer that unmaps them when collected. For a cached symbol table: only the pages its
// lookups touch become resident.
Napi::Value MapFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgI32(info, 0, "fd");
  double length = info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : -1;
  if (!(length > 0)) throw Napi::TypeError::New(env, "mapFile(fd, length > 0)");
  bool readOnly = info.Length() > 2 && info[2].ToBoolean().Value();
  size_t bytes = static_cast<size_t>(length);
  void* data = mmap(nullptr, bytes, readOnly ? PROT_READ : PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (data == MAP_FAILED) ThrowErrno(env, "cannot map the file", errno);
  return Napi::ArrayBuffer::New(env, data, bytes, [bytes](Napi::Env, void* p) { munmap(p, bytes); });
}

// SHA-256 (FIPS 180-4), for the caches' keys and checksums: Node's own (OpenSSL) costs a run
// ~1.3 MiB of resident memory the first time it is used, for a few hashes of a few KiB.
class Sha256 {
 public:
  void Update(const uint8_t* data, size_t n) {
    length_ += n;
    while (n > 0) {
      size_t take = std::min(n, sizeof(block_) - used_);
      memcpy(block_ + used_, data, take);
      used_ += take;
      data += take;
      n -= take;
      if (used_ == sizeof(block_)) {
        Compress(block_);
        used_ = 0;
      }
    }
  }
  void Final(uint8_t out[32]) {
    uint64_t bits = length_ * 8;
    uint8_t pad = 0x80;
    Update(&pad, 1);
    uint8_t zero = 0;
    while (used_ != 56) Update(&zero, 1);
    uint8_t len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
    Update(len, 8);
    for (int i = 0; i < 8; ++i) {
      for (int j = 0; j < 4; ++j) out[i * 4 + j] = static_cast<uint8_t>(h_[i] >> (24 - 8 * j));
    }
  }

 private:
  static uint32_t Rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
  void Compress(const uint8_t* b) {
    static const uint32_t k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
    uint32_t w[64];
    for (int i = 0; i < 16; ++i) {
      w[i] = (uint32_t(b[i * 4]) << 24) | (uint32_t(b[i * 4 + 1]) << 16) | (uint32_t(b[i * 4 + 2]) << 8) | b[i * 4 + 3];
    }
    for (int i = 16; i < 64; ++i) {
      uint32_t s0 = Rotr(w[i - 15], 7) ^ Rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      uint32_t s1 = Rotr(w[i - 2], 17) ^ Rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h_[0], b2 = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
    for (int i = 0; i < 64; ++i) {
      uint32_t t1 = h + (Rotr(e, 6) ^ Rotr(e, 11) ^ Rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      uint32_t t2 = (Rotr(a, 2) ^ Rotr(a, 13) ^ Rotr(a, 22)) + ((a & b2) ^ (a & c) ^ (b2 & c));
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b2;
      b2 = a;
      a = t1 + t2;
    }
    h_[0] += a;
    h_[1] += b2;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
    h_[5] += f;
    h_[6] += g;
    h_[7] += h;
  }

  uint32_t h_[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  uint8_t block_[64];
  size_t used_ = 0;
  uint64_t length_ = 0;
};

// sha256(parts): the SHA-256 of the parts (Buffers, typed arrays, or strings as UTF-8) one after
// another, as a 32-byte Buffer.
Napi::Value Sha256Of(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) throw Napi::TypeError::New(env, "sha256(parts: (string | Uint8Array)[])");
  auto parts = info[0].As<Napi::Array>();
  Sha256 hash;
  for (uint32_t i = 0; i < parts.Length(); ++i) {
    Napi::Value part = parts.Get(i);
    if (part.IsString()) {
      std::string text = part.As<Napi::String>().Utf8Value();
      hash.Update(reinterpret_cast<const uint8_t*>(text.data()), text.size());
    } else if (part.IsTypedArray()) {
      auto bytes = part.As<Napi::TypedArray>();
      hash.Update(static_cast<const uint8_t*>(bytes.ArrayBuffer().Data()) + bytes.ByteOffset(), bytes.ByteLength());
    } else {
      throw Napi::TypeError::New(env, "sha256: each part must be a string or a Uint8Array");
    }
  }
  auto out = Napi::Buffer<uint8_t>::New(env, 32);
  hash.Final(out.Data());
  return out;
}

// btfTypeOffsets(words, typeStart, typeEnd): where each type of a BTF blob starts and its name
// offset, as src/kernel/btf.ts's constructor finds them (`words`: the blob as 32-bit words;
// starts in bytes) -> { offsets, nameOffs } (Uint32Arrays indexed by type id, id 0 void; their
// length is the type count). A vmlinux BTF has ~150k types: the loop takes ~1 ms here, ~20 ms in
// V8's interpreter, where a short run keeps tracelet's code.
Napi::Value BtfTypeOffsets(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
      !info[1].IsNumber() || !info[2].IsNumber()) {
    throw Napi::TypeError::New(env, "btfTypeOffsets(words: Uint32Array, typeStart: number, typeEnd: number)");
  }
  auto words = info[0].As<Napi::Uint32Array>();
  const uint32_t* w = words.Data();
  size_t end = static_cast<size_t>(info[2].As<Napi::Number>().Int64Value());
  size_t p = static_cast<size_t>(info[1].As<Napi::Number>().Int64Value());
  if (p % 4 != 0 || end > words.ElementLength() * 4) throw Napi::RangeError::New(env, "btfTypeOffsets: the type section is outside the blob");
  enum { INT = 1, ARRAY = 3, STRUCT = 4, UNION = 5, ENUM = 6, FUNC_PROTO = 13, VAR = 14, DATASEC = 15, DECL_TAG = 17, ENUM64 = 19 };
  std::vector<uint32_t> offsets{0}, names{0};
  while (p + 12 <= end) {
    offsets.push_back(static_cast<uint32_t>(p));
    names.push_back(w[p / 4]);
    uint32_t typeInfo = w[p / 4 + 1];
    uint32_t vlen = typeInfo & 0xffff;
    p += 12;
    switch ((typeInfo >> 24) & 0x1f) {
      case INT: p += 4; break;
      case ARRAY: p += 12; break;
      case STRUCT: case UNION: p += 12 * vlen; break;
      case ENUM: case FUNC_PROTO: p += 8 * vlen; break;
      case VAR: case DECL_TAG: p += 4; break;
      case DATASEC: case ENUM64: p += 12 * vlen; break;
      default: break;  // PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG
    }
  }
  auto out = Napi::Object::New(env);
  auto copy = [&](const std::vector<uint32_t>& v) {
    auto array = Napi::Uint32Array::New(env, v.size());
    std::copy(v.begin(), v.end(), array.Data());
    return array;
  };
  out.Set("offsets", copy(offsets));
  out.Set("nameOffs", copy(names));
  return out;
}

}  // namespace

void InitSymbols(Napi::Env env, Napi::Object exports) {
  exports.Set("btfTypeOffsets", Napi::Function::New(env, BtfTypeOffsets, "btfTypeOffsets"));
  exports.Set("symbolEntries", Napi::Function::New(env, SymbolEntries, "symbolEntries"));
  exports.Set("sortSymbols", Napi::Function::New(env, SortSymbols, "sortSymbols"));
  exports.Set("gather", Napi::Function::New(env, Gather, "gather"));
  exports.Set("readKallsyms", Napi::Function::New(env, ReadKallsyms, "readKallsyms"));
  exports.Set("mapFile", Napi::Function::New(env, MapFile, "mapFile"));
  exports.Set("sha256", Napi::Function::New(env, Sha256Of, "sha256"));
}

}  // namespace tracelet
