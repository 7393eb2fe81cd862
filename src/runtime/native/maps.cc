// BPF maps: create, lookup, update, delete, dump, clear, close.
//
// The kernel writes a whole value (all CPUs' slots for per-CPU maps) into whatever buffer user
// space passes, so a wrong size from JS would corrupt memory. Every call therefore checks the
// key and value sizes against the map's real geometry: maps created here are remembered by fd
// (forgotten by closeFd); for any other fd the kernel is asked (BPF_OBJ_GET_INFO_BY_FD).
#include "common.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace tracelet {

namespace {

struct MapInfo {
  uint32_t type;
  uint32_t keySize;
  uint32_t valueSize;
  uint32_t maxEntries;
};

// fd -> geometry of the maps created here. Process-wide (fds are), hence the mutex.
std::unordered_map<int, MapInfo> g_maps;
std::mutex g_mapsMutex;

bool IsPerCpu(uint32_t type) {
  return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

bool IsArray(uint32_t type) {
  return type == BPF_MAP_TYPE_ARRAY || type == BPF_MAP_TYPE_PERCPU_ARRAY;
}

int PossibleCpus(Napi::Env env) {
  static int cpus = 0;
  if (cpus > 0) return cpus;
  int n = libbpf_num_possible_cpus();
  if (n <= 0) ThrowErrno(env, "cannot read the number of possible CPUs", -n);
  cpus = n;
  return cpus;
}

// Bytes of one value as user space sees it: per-CPU maps hold one 8-byte-aligned slot per
// possible CPU.
size_t ValueBytes(Napi::Env env, const MapInfo& m) {
  if (!IsPerCpu(m.type)) return m.valueSize;
  return ((static_cast<size_t>(m.valueSize) + 7) & ~size_t(7)) * PossibleCpus(env);
}

MapInfo Info(Napi::Env env, int fd) {
  {
    std::lock_guard<std::mutex> lock(g_mapsMutex);
    auto it = g_maps.find(fd);
    if (it != g_maps.end()) return it->second;
  }
  bpf_map_info info;
  memset(&info, 0, sizeof(info));
  uint32_t len = sizeof(info);
  int err = bpf_obj_get_info_by_fd(fd, &info, &len);
  if (err) ThrowErrno(env, "fd " + std::to_string(fd) + " is not a BPF map", errno);
  return MapInfo{info.type, info.key_size, info.value_size, info.max_entries};
}

void CheckKey(Napi::Env env, const MapInfo& m, size_t keyBytes) {
  if (keyBytes != m.keySize)
    throw Napi::RangeError::New(env, "key is " + std::to_string(keyBytes) + " bytes, the map's keys are " +
                                         std::to_string(m.keySize));
}

void CheckValue(Napi::Env env, const MapInfo& m, size_t valueBytes) {
  size_t expected = ValueBytes(env, m);
  if (valueBytes != expected)
    throw Napi::RangeError::New(env, "value is " + std::to_string(valueBytes) +
                                         " bytes, the map's values are " + std::to_string(expected) +
                                         (IsPerCpu(m.type) ? " (per-CPU slots)" : ""));
}

Napi::Value MapCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string type = ArgString(info, 0, "type");
  std::string name = ArgString(info, 1, "name");
  uint32_t keySize = ArgU32(info, 2, "keySize");
  uint32_t valueSize = ArgU32(info, 3, "valueSize");
  uint32_t maxEntries = ArgU32(info, 4, "maxEntries");
  bool preallocate = true;
  if (info.Length() > 5 && info[5].IsObject()) {
    Napi::Value p = info[5].As<Napi::Object>().Get("preallocate");
    if (p.IsBoolean()) preallocate = p.As<Napi::Boolean>().Value();
  }

  bpf_map_type mapType;
  if (type == "hash") mapType = BPF_MAP_TYPE_HASH;
  else if (type == "percpu_hash") mapType = BPF_MAP_TYPE_PERCPU_HASH;
  else if (type == "array") mapType = BPF_MAP_TYPE_ARRAY;
  else if (type == "percpu_array") mapType = BPF_MAP_TYPE_PERCPU_ARRAY;
  else if (type == "lru_hash") mapType = BPF_MAP_TYPE_LRU_HASH;
  else if (type == "ringbuf") mapType = BPF_MAP_TYPE_RINGBUF;
  else if (type == "stack_trace") mapType = BPF_MAP_TYPE_STACK_TRACE;
  else throw Napi::TypeError::New(env, "unknown map type '" + type + "'");

  if (mapType == BPF_MAP_TYPE_RINGBUF) {
    // The kernel wants a power-of-2 multiple of the page size and says only EINVAL otherwise.
    long page = sysconf(_SC_PAGESIZE);
    if (keySize != 0 || valueSize != 0)
      throw Napi::RangeError::New(env, "a ringbuf map has key and value size 0");
    if (maxEntries == 0 || (maxEntries & (maxEntries - 1)) != 0 || maxEntries % page != 0)
      throw Napi::RangeError::New(env, "ringbuf size must be a power of 2 and a multiple of " +
                                           std::to_string(page) + " bytes, got " + std::to_string(maxEntries));
  }

  // Kernel object names: at most 15 characters of [A-Za-z0-9_.]; anything else is EINVAL.
  std::string kernelName;
  for (char c : name) {
    if (kernelName.size() == BPF_OBJ_NAME_LEN - 1) break;
    kernelName += (isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.') ? c : '_';
  }
  LIBBPF_OPTS(bpf_map_create_opts, opts);
  if (!preallocate) {
    if (mapType != BPF_MAP_TYPE_HASH && mapType != BPF_MAP_TYPE_PERCPU_HASH)
      throw Napi::TypeError::New(env, "only hash maps can be allocated on use");
    opts.map_flags = BPF_F_NO_PREALLOC;
  }
  int fd = bpf_map_create(mapType, kernelName.c_str(), keySize, valueSize, maxEntries, &opts);
  if (fd < 0)
    ThrowErrno(env, "cannot create " + type + " map '" + name + "' (key " + std::to_string(keySize) +
                        ", value " + std::to_string(valueSize) + ", " + std::to_string(maxEntries) +
                        " entries)",
               errno);
  std::lock_guard<std::mutex> lock(g_mapsMutex);
  g_maps[fd] = MapInfo{static_cast<uint32_t>(mapType), keySize, valueSize, maxEntries};
  return Napi::Number::New(env, fd);
}

Napi::Value MapLookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgI32(info, 0, "fd");
  auto key = ArgBuffer(info, 1, "key");
  uint32_t valueBytes = ArgU32(info, 2, "valueBytes");
  MapInfo m = Info(env, fd);
  CheckKey(env, m, key.Length());
  CheckValue(env, m, valueBytes);
  auto value = Napi::Buffer<uint8_t>::New(env, valueBytes);
  if (bpf_map_lookup_elem(fd, key.Data(), value.Data()) != 0) {
    if (errno == ENOENT) return env.Null();
    ThrowErrno(env, "map lookup failed", errno);
  }
  return value;
}

Napi::Value MapUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgI32(info, 0, "fd");
  auto key = ArgBuffer(info, 1, "key");
  auto value = ArgBuffer(info, 2, "value");
  uint64_t flags = info.Length() > 3 && !info[3].IsUndefined() ? ArgU32(info, 3, "flags") : 0;
  MapInfo m = Info(env, fd);
  CheckKey(env, m, key.Length());
  CheckValue(env, m, value.Length());
  if (bpf_map_update_elem(fd, key.Data(), value.Data(), flags) != 0)
    ThrowErrno(env, "map update failed", errno);
  return env.Undefined();
}

