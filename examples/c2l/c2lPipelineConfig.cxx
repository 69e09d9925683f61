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
#include "c2lPipelineConfig.h"

#include "itkMacro.h"
#include "itkReadableFile.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace c2l
{
namespace
{
using nlohmann::json;

/** One object of the config: typed reads with the default kept when a key is absent, and a check
 * that no key was left unread (a typo is an error, not a silent default). */
class Section
{
public:
  Section(const json & object, std::string name)
    : m_Object(object)
    , m_Name(std::move(name))
  {
    if (!m_Object.is_object())
    {
      itkGenericExceptionMacro(<< "The pipeline config's " << m_Name << " must be a JSON object");
    }
  }

  template <typename T>
  void
  Read(const char * key, T & value)
  {
    m_Known.insert(key);
    const auto found = m_Object.find(key);
    if (found == m_Object.end() || found->is_null())
    {
      return;
    }
    try
    {
      value = found->get<T>();
    }
    catch (const json::exception &)
    {
      itkGenericExceptionMacro(<< "The pipeline config's " << m_Name << "." << key << " has the wrong type ("
                               << found->dump() << ")");
    }
  }

  /** A sub-object ("{}" when absent). */
  json
  Object(const char * key)
  {
    m_Known.insert(key);
    const auto found = m_Object.find(key);
    return found == m_Object.end() || found->is_null() ? json::object() : *found;
  }

  void
  RejectUnknownKeys() const
  {
    for (const auto & item : m_Object.items())
    {
      if (m_Known.count(item.key()) == 0)
      {
        std::string known;
        for (const auto & k : m_Known)
        {
          known += (known.empty() ? "" : ", ") + k;
        }
        itkGenericExceptionMacro(<< "Unknown key \"" << item.key() << "\" in the pipeline config's " << m_Name
                                 << " (known: " << known << ")");
      }
    }
  }

private:
  const json &          m_Object;
  std::string           m_Name;
  std::set<std::string> m_Known;
};

std::string
Resolve(const std::string & path, const std::string & base)
{
  if (path.empty() || std::filesystem::path(path).is_absolute() || base.empty())
  {
    return path;
  }
  return (std::filesystem::path(base) / path).lexically_normal().string();
}

void
RequireExisting(const std::string & path, const char * what)
{
  if (!path.empty() && !std::filesystem::exists(path))
  {
    itkGenericExceptionMacro(<< "The pipeline config's " << what << " " << path << " does not exist");
  }
}
} // namespace

PipelineConfig
PipelineConfig::Read(const std::string & fileName)
{
  const std::string problem = itk::ReadableFileProblem(fileName);
  if (!problem.empty())
  {
    itkGenericExceptionMacro(<< "Cannot read the pipeline config " << fileName << ": " << problem);
  }
  std::ifstream     in(fileName);
  std::stringstream text;
  text << in.rdbuf();
  const auto folder = std::filesystem::absolute(fileName).parent_path().string();
  return Parse(text.str(), folder);
}

PipelineConfig
PipelineConfig::Parse(const std::string & text, const std::string & baseFolder)
{
  json root;
  try
  {
    root = json::parse(text);
  }
  catch (const json::exception & e)
  {
    itkGenericExceptionMacro(<< "The pipeline config is not valid JSON: " << e.what());
  }
  PipelineConfig c;
  Section        top(root, "top level");
  top.Read("output", c.output);
  top.Read("slide", c.slide);
  top.Read("spots", c.spots);
  top.Read("pixel_size_um", c.pixelSize);
  top.Read("device", c.device);
  top.Read("threads", c.threads);
  top.Read("central_model", c.centralModel);
  top.Read("ratios", c.ratios);

  const json extractionObject = top.Object("extraction");
  Section    extraction(extractionObject, "extraction");
  extraction.Read("patch_um", c.extraction.patchMicrometres);
  extraction.Read("patch_px", c.extraction.patchPixels);
  extraction.Read("normalize", c.extraction.normalize);
  extraction.Read("target", c.extraction.target);
  extraction.Read("target_params", c.extraction.targetParameters);
  extraction.Read("genes", c.extraction.genes);
  c.extraction.fraction = 0.25; // the paper's: a quarter of the spots for adaptation and training
  extraction.Read("fraction", c.extraction.fraction);
  extraction.Read("seed", c.extraction.seed);
  extraction.Read("skip_partial", c.extraction.skipPartial);
  extraction.RejectUnknownKeys();

  const json pretrainingObject = top.Object("pretraining");
  Section    pretraining(pretrainingObject, "pretraining");
  pretraining.Read("tiles", c.tiles);
  pretraining.Read("base_channels", c.pretraining.baseChannels);
  pretraining.Read("scales", c.pretraining.scales);
  pretraining.Read("layers_per_block", c.pretraining.layers);
  pretraining.Read("steps", c.pretraining.steps);
  pretraining.Read("batch", c.pretraining.batch);
  pretraining.Read("grad_accum", c.pretraining.gradAccum);
  pretraining.Read("lr", c.pretraining.lr);
  pretraining.Read("warmup", c.pretraining.warmup);
  pretraining.Read("ema", c.pretraining.ema);
  pretraining.Read("snr_gamma", c.pretraining.snrGamma);
  pretraining.Read("prediction", c.pretraining.prediction);
  pretraining.Read("seed", c.pretraining.seed);
  pretraining.Read("checkpoint_every", c.pretraining.checkpointEvery);
  pretraining.RejectUnknownKeys();

  const json adaptationObject = top.Object("adaptation");
  Section    adaptation(adaptationObject, "adaptation");
  adaptation.Read("steps", c.adaptation.steps);
  adaptation.Read("batch", c.adaptation.batch);
  adaptation.Read("grad_accum", c.adaptation.gradientAccumulation);
  adaptation.Read("lr", c.adaptation.learningRate);
  adaptation.Read("cond_dropout", c.adaptation.conditionDropout);
  adaptation.Read("gene_dropout", c.adaptation.geneDropout);
  adaptation.Read("blocks", c.adaptation.blocks);
  adaptation.Read("embed_dim", c.adaptation.embeddingSize);
  adaptation.Read("seed", c.adaptation.seed);
  adaptation.Read("checkpoint_every", c.adaptation.checkpointEvery);
  adaptation.RejectUnknownKeys();

  const json synthesisObject = top.Object("synthesis");
  Section    synthesis(synthesisObject, "synthesis");
  // DPM-Solver++ at 20 steps, not the paper's DDIM at 250: 12x cheaper and, on the her2st central
  // model, samples nearer real tissue (Documentation/Diffusion.md, "Sampler accuracy and cost").
  c.synthesis.sampler = "dpmsolver++";
  c.synthesis.steps = 20;
  c.synthesis.guidance = 3.0;
  c.synthesis.batch = 32;
  synthesis.Read("steps", c.synthesis.steps);
  synthesis.Read("eta", c.synthesis.eta);
  synthesis.Read("guidance", c.synthesis.guidance);
  synthesis.Read("batch", c.synthesis.batch);
  synthesis.Read("sampler", c.synthesis.sampler);
  synthesis.Read("perturbation", c.synthesis.perturbation);
  synthesis.Read("gene_dropout", c.synthesis.geneDropout);
  synthesis.Read("seed", c.synthesis.seed);
  synthesis.RejectUnknownKeys();

  const json regressorObject = top.Object("regressor");
  Section    regressor(regressorObject, "regressor");
  regressor.Read("depth", c.regressor.depth);
  regressor.Read("backbone", c.regressor.backbone);
  regressor.Read("steps", c.regressor.steps);
  regressor.Read("batch", c.regressor.batch);
  regressor.Read("lr", c.regressor.learningRate);
  regressor.Read("weight_decay", c.regressor.weightDecay);
  regressor.Read("warmup", c.regressor.warmup);
  regressor.Read("loss", c.regressor.loss);
  regressor.Read("synthetic_fraction", c.regressor.syntheticFraction);
  regressor.Read("seed", c.regressor.seed);
  regressor.Read("checkpoint_every", c.regressor.checkpointEvery);
  regressor.RejectUnknownKeys();

  const json evaluationObject = top.Object("evaluation");
  Section    evaluation(evaluationObject, "evaluation");
  evaluation.Read("clusters", c.clusters);
  evaluation.Read("map_genes", c.mapGenes);
  evaluation.RejectUnknownKeys();
  top.RejectUnknownKeys();

  // Inputs relative to the config's folder; the output too, so a config travels with its data.
  c.slide = Resolve(c.slide, baseFolder);
  c.spots = Resolve(c.spots, baseFolder);
  c.output = Resolve(c.output, baseFolder);
  c.centralModel = Resolve(c.centralModel, baseFolder);
  c.extraction.target = Resolve(c.extraction.target, baseFolder);
  c.extraction.targetParameters = Resolve(c.extraction.targetParameters, baseFolder);
  c.regressor.backbone = Resolve(c.regressor.backbone, baseFolder);

  if (c.output.empty() || c.slide.empty() || c.spots.empty())
  {
    itkGenericExceptionMacro(<< "The pipeline config needs \"output\" (a folder), \"slide\" and \"spots\"");
  }
  RequireExisting(c.slide, "slide");
  RequireExisting(c.spots, "spots");
  RequireExisting(c.centralModel, "central_model");
  RequireExisting(c.extraction.target, "extraction.target");
  RequireExisting(c.extraction.targetParameters, "extraction.target_params");
  RequireExisting(c.regressor.backbone, "regressor.backbone");
  if (!(c.extraction.fraction > 0.0 && c.extraction.fraction < 1.0))
  {
    itkGenericExceptionMacro(<< "extraction.fraction must be in (0, 1): the spots for adaptation and training; "
                                "the rest are the test spots the evaluation needs");
  }
  if (c.ratios.empty())
  {
    itkGenericExceptionMacro(<< "\"ratios\" must list at least one synthetic-to-real ratio (e.g. [1, 2, 5, 10])");
  }
  for (const double ratio : c.ratios)
  {
    if (!(ratio > 0.0 && ratio <= 100.0))
    {
      itkGenericExceptionMacro(<< "Synthetic-to-real ratio " << ratio << " is outside (0, 100]");
    }
  }
  if (c.extraction.patchPixels < 16 || c.extraction.patchMicrometres <= 0.0)
  {
    itkGenericExceptionMacro(<< "extraction.patch_px must be at least 16 and patch_um positive");
  }
  if (c.clusters == 0)
  {
    itkGenericExceptionMacro(<< "evaluation.clusters must be positive");
  }
  return c;
}

std::string
PipelineConfig::ToJSON() const
{
  json root{ { "output", output },
             { "slide", slide },
             { "spots", spots },
             { "pixel_size_um", pixelSize },
             { "device", device },
             { "threads", threads },
             { "central_model", centralModel },
             { "ratios", ratios } };
  root["extraction"] = { { "patch_um", extraction.patchMicrometres },
                         { "patch_px", extraction.patchPixels },
                         { "normalize", extraction.normalize },
                         { "target", extraction.target },
                         { "target_params", extraction.targetParameters },
                         { "genes", extraction.genes },
                         { "fraction", extraction.fraction },
                         { "seed", extraction.seed },
                         { "skip_partial", extraction.skipPartial } };
  root["pretraining"] = { { "tiles", tiles },
                          { "base_channels", pretraining.baseChannels },
                          { "scales", pretraining.scales },
                          { "layers_per_block", pretraining.layers },
                          { "steps", pretraining.steps },
                          { "batch", pretraining.batch },
                          { "grad_accum", pretraining.gradAccum },
                          { "lr", pretraining.lr },
                          { "warmup", pretraining.warmup },
                          { "ema", pretraining.ema },
                          { "snr_gamma", pretraining.snrGamma },
                          { "prediction", pretraining.prediction },
                          { "seed", pretraining.seed },
                          { "checkpoint_every", pretraining.checkpointEvery } };
  root["adaptation"] = { { "steps", adaptation.steps },
                         { "batch", adaptation.batch },
                         { "grad_accum", adaptation.gradientAccumulation },
                         { "lr", adaptation.learningRate },
                         { "cond_dropout", adaptation.conditionDropout },
                         { "gene_dropout", adaptation.geneDropout },
                         { "blocks", adaptation.blocks },
                         { "embed_dim", adaptation.embeddingSize },
                         { "seed", adaptation.seed },
                         { "checkpoint_every", adaptation.checkpointEvery } };
  root["synthesis"] = { { "steps", synthesis.steps },
                        { "eta", synthesis.eta },
                        { "guidance", synthesis.guidance },
                        { "batch", synthesis.batch },
                        { "sampler", synthesis.sampler },
                        { "perturbation", synthesis.perturbation },
                        { "gene_dropout", synthesis.geneDropout },
                        { "seed", synthesis.seed } };
  root["regressor"] = { { "depth", regressor.depth },
                        { "backbone", regressor.backbone },
                        { "steps", regressor.steps },
                        { "batch", regressor.batch },
                        { "lr", regressor.learningRate },
                        { "weight_decay", regressor.weightDecay },
                        { "warmup", regressor.warmup },
                        { "loss", regressor.loss },
                        { "synthetic_fraction", regressor.syntheticFraction },
                        { "seed", regressor.seed },
                        { "checkpoint_every", regressor.checkpointEvery } };
  root["evaluation"] = { { "clusters", clusters }, { "map_genes", mapGenes } };
  return root.dump(2);
}

} // namespace c2l
