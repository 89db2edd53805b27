#pragma once
// Training history as CSV: one row per epoch, one column per metric ("epoch", "loss",
// "accuracy", "val_loss", ..., "lr", "seconds", "samples_per_second"), a header row first. A
// metric missing in an epoch is an empty field. What `weft train --log` writes and `weft plot`
// reads; spreadsheets and pandas read it too.
#include <string>
#include <vector>

#include "weft/callback.hpp"
#include "weft/metrics.hpp"

namespace weft::io {

// A metrics CSV file as read back: the header's names and one row of values per epoch.
struct MetricsTable {
  std::vector<std::string> columns;       // the header, in file order
  std::vector<std::vector<double>> rows;  // NaN where a field was empty
  // The column's values, or an empty vector when there is no such column.
  std::vector<double> column(const std::string& name) const;
};

// Writes the whole history (atomically: temporary file, then rename). Throws IoError.
void write_metrics_csv(const std::vector<Metrics>& history, const std::string& path);
// Throws IoError naming the file and line when it is not such a table.
MetricsTable read_metrics_csv(const std::string& path);

// A callback that rewrites `path` with trainer.history() after every epoch, so the file is
// complete whenever training stops (and a resumed run's file holds every epoch).
class CsvLog final : public Callback {
 public:
  explicit CsvLog(std::string path) : path_(std::move(path)) {}  // the file to (re)write
  void on_epoch_end(Trainer& trainer, const EpochEvent& event) override;

 private:
  std::string path_;
};

}  // namespace weft::io
