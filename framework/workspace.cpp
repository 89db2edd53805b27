#include "weft/layer.hpp"

namespace weft {

std::span<float> Workspace::floats(std::size_t slot, std::size_t count) {
  if (floats_.size() <= slot) floats_.resize(slot + 1);
  auto& buffer = floats_[slot];
  if (buffer.size() < count) buffer.resize(count);
  return {buffer.data(), count};
}

std::span<std::int32_t> Workspace::ints(std::size_t slot, std::size_t count) {
  if (ints_.size() <= slot) ints_.resize(slot + 1);
  auto& buffer = ints_[slot];
  if (buffer.size() < count) buffer.resize(count);
  return {buffer.data(), count};
}

}  // namespace weft
