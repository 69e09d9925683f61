/*=========================================================================
 *
 *  Copyright NumFOCUS
 *
 *  Licensed under the Apache License, Version 2.0 (the "License");
 *  you may not use this file except in compliance with the License.
 *  You may obtain a copy of the License at
 *
 *         http://www.apache.org/licenses/LICENSE-2.0.txt
 *
 *  Unless required by applicable law or agreed to in writing, software
 *  distributed under the License is distributed on an "AS IS" BASIS,
 *  WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 *  See the License for the specific language governing permissions and
 *  limitations under the License.
 *
 *=========================================================================*/
#ifndef c2lTinyPipeline_h
#define c2lTinyPipeline_h

// The smallest c2l run configuration that still goes through every stage (a 60-spot synthetic
// slide, 16 px patches, a few steps of each training): what the pipeline and fault tests run.

#include <nlohmann/json.hpp>

#include <string>

namespace c2lTest
{
/** The config, reading the slide written by `c2l synth-slide --spots 60 --seed 3 --out <slide>`
 * (as slide/image.tif and slide/outs beside the config unless \p slide says where) and writing
 * to \p output. */
inline nlohmann::json
TinyPipelineConfig(const std::string & output = "run", const std::string & slide = "slide")
{
  return { { "output", output },
           { "slide", slide + "/image.tif" },
           { "spots", slide + "/outs" },
           { "threads", 1 },
           { "ratios", { 1, 2 } },
           { "extraction", { { "patch_px", 16 }, { "genes", 12 }, { "fraction", 0.5 }, { "seed", 1 } } },
           { "pretraining",
             { { "tiles", 40 },
               { "base_channels", 8 },
               { "scales", 2 },
               { "layers_per_block", 1 },
               { "steps", 4 },
               { "batch", 4 } } },
           { "adaptation", { { "steps", 4 }, { "batch", 4 }, { "grad_accum", 1 }, { "embed_dim", 8 } } },
           { "synthesis", { { "steps", 2 }, { "batch", 16 } } },
           { "regressor", { { "depth", 18 }, { "steps", 3 }, { "batch", 8 } } },
           { "evaluation", { { "clusters", 2 }, { "map_genes", 1 } } },
           { "imputation", { { "steps", 20 }, { "folds", 2 } } } };
}
} // namespace c2lTest

#endif