bool BatchUnsupported(int err) {
  return err == EINVAL || err == ENOTSUP || err == 524 /* ENOTSUPP, kernel-internal */;
}

// mapUpdateBatch(fd, keys, values): BPF_MAP_UPDATE_BATCH of the entries whose keys and values lie
// back to back in `keys` and `values` (the map's key and value sizes each): one syscall for the
// thousands of names a big uprobe wildcard's program reads, where one update each took ~60 ms.
// Where the kernel has no batch operations for the map, one update each.
Napi::Value MapUpdateBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgI32(info, 0, "fd");
  auto keys = ArgBuffer(info, 1, "keys");
  auto values = ArgBuffer(info, 2, "values");
  MapInfo m = Info(env, fd);
  size_t valueBytes = ValueBytes(env, m);
  if (m.keySize == 0 || keys.Length() % m.keySize != 0) throw Napi::RangeError::New(env, "mapUpdateBatch: keys must be whole keys");
  uint32_t count = static_cast<uint32_t>(keys.Length() / m.keySize);
  if (values.Length() != count * valueBytes) throw Napi::RangeError::New(env, "mapUpdateBatch: one value per key");
  if (count == 0) return env.Undefined();
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  uint32_t done = count;
  if (bpf_map_update_batch(fd, keys.Data(), values.Data(), &done, &opts) == 0) return env.Undefined();
  if (!BatchUnsupported(errno)) ThrowErrno(env, "map batch update failed", errno);
  for (uint32_t i = 0; i < count; ++i) {
    if (bpf_map_update_elem(fd, keys.Data() + size_t(i) * m.keySize, values.Data() + size_t(i) * valueBytes, 0) != 0)
      ThrowErrno(env, "map update failed", errno);
  }
  return env.Undefined();
}

