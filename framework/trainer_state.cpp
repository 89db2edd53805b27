// Trainer::state() and restore(): the training state beyond the model's weights, for
// checkpoints and exact resume (the format is documented in weft/trainer.hpp).
#include <map>

#include "weft/trainer.hpp"

namespace weft {
namespace {

constexpr int state_format = 1;

std::string slot_tensor_name(const NamedTensor& t, const std::string& slot) { return t.name + "/" + slot; }

}  // namespace

TrainerState Trainer::state() const {
  TrainerState s;
  for (const auto& t : model_.parameter_table())
    for (std::size_t k = 0; k < slots_.size(); ++k) {
      Tensor copy(t.shape);
      std::copy_n(slots_[k].data() + t.offset, t.size(), copy.data());
      s.tensors.emplace_back(slot_tensor_name(t, slot_names_[k]), std::move(copy));
    }
  Json history = Json::array();
  for (const auto& m : history_) history.push_back(m.to_json());
  s.json = {{"format", state_format},
            {"optimizer", model_.spec().contains("optimizer") ? model_.spec()["optimizer"] : Json()},
            {"slots", slot_names_},
            {"schedule", {{"spec", options_.schedule}, {"state", schedule_ ? schedule_->state() : Json::object()}}},
            {"step", step_},
            {"epoch", epoch_},
            {"position", position_},
            {"epoch_totals",
             {{"loss_sum", totals_.loss_sum}, {"correct", totals_.correct}, {"samples", totals_.samples}, {"steps", totals_.steps}}},
            {"rng", {{"seed", options_.seed}, {"shuffle", options_.shuffle}}},
            {"batch_size", options_.batch_size},
            {"accumulate", options_.accumulate},
            {"shard_size", options_.shard_size},
            {"lr", last_lr_},
            {"history", std::move(history)}};
  return s;
}

void Trainer::restore(const TrainerState& s) {
  const Json& j = s.json;
  auto fail = [](const std::string& what) { throw Error("cannot restore the training state: " + what); };
  try {
    if (!j.is_object() || j.value("format", 0) != state_format)
      fail("unknown state format (expected format " + std::to_string(state_format) + ")");
    const Json mine = model_.spec().contains("optimizer") ? model_.spec()["optimizer"] : Json();
    if (j.at("optimizer") != mine)
      fail("it was saved with the optimizer " + j.at("optimizer").dump() + ", this model's is " + mine.dump());
    if (j.at("slots").get<std::vector<std::string>>() != slot_names_) fail("its optimizer slots differ from " + Json(slot_names_).dump());
    if (j.at("schedule").at("spec") != options_.schedule)
      fail("it was saved with the schedule " + j.at("schedule").at("spec").dump() + ", this trainer's is " +
           options_.schedule.dump());
    const auto position = j.at("position").get<std::int64_t>();
    if (position > 0 && (j.at("batch_size").get<std::int64_t>() != options_.batch_size ||
                         j.at("accumulate").get<std::int64_t>() != options_.accumulate))
      fail("it stopped in the middle of an epoch with batch size " + j.at("batch_size").dump() + " and accumulation " +
           j.at("accumulate").dump() + "; this trainer uses " + std::to_string(options_.batch_size) + " and " +
           std::to_string(options_.accumulate));
    std::map<std::string, const Tensor*> tensors;
    for (const auto& [name, t] : s.tensors) tensors[name] = &t;
    std::size_t expected = 0;
    for (const auto& t : model_.parameter_table())
      for (const auto& slot : slot_names_) {
        ++expected;
        auto it = tensors.find(slot_tensor_name(t, slot));
        if (it == tensors.end()) fail("the optimizer tensor '" + slot_tensor_name(t, slot) + "' is missing");
        if (!(it->second->shape() == t.shape))
          fail("the optimizer tensor '" + it->first + "' has shape " + it->second->shape().str() + ", expected " + t.shape.str());
      }
    if (tensors.size() != expected) fail("it holds optimizer tensors this model does not have");
    std::vector<Metrics> history;
    for (const auto& m : j.at("history")) history.push_back(Metrics::from_json(m));
    const Json& totals = j.at("epoch_totals");
    EpochTotals restored_totals{totals.at("loss_sum").get<double>(), totals.at("correct").get<std::int64_t>(),
                                totals.at("samples").get<std::int64_t>(), totals.at("steps").get<std::int64_t>()};
    // The run's own shard size unless this trainer was given one: the same sums, so the same
    // bits as the uninterrupted run.
    const std::int64_t shard = j.value("shard_size", std::int64_t{32});  // the default before it was recorded
    if (shard < 1) fail("its shard size is " + std::to_string(shard) + ", expected at least 1");
    std::unique_ptr<Executor> executor;
    if (!shard_size_given_ && shard != options_.shard_size)
      executor = make_executor(shard);
    // Everything checked: commit.
    if (schedule_) schedule_->restore(j.at("schedule").at("state"));
    for (const auto& t : model_.parameter_table())
      for (std::size_t k = 0; k < slot_names_.size(); ++k)
        std::copy_n(tensors[slot_tensor_name(t, slot_names_[k])]->data(), t.size(), slots_[k].data() + t.offset);
    step_ = j.at("step").get<std::int64_t>();
    epoch_ = j.at("epoch").get<std::int64_t>();
    position_ = position;
    totals_ = restored_totals;
    options_.seed = j.at("rng").at("seed").get<std::uint64_t>();
    options_.shuffle = j.at("rng").at("shuffle").get<bool>();
    if (executor) {
      options_.shard_size = executor->shard_size();
      executor_ = std::move(executor);
    }
    last_lr_ = j.at("lr").get<double>();
    history_ = std::move(history);
  } catch (const Json::exception& e) {
    fail(std::string("a field is missing or has the wrong type: ") + e.what());
  }
}

}  // namespace weft
