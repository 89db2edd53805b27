// Trains a small classifier from C++ with weft's public API: the model built in code, data made
// here (three classes of points, split by angle around the origin), a held-out accuracy check.
// Exits 0 when the test accuracy reaches 90%.
#include <cmath>
#include <cstdio>
#include <numbers>

#include <weft/weft.hpp>

namespace {

// n points uniform in [-1, 1]², labelled by which third of the circle their angle falls in.
weft::Dataset sectors(std::int64_t n, std::uint64_t seed) {
  const weft::CounterRng rng(seed);
  weft::Dataset data{weft::Tensor(weft::Shape{n, 2}), weft::Tensor(weft::Shape{n}), "sectors"};
  for (std::int64_t i = 0; i < n; ++i) {
    const float px = 2 * rng.uniform(2 * i) - 1, py = 2 * rng.uniform(2 * i + 1) - 1;
    const double angle = std::atan2(py, px) + std::numbers::pi;  // [0, 2π]
    data.x.data()[2 * i] = px;
    data.x.data()[2 * i + 1] = py;
    data.y.data()[i] = static_cast<float>(std::min(2, static_cast<int>(angle / (2 * std::numbers::pi / 3))));
  }
  return data;
}

}  // namespace

int main() {
  try {
    weft::Sequential net({2});
    net.add(weft::dense(32)).add(weft::relu()).add(weft::dense(32)).add(weft::relu()).add(weft::dense(3))
        .loss("cross_entropy")
        .optimizer(weft::adam(0.01));
    weft::Model model = net.build();
    model.initialize(/*seed=*/1);

    const weft::Dataset train = sectors(2048, 11), test = sectors(1024, 12);
    weft::TrainOptions options;
    options.batch_size = 64;
    options.seed = 1;
    weft::Trainer trainer(model, options);
    for (int epoch = 1; epoch <= 20; ++epoch) {
      const auto r = trainer.train_epoch(train);
      if (epoch % 5 == 0) std::printf("epoch %2d  loss %.4f  train accuracy %.3f\n", epoch, r.loss, r.accuracy);
    }
    const auto result = trainer.evaluate(test);
    std::printf("weft %s: test accuracy %.3f on %lld samples\n", weft::version, result.accuracy,
                static_cast<long long>(result.samples));
    return result.accuracy >= 0.9 ? 0 : 1;
  } catch (const weft::Error& e) {
    std::fprintf(stderr, "consumer: error: %s\n", e.what());
    return 1;
  }
}
