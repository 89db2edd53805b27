#pragma once
// The "training" object of a model spec: how `weft train` (and Trainer users who ask for it)
// train the model. Every key is optional; command-line flags override what the spec says.
//
//   "training": {
//     "batch": 128,            // samples per mini-batch; "full" = the whole training set; 1 = stochastic
//     "epochs": 1,
//     "shuffle": true,         // a new sample order every epoch, drawn from the seed
//     "accumulate": 1,         // mini-batches whose gradients add up to one optimizer step
//     "clip_norm": null,       // rescale the gradient when its global L2 norm exceeds this
//     "clip_value": null,      // clamp every gradient element to [-v, v]
//     "schedule": null,        // {"type": "cosine", "total": 30, "warmup": 2, "unit": "epoch"}
//     "validation_split": 0,   // fraction of the training set held out (seeded) for validation
//     "early_stopping": null,  // {"monitor": "val_loss", "patience": 5, "min_delta": 0,
//                              //  "mode": "auto", "restore_best": true}
//     "datasets": {...}        // HDF5 data: the dataset of each model input, e.g.
//                              // {"image": "images", "meta": "features"} (absent: --input flags)
//   }
// "datasets" stays absent from the resolved object unless given, so specs written before it
// existed resolve to what they did. The Model checks its keys against the model's inputs.
// Everything is checked when the spec is read (Model's constructor calls resolve_training).
#include "weft/config.hpp"

namespace weft {

// The object with defaults filled in; throws SpecError naming the key and what was expected.
// Builds the schedule once through the registry, so an unknown or invalid schedule fails here.
Json resolve_training(const Json& training);

// Resolved early-stopping settings ({} → defaults); throws SpecError.
Json resolve_early_stopping(const Json& settings);

// Resolved schedule spec with "unit"; throws SpecError. null stays null (constant rate).
Json resolve_schedule(const Json& schedule);

}  // namespace weft
