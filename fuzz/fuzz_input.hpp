#pragma once
// Shared by the fuzz targets: readers that take a path get the fuzzer's bytes through a file
// private to this process.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace weft::fuzz {

inline std::string write_input(const std::uint8_t* data, std::size_t size, const char* suffix) {
  static const std::string path = "/tmp/weft-fuzz-" + std::to_string(::getpid()) + suffix;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
  return path;
}

}  // namespace weft::fuzz
