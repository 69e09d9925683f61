#!/usr/bin/env python3
"""C2L-ST from Python, step by step through the module's classes (no files between the steps).

    spatial_transcriptomics_workflow.py SLIDE SPOTS CENTRAL_MODEL OUTPUT_FOLDER [--ratio R]
    spatial_transcriptomics_workflow.py --synthetic OUTPUT_FOLDER

1. Patches at the spots, the genes preprocessed, the spots split into training and held-out ones.
2. The central diffusion model: loaded from CENTRAL_MODEL (c2l pretrain, or DiffusionPretrainFilter
   on tissue tiles); with --synthetic, a tiny one pretrained here on the slide's patches.
3. Local adaptation: a gene-conditioned modulation of the central model on the training spots.
4. Synthesis: one patch per training profile, resampled to the synthetic-to-real ratio.
5. Two regressors, on the real pairs alone and on real + synthetic ones, and their errors at the
   held-out spots.

--synthetic writes a small synthetic slide and runs tiny settings (a minute on two cores: the
numbers show that the method runs, not how well it does). The paper's settings are the defaults.
SpatialTranscriptomicsPipeline runs the same method, with checkpoints and a report, from one
settings object (as c2l run does).
"""
import argparse
import os

import itk

PatchStack = itk.Image[itk.RGBPixel[itk.UC], 3]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="*", help="SLIDE SPOTS CENTRAL_MODEL, then OUTPUT_FOLDER")
    parser.add_argument("--synthetic", action="store_true", help="a synthetic slide and tiny settings")
    parser.add_argument("--ratio", type=float, default=2.0, help="synthetic-to-real ratio (default 2)")
    arguments = parser.parse_args()
    # An application's process-wide choice (as c2l makes it): keep freed memory for reuse, so that
    # training steps do not fault their activations in again (1.5-2.5x faster on 2 cores).
    itk.ProcessMemory.RetainFreedMemoryForReuse()
    tiny = arguments.synthetic
    if len(arguments.inputs) != (1 if tiny else 4):
        parser.error("give SLIDE SPOTS CENTRAL_MODEL OUTPUT_FOLDER, or --synthetic OUTPUT_FOLDER")
    output = arguments.inputs[-1]
    if os.path.exists(output) and os.listdir(output):
        parser.error(f"{output} is not empty: give a new folder (nothing there is overwritten)")
    os.makedirs(output, exist_ok=True)
    if tiny:
        slide_settings = itk.SyntheticSlideSettings()
        slide_settings.NumberOfSpots = 60
        slide_settings.Seed = 3
        itk.SyntheticSlide.Write(itk.SyntheticSlide.Generate(slide_settings), os.path.join(output, "slide"))
        slide, spots = os.path.join(output, "slide", "image.tif"), os.path.join(output, "slide", "outs")
    else:
        slide, spots = arguments.inputs[0], arguments.inputs[1]
    threads = 1 if tiny else 0  # 0: every core

    # 1. The paired dataset, held in memory (PatchDatasetExtractor is c2l extract's step).
    extraction = itk.ExtractionStepSettings()
    extraction.Slide, extraction.Spots = slide, spots
    extraction.Fraction = 0.5  # half the spots train, half are held out
    if tiny:
        extraction.PatchPixels, extraction.Genes, extraction.Seed = 16, 12, 1
    extract = itk.PatchDatasetExtractor.New()
    extract.SetSettings(extraction)
    extract.Update()
    dataset = extract.GetOutput()
    print(extract.GetSummary().strip())

    # 2. The central model.
    if tiny:
        pretraining = itk.PretrainingSettings()
        pretraining.ImageSize = 16
        pretraining.BaseChannels, pretraining.NumberOfScales, pretraining.LayersPerBlock = 8, 2, 1
        pretraining.NumberOfSteps, pretraining.BatchSize = 4, 4
        pretraining.CheckpointFileName = os.path.join(output, "central.checkpoint")
        pretrain = itk.DiffusionPretrainFilter.New()
        pretrain.AddPatches(dataset.GetPatches())
        pretrain.SetTrainingSettings(pretraining)
        pretrain.SetNumberOfTorchThreads(threads)
        pretrain.SetOutputFileName(os.path.join(output, "central.safetensors"))  # with its checkpoint
        pretrain.Update()
        central = pretrain.GetOutput()
    else:
        central = itk.DiffusionModel.New()
        central.Load(arguments.inputs[2])
    print(f"central model: {central.GetNumberOfUNetParameters()} U-Net parameters, "
          f"{central.GetImageSize()} px patches")

    # 3. Local adaptation on the training spots (the dataset's split).
    adaptation = itk.AdaptationSettings()
    if tiny:
        adaptation.NumberOfSteps, adaptation.BatchSize = 4, 4
        adaptation.GradientAccumulation, adaptation.EmbeddingSize = 1, 8
    adapt = itk.GeneConditionedAdaptFilter.New()
    adapt.SetCentralModel(central)
    adapt.SetDataset(dataset)
    adapt.SetTrainingSettings(adaptation)
    adapt.SetNumberOfTorchThreads(threads)
    adapt.SetOutputFileName(os.path.join(output, "local.safetensors"))
    adapt.AddObserver(itk.ProgressEvent(), lambda: print(f"\radapting {100 * adapt.GetProgress():5.1f} %", end=""))
    adapt.Update()
    local = adapt.GetOutput()
    print(f"\nlocal model: {local.GetNumberOfAdapterParameters()} trained parameters over "
          f"{local.GetNumberOfGenes()} genes")

    # 4. Synthetic pairs: the training profiles resampled to the ratio, one patch each.
    profiles = itk.ConditioningProfiles.Resample(dataset.GetSpots(), arguments.ratio, 0)
    synthesize = itk.DiffusionSampleFilter[PatchStack].New()
    synthesize.SetModel(local)
    synthesize.SetConditioningProfiles(profiles.Expression)
    synthesize.SetNumberOfSamples(profiles.Expression.rows())
    synthesize.SetGuidanceScale(3.0)  # the paper's classifier-free guidance
    synthesize.SetSampler("dpmsolver++")
    synthesize.SetNumberOfSteps(2 if tiny else 20)
    synthesize.SetNumberOfTorchThreads(threads)
    synthesize.Update()
    synthetic = itk.SpotPatchDataset.FromSynthesis(synthesize.GetOutput(), profiles, dataset.GetSpots(),
                                                   local.GetGenePreprocessing())
    synthetic.Write(os.path.join(output, "synthetic.h5"))
    print(f"synthetic pairs: {synthetic.GetNumberOfPatches()}")

    # 5. Regressors on real pairs alone and on real + synthetic pairs, at the held-out spots.
    regression = itk.RegressorTrainingSettings()
    if tiny:
        regression.Depth, regression.NumberOfSteps, regression.BatchSize = 18, 3, 8
    for name, extra in (("real only", None), ("real + synthetic", synthetic)):
        train = itk.GeneRegressorTrainFilter.New()
        train.SetRealDataset(dataset)
        if extra is not None:
            train.SetSyntheticDataset(extra)
        train.SetTrainingSettings(regression)
        train.SetNumberOfTorchThreads(threads)
        train.Update()
        regressor = train.GetOutput()
        predictions = itk.SpotPredictions.Predict(regressor, dataset, "test", False, 64, "cpu", threads)
        truth = predictions.TruthFrom(dataset, regressor.GetGenePreprocessing())
        metrics = predictions.Evaluate(truth)
        print(f"{name}: MAE {metrics.MeanAbsoluteError:.4f}, mean Pearson {metrics.MeanPearson:.3f} "
              f"at {len(predictions.SpotIds)} held-out spots")


if __name__ == "__main__":
    main()
