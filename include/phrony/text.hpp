// phrony: text, the string type of parsed values: owning and immutable, and allocation-free to
// make while parsing (the texts of one body share reference-counted storage blocks).
#pragma once

#include <atomic>
#include <compare>
#include <concepts>
#include <cstddef>
#include <cstring>
#include <functional>
#include <new>
#include <string>
#include <string_view>
#include <utility>

// g++ 12 (seen at -O1 on aarch64) warns that a text in a std::optional, moved by std::swap of a
// struct holding it (std::sort of timeline items), "may be used uninitialized": its false positive
// on optional payloads (GCC bug 80635), reported at the reads of this header's inlined code. Off
// for this header only, so that users' -Werror builds stay clean.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace phrony {

class text;

namespace detail {

/// The header of a heap block of text bytes: one text's own block, or a chunk shared by the
/// texts a parse made. Freed when the last text using it goes.
struct text_block {
  std::atomic<std::size_t> refs;
  std::size_t capacity; ///< bytes after the header

  [[nodiscard]] char* bytes() noexcept { return reinterpret_cast<char*>(this + 1); }
};

[[nodiscard]] inline text_block* new_text_block(std::size_t capacity, std::size_t refs) {
  void* p = ::operator new(sizeof(text_block) + capacity);
  return ::new (p) text_block{{refs}, capacity};
}

/// Drops `n` references to `b`, freeing it when none are left.
inline void release_text_block(text_block* b, std::size_t n = 1) noexcept {
  if (b->refs.fetch_sub(n, std::memory_order_acq_rel) == n) {
    b->~text_block();
    ::operator delete(static_cast<void*>(b));
  }
}

struct text_access;

} // namespace detail

/// The string members of parsed values. It owns its bytes like std::string (a copy is deep and
/// independent: it outlives the parser, the body and the value it came from) but is immutable
/// and reads like std::string_view, to which it converts. Parsing packs the texts of a body into
/// shared blocks of up to 64 KiB, so making one costs no allocation; a text moved out of a value
/// keeps its block alive, while a copy gets storage of its own (copy a small part of a large body
/// to keep it for long without the rest). Always NUL-terminated (c_str()).
class text {
public:
  using value_type = char;
  using size_type = std::size_t;
  using const_iterator = const char*;
  using iterator = const_iterator;
  static constexpr size_type npos = std::string_view::npos;

  constexpr text() noexcept = default;
  /// From anything that converts to std::string_view: a literal, a std::string ... Implicit, as
  /// is the conversion back to std::string, so code written for std::string members compiles
  /// unchanged; the one casualty is `cond ? item.id : some_string`, which needs .str().
  template <class S>
  requires(std::convertible_to<const S&, std::string_view> && !std::same_as<S, text>)
      text(const S& s) { // NOLINT: implicit on purpose
    assign_owned(std::string_view(s));
  }
  text(const text& other) { assign_owned(other.view()); }
  text(text&& other) noexcept
      : data_(std::exchange(other.data_, "")), size_(std::exchange(other.size_, 0)),
        block_(std::exchange(other.block_, nullptr)) {}
  text& operator=(const text& other) {
    if (this != &other) {
      text copy(other);
      swap(copy);
    }
    return *this;
  }
  text& operator=(text&& other) noexcept {
    if (this != &other) {
      detail::text_block* const old = block_;
      data_ = std::exchange(other.data_, "");
      size_ = std::exchange(other.size_, 0);
      block_ = std::exchange(other.block_, nullptr);
      if (old != nullptr) {
        detail::release_text_block(old);
      }
    }
    return *this;
  }
  /// Assigns a copy of anything that converts to std::string_view.
  template <class S>
  requires(std::convertible_to<const S&, std::string_view> && !std::same_as<S, text>) text&
  operator=(const S& s) {
    text copy(s);
    swap(copy);
    return *this;
  }
  ~text() {
    if (block_ != nullptr) {
      detail::release_text_block(block_);
    }
  }

  /// Makes the text empty, freeing its storage (or its share of one).
  void clear() noexcept { *this = text{}; }
  void swap(text& other) noexcept { // by hand: the reads stay in this header (see the pragma)
    const char* const data = data_;
    const size_type size = size_;
    detail::text_block* const block = block_;
    data_ = other.data_;
    size_ = other.size_;
    block_ = other.block_;
    other.data_ = data;
    other.size_ = size;
    other.block_ = block;
  }