Napi::Value MapDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgI32(info, 0, "fd");
  auto key = ArgBuffer(info, 1, "key");
  MapInfo m = Info(env, fd);
  CheckKey(env, m, key.Length());
  if (bpf_map_delete_elem(fd, key.Data()) != 0) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    ThrowErrno(env, "map delete failed", errno);
  }
  return Napi::Boolean::New(env, true);
}

// The bytes of a dump's keys or values, handed to JS as a Buffer without a copy. Page faults
// cost more than the kernel's copy of a 100k-entry map (~15 us each on a paravirtualised
// machine: ~4 ms per MiB), so the memory is mapped here and its pages made present in one call
// (MADV_POPULATE_WRITE, Linux 5.14+; before that they fault in as the kernel writes them). A
// std::vector would also zero-fill what it grows into and copy on growth; mremap moves pages.
class DumpBytes {
 public:
  DumpBytes() = default;
  DumpBytes(const DumpBytes&) = delete;
  DumpBytes& operator=(const DumpBytes&) = delete;
  ~DumpBytes() { Clear(); }

  // Room for at least `bytes` in all.
  void Reserve(Napi::Env env, size_t bytes) {
    if (bytes <= capacity_) return;
    static const size_t page = sysconf(_SC_PAGESIZE);
    size_t capacity = (std::max(bytes, capacity_ * 2) + page - 1) / page * page;
    void* grown = data_ ? mremap(data_, capacity_, capacity, MREMAP_MAYMOVE)
                        : mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (grown == MAP_FAILED) ThrowErrno(env, "map dump: cannot map " + std::to_string(capacity) + " bytes", errno);
    data_ = static_cast<uint8_t*>(grown);
    madvise(data_ + capacity_, capacity - capacity_, MADV_POPULATE_WRITE);  // best effort
    capacity_ = capacity;
  }

  uint8_t* data() { return data_; }

  void Clear() {
    if (data_) munmap(data_, capacity_);
    data_ = nullptr;
    capacity_ = 0;
  }

  // The first `bytes` as a Buffer that unmaps the memory when collected; this object lets go of it.
  Napi::Buffer<uint8_t> Release(Napi::Env env, size_t bytes) {
    if (bytes == 0) return Napi::Buffer<uint8_t>::New(env, 0);
    uint8_t* data = data_;
    size_t capacity = capacity_;
    data_ = nullptr;
    capacity_ = 0;
    return Napi::Buffer<uint8_t>::New(env, data, bytes, [capacity](Napi::Env, uint8_t* p) { munmap(p, capacity); });
  }

 private:
  uint8_t* data_ = nullptr;
  size_t capacity_ = 0;
};

