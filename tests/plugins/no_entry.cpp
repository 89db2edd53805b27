// A shared object that is not a weft plugin: it exports no entry point.
extern "C" __attribute__((visibility("default"))) int some_unrelated_function() { return 42; }
