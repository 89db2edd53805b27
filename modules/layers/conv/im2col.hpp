#pragma once
// vol2col / col2vol: the N-dimensional im2col that turns a convolution into one matrix product.
//
// For `channels` channels of spatial extent g.in, the column matrix has one row per
// (channel, kernel offset) pair — channel outermost, kernel offsets row-major, exactly the order
// of a PyTorch weight (out, in/groups, k...) flattened per output channel — and one column per
// output position (g.out, row-major). Entry (row, position) is the input value the kernel offset
// reads at that position, or 0 where it falls into padding.
#include <cstdint>

#include "layers/conv/geometry.hpp"

namespace weft::builtin {

// col (channels·K × P) = the windows of vol (channels × g.in...). Writes every entry of col.
// Row r of col starts at col + r·ld (ld >= P), so several samples can sit side by side.
void vol2col(const float* vol, std::int64_t channels, const WindowGeometry& g, float* col, std::int64_t ld);

// The adjoint: vol (channels × g.in...) += the column entries added back at the positions they
// were read from (padding entries are dropped). The caller zeroes vol first when it wants a sum.
void col2vol(const float* col, std::int64_t ld, std::int64_t channels, const WindowGeometry& g, float* vol);

}  // namespace weft::builtin
