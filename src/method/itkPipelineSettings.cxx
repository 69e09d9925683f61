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
#include "itkPipelineSettings.h"

#include "itkMacro.h"
#include "itkReadableFile.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace itk
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

  /** Reads key into value if the section gives it (null counts as not given); says whether it did. */
  template <typename T>
  bool
  Read(const char * key, T & value)
  {
    m_Known.insert(key);
    const auto found = m_Object.find(key);
    if (found == m_Object.end() || found->is_null())
    {
      return false;
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
    return true;
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

/** The prediction type as a config states it: null where continuing a model trains that model's own. */
json
StatedPredictionType(const PretrainingStepSettings & pretraining)
{
  if (!pretraining.InitialModel.empty() && pretraining.PredictionTypeOfInitialModel)
  {
    return nullptr;
  }
  return pretraining.Training.PredictionType;
}

/** Block names as the config writes them: one comma-separated string (AdaptationSettings::ParseBlockList
 * reads it back). */
std::string
BlockList(const std::vector<std::string> & blocks)
{
  std::string list;
  for (const auto & block : blocks)
  {
    list += (list.empty() ? "" : ",") + block;
  }
  return list;
}
} // namespace

PipelineSettings
PipelineSettings::Read(const std::string & fileName)
{
  const std::string problem = ReadableFileProblem(fileName);
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

PipelineSettings
PipelineSettings::Parse(const std::string & text, const std::string & baseFolder)
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
  PipelineSettings c;
  Section          top(root, "top level");
  top.Read("output", c.Output);
  top.Read("slide", c.Slide);
  top.Read("spots", c.Spots);
  top.Read("pixel_size_um", c.PixelSize);
  top.Read("device", c.Device);
  top.Read("threads", c.Threads);
  top.Read("central_model", c.CentralModel);
  top.Read("ratios", c.Ratios);

  const json extractionObject = top.Object("extraction");
  Section    extraction(extractionObject, "extraction");
  extraction.Read("patch_um", c.Extraction.PatchMicrometres);
  extraction.Read("patch_px", c.Extraction.PatchPixels);
  extraction.Read("normalize", c.Extraction.NormalizationMethod);
  extraction.Read("target", c.Extraction.Target);
  extraction.Read("target_params", c.Extraction.TargetParameters);
  extraction.Read("genes", c.Extraction.Genes);
  extraction.Read("fraction", c.Extraction.Fraction);
  extraction.Read("seed", c.Extraction.Seed);
  extraction.Read("skip_partial", c.Extraction.SkipPartial);
  extraction.RejectUnknownKeys();

  const json pretrainingObject = top.Object("pretraining");
  Section    pretraining(pretrainingObject, "pretraining");
  // The recipe first: it gives every pretraining setting the keys below leave out.
  std::string recipe = "cpu";
  if (pretraining.Read("recipe", recipe))
  {
    if (recipe != "cpu" && recipe != "paper")
    {
      itkGenericExceptionMacro(<< "The pipeline config's pretraining.recipe is \"" << recipe
                               << "\": use \"cpu\" (the default, for a few CPU cores) or \"paper\" (for GPUs)");
    }
    c.Pretraining.Training = recipe == "paper" ? PretrainingSettings::PaperRecipe() : PretrainingSettings::CPURecipe();
  }
  pretraining.Read("tiles", c.Tiles);
  pretraining.Read("init", c.Pretraining.InitialModel);
  pretraining.Read("base_channels", c.Pretraining.Training.BaseChannels);
  pretraining.Read("scales", c.Pretraining.Training.NumberOfScales);
  pretraining.Read("layers_per_block", c.Pretraining.Training.LayersPerBlock);
  pretraining.Read("steps", c.Pretraining.Training.NumberOfSteps);
  pretraining.Read("batch", c.Pretraining.Training.BatchSize);
  pretraining.Read("grad_accum", c.Pretraining.Training.GradientAccumulation);
  pretraining.Read("lr", c.Pretraining.Training.LearningRate);
  pretraining.Read("warmup", c.Pretraining.Training.WarmupFraction);
  pretraining.Read("ema", c.Pretraining.Training.EmaDecay);
  pretraining.Read("snr_gamma", c.Pretraining.Training.SnrGamma);
  // Continuing a model trains what it predicts unless the config states a type (refused if another).
  c.Pretraining.PredictionTypeOfInitialModel = !pretraining.Read("prediction", c.Pretraining.Training.PredictionType);
  pretraining.Read("seed", c.Pretraining.Training.Seed);
  pretraining.Read("checkpoint_every", c.Pretraining.Training.CheckpointInterval);
  pretraining.RejectUnknownKeys();

  const json adaptationObject = top.Object("adaptation");
  Section    adaptation(adaptationObject, "adaptation");
  adaptation.Read("steps", c.Adaptation.Training.NumberOfSteps);
  adaptation.Read("batch", c.Adaptation.Training.BatchSize);
  adaptation.Read("grad_accum", c.Adaptation.Training.GradientAccumulation);
  adaptation.Read("lr", c.Adaptation.Training.LearningRate);
  adaptation.Read("cond_dropout", c.Adaptation.Training.ConditionDropout);
  adaptation.Read("gene_dropout", c.Adaptation.Training.GeneDropout);
  adaptation.Read("max_colour_difference", c.Adaptation.Training.MaximumColourDifference);
  std::string blockList;
  adaptation.Read("blocks", blockList);
  c.Adaptation.Training.Blocks = AdaptationSettings::ParseBlockList(blockList);
  adaptation.Read("embed_dim", c.Adaptation.Training.EmbeddingSize);
  adaptation.Read("seed", c.Adaptation.Training.Seed);
  adaptation.Read("checkpoint_every", c.Adaptation.Training.CheckpointInterval);
  adaptation.RejectUnknownKeys();

  const json synthesisObject = top.Object("synthesis");
  Section    synthesis(synthesisObject, "synthesis");
  synthesis.Read("steps", c.Synthesis.Steps);
  synthesis.Read("eta", c.Synthesis.Eta);
  synthesis.Read("guidance", c.Synthesis.Guidance);
  synthesis.Read("batch", c.Synthesis.Batch);
  synthesis.Read("sampler", c.Synthesis.Sampler);
  synthesis.Read("perturbation", c.Synthesis.Perturbation);
  synthesis.Read("gene_dropout", c.Synthesis.GeneDropout);
  synthesis.Read("seed", c.Synthesis.Seed);
  synthesis.RejectUnknownKeys();

  const json regressorObject = top.Object("regressor");
  Section    regressor(regressorObject, "regressor");
  regressor.Read("depth", c.Regressor.Training.Depth);
  regressor.Read("backbone", c.Regressor.Training.BackboneFileName);
  regressor.Read("steps", c.Regressor.Training.NumberOfSteps);
  regressor.Read("batch", c.Regressor.Training.BatchSize);
  regressor.Read("lr", c.Regressor.Training.LearningRate);
  regressor.Read("weight_decay", c.Regressor.Training.WeightDecay);
  regressor.Read("warmup", c.Regressor.Training.WarmupFraction);
  regressor.Read("loss", c.Regressor.Training.Loss);
  regressor.Read("synthetic_fraction", c.Regressor.Training.SyntheticFraction);
  regressor.Read("seed", c.Regressor.Training.Seed);
  regressor.Read("checkpoint_every", c.Regressor.Training.CheckpointInterval);
  regressor.RejectUnknownKeys();

  const json evaluationObject = top.Object("evaluation");
  Section    evaluation(evaluationObject, "evaluation");
  evaluation.Read("clusters", c.Clusters);
  evaluation.Read("map_genes", c.MapGenes);
  evaluation.RejectUnknownKeys();

  const json imputationObject = top.Object("imputation");
  Section    imputation(imputationObject, "imputation");
  imputation.Read("enabled", c.Imputation.Enabled);
  imputation.Read("steps", c.Imputation.Steps);
  imputation.Read("folds", c.Imputation.Folds);
  imputation.Read("seed", c.Imputation.Seed);
  imputation.Read("natural_images", c.Imputation.NaturalImages);
  imputation.RejectUnknownKeys();
  top.RejectUnknownKeys();

  // Inputs relative to the config's folder; the output too, so a config travels with its data.
  c.Slide = Resolve(c.Slide, baseFolder);
  c.Spots = Resolve(c.Spots, baseFolder);
  c.Output = Resolve(c.Output, baseFolder);
  c.CentralModel = Resolve(c.CentralModel, baseFolder);
  c.Pretraining.InitialModel = Resolve(c.Pretraining.InitialModel, baseFolder);
  c.Extraction.Target = Resolve(c.Extraction.Target, baseFolder);
  c.Extraction.TargetParameters = Resolve(c.Extraction.TargetParameters, baseFolder);
  c.Regressor.Training.BackboneFileName = Resolve(c.Regressor.Training.BackboneFileName, baseFolder);
  c.Imputation.NaturalImages = Resolve(c.Imputation.NaturalImages, baseFolder);

  c.Validate();
  return c;
}

PipelineSettings::PipelineSettings()
{
  Extraction.Fraction = 0.25; // the paper's: a quarter of the spots for adaptation and training
  // Pretraining as `c2l pretrain` does by default: the recipe measured on 2 CPU cores (the paper's
  // is for GPUs: the config's pretraining.recipe "paper"). Documentation/CentralModel.md.
  Pretraining.Training = PretrainingSettings::CPURecipe();
  // DPM-Solver++ at 20 steps, not the paper's DDIM at 250: 12x cheaper and, on the her2st central
  // model, samples nearer real tissue (Documentation/Diffusion.md, "Sampler accuracy and cost").
  Synthesis.Sampler = "dpmsolver++";
  Synthesis.Steps = 20;
  Synthesis.Guidance = 3.0;
  Synthesis.Batch = 32;
}

void
PipelineSettings::Validate() const
{
  if (Output.empty() || Slide.empty() || Spots.empty())
  {
    itkGenericExceptionMacro(<< "The pipeline settings need \"output\" (a folder), \"slide\" and \"spots\"");
  }
  RequireExisting(Slide, "slide");
  RequireExisting(Spots, "spots");
  RequireExisting(CentralModel, "central_model");
  RequireExisting(Pretraining.InitialModel, "pretraining.init");
  if (!CentralModel.empty() && !Pretraining.InitialModel.empty())
  {
    itkGenericExceptionMacro(
      << "Both central_model and pretraining.init are set: central_model adapts that model as it "
         "is (no pretraining), pretraining.init continues it on the slide's tiles first; "
         "keep one");
  }
  RequireExisting(Extraction.Target, "extraction.target");
  RequireExisting(Extraction.TargetParameters, "extraction.target_params");
  RequireExisting(Regressor.Training.BackboneFileName, "regressor.backbone");
  if (!(Extraction.Fraction > 0.0 && Extraction.Fraction < 1.0))
  {
    itkGenericExceptionMacro(<< "extraction.fraction must be in (0, 1): the spots for adaptation and training; "
                                "the rest are the test spots the evaluation needs");
  }
  if (Ratios.empty())
  {
    itkGenericExceptionMacro(<< "\"ratios\" must list at least one synthetic-to-real ratio (e.g. [1, 2, 5, 10])");
  }
  for (const double ratio : Ratios)
  {
    if (!(ratio > 0.0 && ratio <= 100.0))
    {
      itkGenericExceptionMacro(<< "Synthetic-to-real ratio " << ratio << " is outside (0, 100]");
    }
  }
  if (Extraction.PatchPixels < 16 || Extraction.PatchMicrometres <= 0.0)
  {
    itkGenericExceptionMacro(<< "extraction.patch_px must be at least 16 and patch_um positive");
  }
  if (const auto problem = Pretraining.Training.Problem(); !problem.empty())
  {
    itkGenericExceptionMacro(<< "The \"pretraining\" settings are not valid: " << problem);
  }
  if (const auto problem = Adaptation.Training.Problem(); !problem.empty())
  {
    itkGenericExceptionMacro(<< "The \"adaptation\" settings are not valid: " << problem);
  }
  if (const auto problem = Regressor.Training.Problem(); !problem.empty())
  {
    itkGenericExceptionMacro(<< "The \"regressor\" settings are not valid: " << problem);
  }
  if (Clusters == 0)
  {
    itkGenericExceptionMacro(<< "evaluation.clusters must be positive");
  }
  if (Imputation.Enabled)
  {
    if (Imputation.Steps == 0)
    {
      itkGenericExceptionMacro(<< "imputation.steps must be positive (or imputation.enabled false)");
    }
    if (Imputation.Folds < 2)
    {
      itkGenericExceptionMacro(<< "imputation.folds must be at least 2: the combination's weights are fitted on "
                                  "predictions of each fold by models trained on the others");
    }
    if (!Imputation.NaturalImages.empty() && !std::filesystem::is_directory(Imputation.NaturalImages))
    {
      itkGenericExceptionMacro(<< "imputation.natural_images " << Imputation.NaturalImages
                               << " is not a folder; give a folder of photographs or leave it out");
    }
  }
}

std::string
PipelineSettings::ToJSON() const
{
  json root{ { "output", Output },
             { "slide", Slide },
             { "spots", Spots },
             { "pixel_size_um", PixelSize },
             { "device", Device },
             { "threads", Threads },
             { "central_model", CentralModel },
             { "ratios", Ratios } };
  root["extraction"] = { { "patch_um", Extraction.PatchMicrometres },
                         { "patch_px", Extraction.PatchPixels },
                         { "normalize", Extraction.NormalizationMethod },
                         { "target", Extraction.Target },
                         { "target_params", Extraction.TargetParameters },
                         { "genes", Extraction.Genes },
                         { "fraction", Extraction.Fraction },
                         { "seed", Extraction.Seed },
                         { "skip_partial", Extraction.SkipPartial } };
  root["pretraining"] = { { "tiles", Tiles },
                          { "init", Pretraining.InitialModel },
                          { "base_channels", Pretraining.Training.BaseChannels },
                          { "scales", Pretraining.Training.NumberOfScales },
                          { "layers_per_block", Pretraining.Training.LayersPerBlock },
                          { "steps", Pretraining.Training.NumberOfSteps },
                          { "batch", Pretraining.Training.BatchSize },
                          { "grad_accum", Pretraining.Training.GradientAccumulation },
                          { "lr", Pretraining.Training.LearningRate },
                          { "warmup", Pretraining.Training.WarmupFraction },
                          { "ema", Pretraining.Training.EmaDecay },
                          { "snr_gamma", Pretraining.Training.SnrGamma },
                          { "prediction", StatedPredictionType(Pretraining) },
                          { "seed", Pretraining.Training.Seed },
                          { "checkpoint_every", Pretraining.Training.CheckpointInterval } };
  root["adaptation"] = { { "steps", Adaptation.Training.NumberOfSteps },
                         { "batch", Adaptation.Training.BatchSize },
                         { "grad_accum", Adaptation.Training.GradientAccumulation },
                         { "lr", Adaptation.Training.LearningRate },
                         { "cond_dropout", Adaptation.Training.ConditionDropout },
                         { "gene_dropout", Adaptation.Training.GeneDropout },
                         { "max_colour_difference", Adaptation.Training.MaximumColourDifference },
                         { "blocks", BlockList(Adaptation.Training.Blocks) },
                         { "embed_dim", Adaptation.Training.EmbeddingSize },
                         { "seed", Adaptation.Training.Seed },
                         { "checkpoint_every", Adaptation.Training.CheckpointInterval } };
  root["synthesis"] = { { "steps", Synthesis.Steps },
                        { "eta", Synthesis.Eta },
                        { "guidance", Synthesis.Guidance },
                        { "batch", Synthesis.Batch },
                        { "sampler", Synthesis.Sampler },
                        { "perturbation", Synthesis.Perturbation },
                        { "gene_dropout", Synthesis.GeneDropout },
                        { "seed", Synthesis.Seed } };
  root["regressor"] = { { "depth", Regressor.Training.Depth },
                        { "backbone", Regressor.Training.BackboneFileName },
                        { "steps", Regressor.Training.NumberOfSteps },
                        { "batch", Regressor.Training.BatchSize },
                        { "lr", Regressor.Training.LearningRate },
                        { "weight_decay", Regressor.Training.WeightDecay },
                        { "warmup", Regressor.Training.WarmupFraction },
                        { "loss", Regressor.Training.Loss },
                        { "synthetic_fraction", Regressor.Training.SyntheticFraction },
                        { "seed", Regressor.Training.Seed },
                        { "checkpoint_every", Regressor.Training.CheckpointInterval } };
  root["evaluation"] = { { "clusters", Clusters }, { "map_genes", MapGenes } };
  root["imputation"] = { { "enabled", Imputation.Enabled },
                         { "steps", Imputation.Steps },
                         { "folds", Imputation.Folds },
                         { "seed", Imputation.Seed },
                         { "natural_images", Imputation.NaturalImages } };
  return root.dump(2);
}

} // end namespace itk