  [[nodiscard]] const char* data() const noexcept { return data_; }
  [[nodiscard]] const char* c_str() const noexcept { return data_; }
  [[nodiscard]] size_type size() const noexcept { return size_; }
  [[nodiscard]] size_type length() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] const_iterator begin() const noexcept { return data_; }
  [[nodiscard]] const_iterator end() const noexcept { return data_ + size_; }
  [[nodiscard]] char operator[](size_type i) const noexcept { return data_[i]; }
  [[nodiscard]] char front() const noexcept { return data_[0]; }
  [[nodiscard]] char back() const noexcept { return data_[size_ - 1]; }

  [[nodiscard]] std::string_view view() const noexcept { return {data_, size_}; }
  operator std::string_view() const noexcept { return view(); } // NOLINT: implicit on purpose
  [[nodiscard]] std::string str() const { return std::string(view()); }
  /// Implicit too, so a text passes where a std::string is taken, as the string members it
  /// replaced did.
  operator std::string() const { return str(); } // NOLINT: implicit on purpose

  // std::string_view's searches and comparisons.
  [[nodiscard]] bool starts_with(std::string_view s) const noexcept {
    return view().starts_with(s);
  }
  [[nodiscard]] bool starts_with(char c) const noexcept { return view().starts_with(c); }
  [[nodiscard]] bool ends_with(std::string_view s) const noexcept { return view().ends_with(s); }
  [[nodiscard]] bool ends_with(char c) const noexcept { return view().ends_with(c); }
  [[nodiscard]] bool contains(std::string_view s) const noexcept { return find(s) != npos; }
  [[nodiscard]] bool contains(char c) const noexcept { return find(c) != npos; }
  [[nodiscard]] size_type find(std::string_view s, size_type pos = 0) const noexcept {
    return view().find(s, pos);
  }
  [[nodiscard]] size_type find(char c, size_type pos = 0) const noexcept {
    return view().find(c, pos);
  }
  [[nodiscard]] size_type rfind(std::string_view s, size_type pos = npos) const noexcept {
    return view().rfind(s, pos);
  }
  [[nodiscard]] size_type rfind(char c, size_type pos = npos) const noexcept {
    return view().rfind(c, pos);
  }
  [[nodiscard]] size_type find_first_of(std::string_view s, size_type pos = 0) const noexcept {
    return view().find_first_of(s, pos);
  }
  [[nodiscard]] size_type find_last_of(std::string_view s, size_type pos = npos) const noexcept {
    return view().find_last_of(s, pos);
  }
  [[nodiscard]] int compare(std::string_view s) const noexcept { return view().compare(s); }
  /// A copy of part of the text, as std::string::substr gives (view().substr() views it instead).
  [[nodiscard]] std::string substr(size_type pos, size_type n = npos) const {
    return std::string(view().substr(pos, n));
  }

  friend bool operator==(const text& a, const text& b) noexcept { return a.view() == b.view(); }
  friend std::strong_ordering operator<=>(const text& a, const text& b) noexcept {
    return a.view().compare(b.view()) <=> 0;
  }
  // Templates, so that a literal or a std::string matches exactly rather than by a conversion
  // that would tie with the text == text overload.
  template <class S>
  requires(std::convertible_to<const S&, std::string_view> && !std::same_as<S, text>) friend bool
  operator==(const text& a, const S& b) noexcept {
    return a.view() == std::string_view(b);
  }
  template <class S>
  requires(std::convertible_to<const S&, std::string_view> &&
           !std::same_as<S, text>) friend std::strong_ordering
  operator<=>(const text& a, const S& b) noexcept {
    return a.view().compare(std::string_view(b)) <=> 0;
  }
  // Concatenation gives a std::string, as with the std::string members this type replaced.
  friend std::string operator+(const text& a, const text& b) { return concat(a.view(), b.view()); }
  template <class S>
  requires(std::convertible_to<const S&, std::string_view> &&
           !std::same_as<S, text>) friend std::string
  operator+(const text& a, const S& b) {
    return concat(a.view(), std::string_view(b));
  }
  template <class S>
  requires(std::convertible_to<const S&, std::string_view> &&
           !std::same_as<S, text>) friend std::string
  operator+(const S& a, const text& b) {
    return concat(std::string_view(a), b.view());
  }
  /// Writes the bytes to any output stream (a template: this header includes no <ostream>).
  template <class Os>
  requires requires(Os& os, std::string_view s) { os << s; }
  friend Os& operator<<(Os& os, const text& t) {
    os << t.view();
    return os;
  }

