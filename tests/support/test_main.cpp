// The Boost.Test entry point shared by every suite; tests/meson.build names each suite through
// -DWEFT_TEST_SUITE=... (and the boost dependency defines BOOST_TEST_DYN_LINK).
#define BOOST_TEST_MODULE WEFT_TEST_SUITE
#include <boost/test/unit_test.hpp>
