#pragma once
// Every error weft raises derives from weft::Error and carries a message a user can act on:
// it names the thing that was wrong and what was expected. The CLI prints it on one line.
#include <stdexcept>
#include <string>

namespace weft {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A model spec or module configuration that cannot be used as written.
class SpecError : public Error {
 public:
  using Error::Error;
};

// Tensor shapes that do not fit together.
class ShapeError : public Error {
 public:
  using Error::Error;
};

// A file that is missing, unreadable, truncated or not in the expected format.
class IoError : public Error {
 public:
  using Error::Error;
};

// Training produced a non-finite value.
class NumericError : public Error {
 public:
  using Error::Error;
};

}  // namespace weft