// Batched walk (one syscall per chunk). Returns false if the map type has no batch operations.
// The kernel walks hash maps bucket by bucket, so entries deleted meanwhile are simply not seen.
bool DumpBatch(Napi::Env env, int fd, const MapInfo& m, size_t valueBytes, DumpBytes& keys, DumpBytes& values,
               size_t& count) {
  // The batch cursor is a bucket index (u32) for hash maps and a key for arrays.
  std::vector<uint8_t> inBatch(std::max<size_t>(m.keySize, 8)), outBatch(inBatch.size());
  uint32_t chunk = std::min<uint32_t>(std::max<uint32_t>(m.maxEntries, 1), 4096);
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  bool first = true;
  for (;;) {
    keys.Reserve(env, (count + chunk) * m.keySize);
    values.Reserve(env, (count + chunk) * valueBytes);
    uint32_t n = chunk;
    int err = bpf_map_lookup_batch(fd, first ? nullptr : inBatch.data(), outBatch.data(),
                                   keys.data() + count * m.keySize, values.data() + count * valueBytes,
                                   &n, &opts);
    int e = err ? errno : 0;
    if (err && first && BatchUnsupported(e)) return false;
    if (err && e == ENOSPC && n == 0) {
      // A hash bucket holds more entries than `chunk`: retry the same position with more room.
      chunk *= 2;
      continue;
    }
    if (err && e != ENOENT) ThrowErrno(env, "map dump (batch lookup) failed", e);
    count += n;
    if (err) break;  // ENOENT: the walk is complete
    first = false;
    inBatch.swap(outBatch);
    if (chunk < 65536) chunk *= 2;  // fewer syscalls for big maps
  }
  return true;
}

// One entry at a time. If the previous key is deleted meanwhile, the kernel restarts the walk
// from the first key, so keys already seen are skipped rather than reported twice. Stops after
// `most` entries; returns whether it saw them all.
bool DumpWalk(Napi::Env env, int fd, const MapInfo& m, size_t valueBytes, DumpBytes& keys, DumpBytes& values,
              size_t& count, size_t most = SIZE_MAX) {
  std::unordered_set<std::string> seen;
  std::vector<uint8_t> prev(m.keySize), next(m.keySize);
  bool havePrev = false;
  for (;;) {
    if (bpf_map_get_next_key(fd, havePrev ? prev.data() : nullptr, next.data()) != 0) {
      if (errno == ENOENT) return true;
      ThrowErrno(env, "map dump (next key) failed", errno);
    }
    if (count == most) return false;
    prev.swap(next);
    havePrev = true;
    std::string k(reinterpret_cast<const char*>(prev.data()), prev.size());
    if (!seen.insert(k).second) continue;
    values.Reserve(env, (count + 1) * valueBytes);
    if (bpf_map_lookup_elem(fd, prev.data(), values.data() + count * valueBytes) != 0) {
      if (errno == ENOENT) continue;  // deleted between the two calls
      ThrowErrno(env, "map dump (lookup) failed", errno);
    }
    keys.Reserve(env, (count + 1) * m.keySize);
    memcpy(keys.data() + count * m.keySize, prev.data(), m.keySize);
    ++count;
  }
}

// The entries a hash map of `maxEntries` is walked one by one for before a batch: a batch takes
// every bucket's lock, empty or not (~15 ns each: 2 ms for a stack table's 131072), where
// get_next_key passes empty buckets without one but costs two syscalls an entry (~5 µs). Such
// big maps are mostly sparse (stack tables hold the few hundred stacks a run saw); 0: batch at once.
size_t SparseWalkEntries(const MapInfo& m) {
  bool hash = m.type == BPF_MAP_TYPE_HASH || m.type == BPF_MAP_TYPE_PERCPU_HASH || m.type == BPF_MAP_TYPE_LRU_HASH ||
              m.type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
  return hash && m.maxEntries >= 16384 ? m.maxEntries / 256 : 0;
}