private:
  friend struct detail::text_access;

  static std::string concat(std::string_view a, std::string_view b) {
    std::string out;
    out.reserve(a.size() + b.size());
    out.append(a);
    out.append(b);
    return out;
  }

  /// Gives the text a block of its own holding `s`.
  void assign_owned(std::string_view s) {
    if (s.empty()) {
      return;
    }
    detail::text_block* b = detail::new_text_block(s.size() + 1, 1);
    std::memcpy(b->bytes(), s.data(), s.size());
    b->bytes()[s.size()] = '\0';
    data_ = b->bytes();
    size_ = s.size();
    block_ = b;
  }

  const char* data_ = "";
  size_type size_ = 0;
  detail::text_block* block_ = nullptr; ///< null for the empty text
};

namespace detail {

/// What the parser does to texts that the public interface does not offer.
struct text_access {
  /// Whether `t` holds storage, its own or a share of a block (an empty text may hold none).
  [[nodiscard]] static bool has_block(const text& t) noexcept { return t.block_ != nullptr; }
  /// Points `t`, which holds no storage, at `n` bytes at `data` (NUL-terminated) in `b`, whose
  /// reference it takes over.
  static void place(text& t, const char* data, std::size_t n, text_block* b) noexcept {
    t.data_ = data;
    t.size_ = n;
    t.block_ = b;
  }
  /// Overwrites `t` with `s` in its own storage when no other text shares that block and it is
  /// large enough (a value read over keeps its storage, as std::string does); else false.
  [[nodiscard]] static bool overwrite(text& t, std::string_view s) noexcept {
    text_block* b = t.block_;
    if (b == nullptr || b->capacity <= s.size() || b->refs.load(std::memory_order_acquire) != 1) {
      return false;
    }
    if (!s.empty()) { // an empty view may have no data (memmove wants a pointer even for 0)
      std::memmove(b->bytes(), s.data(), s.size());
    }
    b->bytes()[s.size()] = '\0';
    t.data_ = b->bytes();
    t.size_ = s.size();
    return true;
  }
  /// Empties `t` for a value read over: it keeps its storage when no other text shares it, else
  /// gets storage of its own. Left without any, the next read would put it in the thread's arena
  /// (a fresh value's texts go there), to be cleared out of it again by the next read: a chunk
  /// allocated every 64 KiB of reads.
  static void clear(text& t) {
    if (!overwrite(t, {})) {
      own(t, {});
    }
  }
  /// The size of `t`'s storage when no other text shares it, 0 when it has none, else SIZE_MAX.
  [[nodiscard]] static std::size_t own_capacity(const text& t) noexcept {
    if (t.block_ == nullptr) {
      return 0;
    }
    return t.block_->refs.load(std::memory_order_acquire) == 1 ? t.block_->capacity
                                                               : static_cast<std::size_t>(-1);
  }
  /// Gives `t` a block of its own holding `s`, with room to grow (a value that is read over).
  static void own(text& t, std::string_view s) {
    const std::size_t rounded = (s.size() + 32) & ~std::size_t{31};
    text_block* b = new_text_block(rounded > 32 ? rounded : 32, 1);
    if (!s.empty()) {
      std::memcpy(b->bytes(), s.data(), s.size());
    }
    b->bytes()[s.size()] = '\0';
    t = text{}; // lets go of what it held, once the new block is there
    place(t, b->bytes(), s.size(), b);
  }
};

/// Where a thread's parses put their texts: a 64 KiB chunk filled front to back, shared by every
/// text placed in it (long texts get a block of their own). The chunk's reference count is
/// raised once per parse by as many texts as could still fit and lowered by the unused part
/// when the parse ends, so making a text costs no atomic operation.
class text_arena {
public:
  /// The chunk size (header included) and the longest text packed into a chunk.
  static constexpr std::size_t chunk_bytes = std::size_t{64} << 10;
  static constexpr std::size_t chunk_capacity = chunk_bytes - sizeof(text_block);
  static constexpr std::size_t longest_packed = chunk_capacity / 8;

