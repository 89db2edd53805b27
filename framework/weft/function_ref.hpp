#pragma once
// FunctionRef<R(Args...)>: a non-owning reference to a callable, for parameters that are called
// before the function returns (a loop body, a task). Unlike std::function it never copies the
// callable, so passing a lambda never allocates: std::function keeps captures beyond two pointers
// on the heap, which was one allocation per layer and pass in the executor's hot loops.
// Like std::string_view, it must not outlive the callable it refers to: never store one.
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

namespace weft {

template <class Signature>
class FunctionRef;

// A reference to a callable taking Args... and returning R (see the file comment).
template <class R, class... Args>
class FunctionRef<R(Args...)> {
 public:
  // Refers to `f` (a lambda, a function object), which must outlive this FunctionRef.
  template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, FunctionRef> && std::is_object_v<std::remove_reference_t<F>> &&
             std::is_invocable_r_v<R, F&, Args...>)
  FunctionRef(F&& f) noexcept  // NOLINT(google-explicit-constructor): converts from a lambda like std::function
      : callable_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* callable, Args... args) -> R {
          return std::invoke(*static_cast<std::remove_reference_t<F>*>(callable), std::forward<Args>(args)...);
        }) {}

  R operator()(Args... args) const { return call_(callable_, std::forward<Args>(args)...); }  // calls it

 private:
  void* callable_;
  R (*call_)(void*, Args...);
};

}  // namespace weft
