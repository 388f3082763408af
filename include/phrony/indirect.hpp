// phrony: values kept on the heap so that the values holding them stay small (a timeline item's
// content and its tolerant-parsing note), with the value semantics of what they hold.
#pragma once

#include <concepts>
#include <optional>
#include <type_traits>
#include <utility>

namespace phrony {

/// Always holds a T, on the heap, like C++26's std::indirect: copies are deep, == compares the
/// values, * and -> reach it. A default-constructed one holds T{} without allocating (it is
/// allocated on the first non-const access).
template <class T> class indirect {
public:
  constexpr indirect() noexcept = default;
  /// From anything T can be made of (a content type for an item's content variant ...).
  template <class U>
  requires(std::constructible_from<T, U&&> && !std::same_as<std::remove_cvref_t<U>, indirect>)
      indirect(U&& value)
      : p_(new T(std::forward<U>(value))) {} // NOLINT: implicit, like T
  indirect(const indirect& other) : p_(other.p_ != nullptr ? new T(*other.p_) : nullptr) {}
  indirect(indirect&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
  indirect& operator=(const indirect& other) {
    if (this != &other) {
      indirect copy(other);
      std::swap(p_, copy.p_);
    }
    return *this;
  }
  indirect& operator=(indirect&& other) noexcept {
    indirect moved(std::move(other));
    std::swap(p_, moved.p_);
    return *this;
  }
  ~indirect() { delete p_; }

  [[nodiscard]] const T& get() const noexcept { return p_ != nullptr ? *p_ : empty_value(); }
  [[nodiscard]] T& get() {
    if (p_ == nullptr) {
      p_ = new T();
    }
    return *p_;
  }
  [[nodiscard]] const T& operator*() const noexcept { return get(); }
  [[nodiscard]] T& operator*() { return get(); }
  [[nodiscard]] const T* operator->() const noexcept { return &get(); }
  [[nodiscard]] T* operator->() { return &get(); }

  /// Back to T{}, freeing the heap copy.
  void reset() noexcept {
    delete p_;
    p_ = nullptr;
  }

  friend bool operator==(const indirect& a, const indirect& b) { return a.get() == b.get(); }

private:
  static const T& empty_value() noexcept {
    static const T value{};
    return value;
  }

  T* p_ = nullptr;
};

/// An optional T on the heap: std::optional's interface (bool, *, ->, has_value, emplace,
/// reset) in the size of a pointer.
template <class T> class optional_indirect {
public:
  constexpr optional_indirect() noexcept = default;
  constexpr optional_indirect(std::nullopt_t) noexcept {} // NOLINT: implicit, like std::optional
  template <class U>
  requires(std::constructible_from<T, U&&> &&
           !std::same_as<std::remove_cvref_t<U>, optional_indirect> &&
           !std::same_as<std::remove_cvref_t<U>, std::nullopt_t>) optional_indirect(U&& value)
      : p_(new T(std::forward<U>(value))) {} // NOLINT: implicit
  optional_indirect(const optional_indirect& other)
      : p_(other.p_ != nullptr ? new T(*other.p_) : nullptr) {}
  optional_indirect(optional_indirect&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
  optional_indirect& operator=(const optional_indirect& other) {
    if (this != &other) {
      optional_indirect copy(other);
      std::swap(p_, copy.p_);
    }
    return *this;
  }
  optional_indirect& operator=(optional_indirect&& other) noexcept {
    optional_indirect moved(std::move(other));
    std::swap(p_, moved.p_);
    return *this;
  }
  ~optional_indirect() { delete p_; }

  [[nodiscard]] bool has_value() const noexcept { return p_ != nullptr; }
  explicit operator bool() const noexcept { return p_ != nullptr; }
  [[nodiscard]] const T& operator*() const noexcept { return *p_; }
  [[nodiscard]] T& operator*() noexcept { return *p_; }
  [[nodiscard]] const T* operator->() const noexcept { return p_; }
  [[nodiscard]] T* operator->() noexcept { return p_; }

  template <class... A> T& emplace(A&&... args) {
    T* fresh = new T(std::forward<A>(args)...);
    delete p_;
    p_ = fresh;
    return *p_;
  }
  void reset() noexcept {
    delete p_;
    p_ = nullptr;
  }

  friend bool operator==(const optional_indirect& a, const optional_indirect& b) {
    if (a.p_ == nullptr || b.p_ == nullptr) {
      return a.p_ == b.p_;
    }
    return *a.p_ == *b.p_;
  }

private:
  T* p_ = nullptr;
};

} // namespace phrony
