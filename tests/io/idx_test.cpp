// IDX reading: plain and gzip files written by the test, and every way a file can be wrong.
#include <boost/test/unit_test.hpp>
#include <zlib.h>

#include <fstream>

#include "model_helpers.hpp"
#include "weft/io/idx.hpp"

using weft::testing::error_of;

namespace {

std::vector<unsigned char> idx_bytes(std::vector<std::uint32_t> dims, const std::vector<unsigned char>& data) {
  std::vector<unsigned char> out = {0, 0, 0x08, static_cast<unsigned char>(dims.size())};
  for (auto d : dims)
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<unsigned char>(d >> s));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

void write_plain(const std::string& path, const std::vector<unsigned char>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

void write_gzip(const std::string& path, const std::vector<unsigned char>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}


}  // namespace

BOOST_AUTO_TEST_CASE(reads_plain_and_gzip_idx) {
  weft::testing::TempDir dir;
  const auto bytes = idx_bytes({2, 2, 3}, {0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255});
  write_plain(dir.file("a.idx"), bytes);
  write_gzip(dir.file("a.idx.gz"), bytes);
  for (const auto& name : {"a.idx", "a.idx.gz"}) {
    const auto t = weft::io::read_idx(dir.file(name));
    BOOST_CHECK(t.shape() == (weft::Shape{2, 2, 3}));
    BOOST_CHECK_EQUAL(t[1], 1.0f);
    BOOST_CHECK_EQUAL(t[11], 255.0f);
  }
}

BOOST_AUTO_TEST_CASE(loads_an_image_label_pair_scaled_and_reshaped) {
  weft::testing::TempDir dir;
  write_gzip(dir.file("train-images-idx3-ubyte.gz"), idx_bytes({3, 2, 2}, {0, 255, 51, 102, 0, 0, 0, 0, 255, 255, 255, 255}));
  write_plain(dir.file("train-labels-idx1-ubyte"), idx_bytes({3}, {7, 0, 9}));
  const auto d = weft::io::load_idx_dataset(dir.path(), "train", weft::Shape{4});
  BOOST_CHECK(d.x.shape() == (weft::Shape{3, 4}));
  BOOST_CHECK_CLOSE(d.x[1], 1.0f, 1e-5);
  BOOST_CHECK_CLOSE(d.x[2], 0.2f, 1e-4);
  BOOST_CHECK_EQUAL(d.y[0], 7.0f);
  BOOST_CHECK_EQUAL(d.y[2], 9.0f);
  // The model's input must hold as many values as an image.
  BOOST_CHECK(error_of([&] { weft::io::load_idx_dataset(dir.path(), "train", weft::Shape{5}); }).find("expects inputs of shape (5)") !=
              std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_files_give_errors_that_name_the_problem) {
  weft::testing::TempDir dir;
  auto msg = error_of([&] { weft::io::read_idx(dir.file("nothing.idx")); });
  BOOST_CHECK_MESSAGE(msg.find("cannot open IDX file") != std::string::npos, msg);

  auto bytes = idx_bytes({4, 3}, std::vector<unsigned char>(12, 1));
  bytes.resize(bytes.size() - 5);
  write_plain(dir.file("short.idx"), bytes);
  msg = error_of([&] { weft::io::read_idx(dir.file("short.idx")); });
  BOOST_CHECK_MESSAGE(msg.find("truncated") != std::string::npos && msg.find("promises 12 bytes") != std::string::npos, msg);

  // A gzip stream cut in the middle.
  write_gzip(dir.file("full.gz"), idx_bytes({1000}, std::vector<unsigned char>(1000, 7)));
  std::ifstream in(dir.file("full.gz"), std::ios::binary);
  std::vector<char> gz((std::istreambuf_iterator<char>(in)), {});
  gz.resize(gz.size() / 2);
  std::ofstream(dir.file("cut.gz"), std::ios::binary).write(gz.data(), std::streamsize(gz.size()));
  msg = error_of([&] { weft::io::read_idx(dir.file("cut.gz")); });
  BOOST_CHECK_MESSAGE(msg.find("truncated") != std::string::npos, msg);

  write_plain(dir.file("text.idx"), {'h', 'e', 'l', 'l', 'o'});
  msg = error_of([&] { weft::io::read_idx(dir.file("text.idx")); });
  BOOST_CHECK_MESSAGE(msg.find("not an IDX file") != std::string::npos, msg);

  msg = error_of([&] { weft::io::load_idx_dataset(dir.path(), "train", weft::Shape{4}); });
  BOOST_CHECK_MESSAGE(msg.find("missing data file") != std::string::npos, msg);
}

BOOST_AUTO_TEST_CASE(extents_whose_product_overflows_are_refused) {
  // 65536^4 = 2^64 wraps to 0, which matched an empty data section before fuzz_idx found it.
  weft::testing::TempDir dir;
  write_plain(dir.file("huge.idx"), idx_bytes({65536, 65536, 65536, 65536}, {}));
  const auto msg = error_of([&] { weft::io::read_idx(dir.file("huge.idx")); });
  BOOST_CHECK_MESSAGE(msg.find("declares more than 2^40 elements") != std::string::npos, msg);
}

BOOST_AUTO_TEST_CASE(a_gzip_bomb_is_refused_after_what_the_header_promises) {
  // The header promises 10 bytes; the stream inflates to 8 MB. The reader stops one byte past
  // the promise (the message says "more" instead of counting what a full inflate would find).
  weft::testing::TempDir dir;
  auto bytes = idx_bytes({10}, std::vector<unsigned char>(10, 1));
  bytes.resize(bytes.size() + (8 << 20), 0);
  write_gzip(dir.file("bomb.gz"), bytes);
  const auto msg = error_of([&] { weft::io::read_idx(dir.file("bomb.gz")); });
  BOOST_CHECK_MESSAGE(msg.find("promises 10 bytes of data, the file holds more") != std::string::npos, msg);
}