  text_arena() = default;
  text_arena(const text_arena&) = delete;
  text_arena& operator=(const text_arena&) = delete;
  ~text_arena() { release(); }

  /// Starts a parse (parses nest: a content parsed while its body is).
  void open() noexcept {
    if (depth_++ == 0 && chunk_ != nullptr) {
      reserve();
    }
  }
  /// Ends a parse: returns the references it did not use.
  void close() noexcept {
    if (--depth_ == 0 && chunk_ != nullptr && reserved_ > 0) {
      chunk_->refs.fetch_sub(reserved_, std::memory_order_relaxed); // the arena holds one more
      reserved_ = 0;
    }
  }

  /// A text holding `s`.
  [[nodiscard]] text make(std::string_view s) {
    text t;
    make_into(t, s);
    return t;
  }

  /// Sets `out`, which holds no storage (an empty text), to `s`.
  void make_into(text& out, std::string_view s) {
    if (s.empty()) {
      return;
    }
    if (s.size() > longest_packed) {
      text_access::own(out, s);
      return;
    }
    if (chunk_ == nullptr || chunk_->capacity - used_ < s.size() + 1) {
      next_chunk();
    }
    char* at = chunk_->bytes() + used_;
    std::memcpy(at, s.data(), s.size());
    at[s.size()] = '\0';
    used_ += s.size() + 1;
    if (reserved_ > 0) {
      --reserved_;
    } else {
      chunk_->refs.fetch_add(1, std::memory_order_relaxed); // outside a parse
    }
    text_access::place(out, at, s.size(), chunk_);
  }

  /// Lets go of the chunk (it is freed once no text uses it).
  void release() noexcept {
    if (chunk_ != nullptr) {
      release_text_block(chunk_, reserved_ + 1);
      chunk_ = nullptr;
      used_ = 0;
      reserved_ = 0;
    }
  }

  /// The bytes the current chunk has room for (tests).
  [[nodiscard]] std::size_t room() const noexcept {
    return chunk_ == nullptr ? 0 : chunk_->capacity - used_;
  }

private:
  // Every packed text takes at least two bytes (one and its NUL), which bounds how many fit.
  void reserve() noexcept {
    reserved_ = (chunk_->capacity - used_) / 2 + 1;
    chunk_->refs.fetch_add(reserved_, std::memory_order_relaxed);
  }
  void next_chunk() {
    text_block* fresh = new_text_block(chunk_capacity, 1);
    release();
    chunk_ = fresh;
    if (depth_ > 0) {
      reserve();
    }
  }

  text_block* chunk_ = nullptr;
  std::size_t used_ = 0;
  std::size_t reserved_ = 0; ///< references raised in advance, not yet handed to a text
  int depth_ = 0;
};

/// This thread's arena.
[[nodiscard]] inline text_arena& local_text_arena() {
  thread_local text_arena arena;
  return arena;
}

/// Opens the thread's arena for one parse.
class text_arena_scope {
public:
  text_arena_scope() noexcept : arena_(local_text_arena()) { arena_.open(); }
  text_arena_scope(const text_arena_scope&) = delete;
  text_arena_scope& operator=(const text_arena_scope&) = delete;
  ~text_arena_scope() { arena_.close(); }

private:
  text_arena& arena_;
};

/// Sets `out` to `s` while parsing: a fresh value's text goes to the thread's arena; a value
/// read over keeps its text's own storage when it can, and otherwise gets some (so the next
/// read over it allocates nothing, as with std::string).
inline void assign_string(text& out, std::string_view s) {
  if (!text_access::has_block(out)) {
    local_text_arena().make_into(out, s); // a fresh value's text: written in place
    return;
  }
  if (text_access::overwrite(out, s)) {
    return;
  }
  if (s.empty()) {
    out = text{};
  } else {
    text_access::own(out, s);
  }
}

} // namespace detail
} // namespace phrony

template <> struct std::hash<phrony::text> {
  std::size_t operator()(const phrony::text& t) const noexcept {
    return std::hash<std::string_view>{}(t.view());
  }
};

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