Napi::Value MapDump(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgI32(info, 0, "fd");
  uint32_t keySize = ArgU32(info, 1, "keySize");
  uint32_t valueBytes = ArgU32(info, 2, "valueBytes");
  MapInfo m = Info(env, fd);
  if (m.type == BPF_MAP_TYPE_RINGBUF) throw Napi::TypeError::New(env, "a ringbuf map cannot be dumped");
  CheckKey(env, m, keySize);
  CheckValue(env, m, valueBytes);

  DumpBytes keys, values;
  size_t count = 0;
  // TRACELET_NO_MAP_BATCH=1 forces the one-by-one walk (what older kernels get), for tests.
  const char* noBatch = getenv("TRACELET_NO_MAP_BATCH");
  bool batch = !(noBatch && *noBatch && strcmp(noBatch, "0") != 0);
  size_t sparse = batch ? SparseWalkEntries(m) : 0;
  bool done = sparse > 0 && DumpWalk(env, fd, m, valueBytes, keys, values, count, sparse);
  if (!done && sparse > 0) {
    keys.Clear();
    values.Clear();
    count = 0;
  }
  if (!done && (!batch || !DumpBatch(env, fd, m, valueBytes, keys, values, count))) {
    keys.Clear();
    values.Clear();
    count = 0;
    DumpWalk(env, fd, m, valueBytes, keys, values, count);
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("count", Napi::Number::New(env, static_cast<double>(count)));
  result.Set("keys", keys.Release(env, count * keySize));
  result.Set("values", values.Release(env, count * valueBytes));
  return result;
}

// packStacks(keys, values, count, keyBytes, frameBytes): a stack table's dump (keys: each stack's
// frames, as many as the table's depth; values: its 8-byte id) with each stack cut after its
// last frame and packed back to back: { ids: Float64Array, ends: Uint32Array (where each stack
// ends in frames), frames: Buffer }. The kernel zeroes the frames after a stack: a frame is in
// use while its first 8 bytes (an address; a build id frame's status and the start of its id)
// are not 0. Made here, not in JavaScript: a stack table printed at exit holds hundreds to
// thousands of stacks, and that loop over their frames ran interpreted (~10 ms of a profile
// one-liner's 40 ms print).
Napi::Value PackStacks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> keys = ArgBuffer(info, 0, "keys");
  Napi::Buffer<uint8_t> values = ArgBuffer(info, 1, "values");
  uint32_t count = ArgU32(info, 2, "count");
  uint32_t keyBytes = ArgU32(info, 3, "keyBytes");
  uint32_t frameBytes = ArgU32(info, 4, "frameBytes");
  if (frameBytes == 0 || frameBytes % 8 != 0 || keyBytes % frameBytes != 0) {
    throw Napi::RangeError::New(env, "packStacks: keyBytes must be a multiple of frameBytes, a multiple of 8");
  }
  if (keys.Length() < static_cast<size_t>(count) * keyBytes || values.Length() < static_cast<size_t>(count) * 8) {
    throw Napi::RangeError::New(env, "packStacks: fewer bytes than count entries");
  }
  auto ids = Napi::Float64Array::New(env, count);
  auto ends = Napi::Uint32Array::New(env, count);
  const uint8_t* key = keys.Data();
  size_t total = 0;
  for (uint32_t i = 0; i < count; ++i, key += keyBytes) {
    size_t used = 0;
    uint64_t word;
    while (used < keyBytes && (memcpy(&word, key + used, 8), word != 0)) used += frameBytes;
    total += used;
    if (total > UINT32_MAX) throw Napi::RangeError::New(env, "packStacks: 4 GiB of frames or more");
    ends[i] = static_cast<uint32_t>(total);
    memcpy(&word, values.Data() + static_cast<size_t>(i) * 8, 8);
    ids[i] = static_cast<double>(word);
  }
  // Its own memory (malloc's, 16-byte aligned): stacks are read as BigUint64Arrays over it.
  auto frames = Napi::Buffer<uint8_t>::New(env, total);
  key = keys.Data();
  uint8_t* to = frames.Data();
  for (uint32_t i = 0; i < count; ++i, key += keyBytes) {
    size_t used = ends[i] - (i == 0 ? 0 : ends[i - 1]);
    memcpy(to, key, used);
    to += used;
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("ids", ids);
  out.Set("ends", ends);
  out.Set("frames", frames);
  return out;
}

void ClearArray(Napi::Env env, int fd, const MapInfo& m, size_t valueBytes) {
  const uint32_t chunk = 4096;
  std::vector<uint32_t> keys;
  std::vector<uint8_t> zeros;
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  bool batch = true;
  for (uint32_t start = 0; start < m.maxEntries; start += chunk) {
    uint32_t n = std::min(chunk, m.maxEntries - start);
    if (batch) {
      keys.resize(n);
      for (uint32_t i = 0; i < n; ++i) keys[i] = start + i;
      zeros.assign(static_cast<size_t>(n) * valueBytes, 0);
      uint32_t done = n;
      if (bpf_map_update_batch(fd, keys.data(), zeros.data(), &done, &opts) == 0) continue;
      if (!(start == 0 && BatchUnsupported(errno))) ThrowErrno(env, "map clear (batch update) failed", errno);
      batch = false;
    }
    zeros.assign(valueBytes, 0);
    for (uint32_t i = start; i < start + n; ++i) {
      if (bpf_map_update_elem(fd, &i, zeros.data(), BPF_ANY) != 0) ThrowErrno(env, "map clear failed", errno);
    }
  }
}

void ClearHash(Napi::Env env, int fd, const MapInfo& m, size_t valueBytes) {
  // Batched lookup-and-delete empties the map in a few syscalls.
  uint32_t chunk = 4096;
  std::vector<uint8_t> inBatch(8), outBatch(8), keys(static_cast<size_t>(chunk) * m.keySize),
      values(static_cast<size_t>(chunk) * valueBytes);
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  bool first = true;
  for (;;) {
    uint32_t n = chunk;
    int err = bpf_map_lookup_and_delete_batch(fd, first ? nullptr : inBatch.data(), outBatch.data(),
                                              keys.data(), values.data(), &n, &opts);
    if (err == 0) {
      first = false;
      inBatch.swap(outBatch);
      continue;
    }
    if (errno == ENOENT) return;
    if (errno == ENOSPC && n == 0) {
      chunk *= 2;
      keys.resize(static_cast<size_t>(chunk) * m.keySize);
      values.resize(static_cast<size_t>(chunk) * valueBytes);
      continue;
    }
    if (first && BatchUnsupported(errno)) break;
    ThrowErrno(env, "map clear (batch delete) failed", errno);
  }
  // Fallback: delete the first key until none is left. Bounded, in case probes keep inserting.
  std::vector<uint8_t> key(m.keySize);
  for (uint64_t i = 0; i < 2ull * m.maxEntries + 16; ++i) {
    if (bpf_map_get_next_key(fd, nullptr, key.data()) != 0) {
      if (errno == ENOENT) return;
      ThrowErrno(env, "map clear (next key) failed", errno);
    }
    if (bpf_map_delete_elem(fd, key.data()) != 0 && errno != ENOENT)
      ThrowErrno(env, "map clear (delete) failed", errno);
  }
}

Napi::Value MapClear(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = ArgI32(info, 0, "fd");
  uint32_t keySize = ArgU32(info, 1, "keySize");
  uint32_t valueBytes = ArgU32(info, 2, "valueBytes");
  bool isArray = info.Length() > 3 && info[3].ToBoolean().Value();
  MapInfo m = Info(env, fd);
  if (m.type == BPF_MAP_TYPE_RINGBUF) throw Napi::TypeError::New(env, "a ringbuf map cannot be cleared");
  CheckKey(env, m, keySize);
  CheckValue(env, m, valueBytes);
  if (isArray != IsArray(m.type))
    throw Napi::TypeError::New(env, std::string("isArray is ") + (isArray ? "true" : "false") +
                                        " but the map is " + (IsArray(m.type) ? "" : "not ") + "an array");
  if (isArray) ClearArray(env, fd, m, valueBytes);
  else ClearHash(env, fd, m, valueBytes);
  return env.Undefined();
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int fd = ArgI32(info, 0, "fd");
  {
    std::lock_guard<std::mutex> lock(g_mapsMutex);
    g_maps.erase(fd);
  }
  if (fd >= 0 && close(fd) != 0) ThrowErrno(info.Env(), "close(" + std::to_string(fd) + ") failed", errno);
  return info.Env().Undefined();
}

}  // namespace

void InitMaps(Napi::Env env, Napi::Object exports) {
  exports.Set("mapCreate", Napi::Function::New(env, MapCreate, "mapCreate"));
  exports.Set("mapLookup", Napi::Function::New(env, MapLookup, "mapLookup"));
  exports.Set("mapUpdateBatch", Napi::Function::New(env, MapUpdateBatch, "mapUpdateBatch"));
  exports.Set("mapUpdate", Napi::Function::New(env, MapUpdate, "mapUpdate"));
  exports.Set("mapDelete", Napi::Function::New(env, MapDelete, "mapDelete"));
  exports.Set("mapDump", Napi::Function::New(env, MapDump, "mapDump"));
  exports.Set("packStacks", Napi::Function::New(env, PackStacks, "packStacks"));
  exports.Set("mapClear", Napi::Function::New(env, MapClear, "mapClear"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd, "closeFd"));
}

}  // namespace tracelet
