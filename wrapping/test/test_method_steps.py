"""Every step of the method through the wrapped classes, each equal to what c2l's command gives.

Usage: test_method_steps.py C2L (the c2l program of the same build)

On a synthetic slide (60 spots) with tiny models, the Python side uses the classes a Python user
has (MethodStepRunner for extraction from files; then, in memory, DiffusionPretrainFilter,
GeneConditionedAdaptFilter, DiffusionSampleFilter with ConditioningProfiles, GeneRegressorTrainFilter,
GeneRegressorFilter and SpotPredictions) and c2l runs the same step on the same input with the same
settings. Training is deterministic at one thread, so each result must be the same, bit for bit
where both are kept in full (datasets, patches) and to the TSV's printed digits for predictions.
"""
import csv
import os
import subprocess
import sys
import tempfile

import numpy as np
import itk

PatchStack = itk.Image[itk.RGBPixel[itk.UC], 3]


def c2l(program, *arguments):
    completed = subprocess.run([program, *arguments], capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"c2l {' '.join(arguments)} failed:\n{completed.stdout}\n{completed.stderr}")
    return completed.stdout


def stack_array(stack):
    return itk.array_from_image(stack)  # (patch, y, x, RGB)


def check(failures, name, ok, *details):
    print(f"{name}: {'ok' if ok else 'FAILED'}", *details)
    return failures + (not ok)


def main(program):
    folder = tempfile.mkdtemp(prefix="st-python-steps-")
    path = lambda name: os.path.join(folder, name)
    failures = 0
    c2l(program, "synth-slide", "--spots", "60", "--seed", "3", "--out", path("slide"))

    # Extraction from files: MethodStepRunner, as c2l extract.
    c2l(program, "extract", "--slide", path("slide/image.tif"), "--spots", path("slide/outs"), "--patch-px", "16",
        "--genes", "12", "--fraction", "0.5", "--seed", "1", "--out", path("data.h5"))
    extraction = itk.ExtractionStepSettings()
    extraction.Slide = path("slide/image.tif")
    extraction.Spots = path("slide/outs")
    extraction.PatchPixels = 16
    extraction.Genes = 12
    extraction.Fraction = 0.5
    extraction.Seed = 1
    extraction.Output = path("data_python.h5")
    runner = itk.MethodStepRunner.New()
    runner.Extract(extraction)
    dataset = itk.SpotPatchDataset.Read(path("data.h5"))
    from_python = itk.SpotPatchDataset.Read(path("data_python.h5"))
    spots, python_spots = dataset.GetSpots(), from_python.GetSpots()
    failures = check(failures, "extract: the same patches, split and expression",
                     np.array_equal(stack_array(dataset.GetPatches()), stack_array(from_python.GetPatches()))
                     and list(spots.GetSplit()) == list(python_spots.GetSplit())
                     and list(spots.GetExpression()) == list(python_spots.GetExpression()),
                     dataset.GetNumberOfPatches(), "patches")

    # Pretraining: DiffusionPretrainFilter in memory against c2l pretrain (from the paper's recipe,
    # the settings type's defaults; c2l's own default is the CPU recipe).
    c2l(program, "pretrain", "--recipe", "paper", "--data", path("data.h5"), "--out", path("central.safetensors"),
        "--base-channels", "8",
        "--scales", "2", "--layers-per-block", "1", "--steps", "4", "--batch", "4", "--threads", "1")
    pretraining = itk.PretrainingSettings()
    pretraining.ImageSize = 16
    pretraining.BaseChannels = 8
    pretraining.NumberOfScales = 2
    pretraining.LayersPerBlock = 1
    pretraining.NumberOfSteps = 4
    pretraining.BatchSize = 4
    pretraining.CheckpointFileName = path("central_python.safetensors.checkpoint")
    pretrain = itk.DiffusionPretrainFilter.New()
    pretrain.AddPatches(dataset.GetPatches())
    pretrain.SetTrainingSettings(pretraining)
    pretrain.SetNumberOfTorchThreads(1)
    pretrain.SetOutputFileName(path("central_python.safetensors"))
    pretrain.Update()
    central = pretrain.GetOutput()
    failures = check(failures, "pretrain: trained every step", pretrain.GetStepsTrained() == 4
                     and np.isfinite(pretrain.GetFinalLoss()), pretrain.GetFinalLoss())

    # Sampling: DiffusionSampleFilter on the Python-trained model and on c2l's (same seed and steps).
    def central_samples(model):
        sample = itk.DiffusionSampleFilter[PatchStack].New()
        sample.SetModel(model)
        sample.SetNumberOfSamples(4)
        sample.SetNumberOfSteps(2)
        sample.SetSeed(5)
        sample.SetNumberOfTorchThreads(1)
        sample.Update()
        return stack_array(sample.GetOutput())

    c2l_central = itk.DiffusionModel.New()
    c2l_central.Load(path("central.safetensors"))
    from_python, from_c2l = central_samples(central), central_samples(c2l_central)
    failures = check(failures, "pretrain + sample: c2l's model draws the same patches",
                     from_python.shape == (4, 16, 16, 3) and np.array_equal(from_python, from_c2l)
                     and from_python.std() > 0, from_python.shape)

    # Adaptation: GeneConditionedAdaptFilter on the in-memory central model against c2l adapt.
    c2l(program, "adapt", "--central", path("central.safetensors"), "--data", path("data.h5"), "--out",
        path("local.safetensors"), "--steps", "4", "--batch", "4", "--grad-accum", "1", "--embed-dim", "8", "--threads", "1")
    adaptation = itk.AdaptationSettings()
    adaptation.NumberOfSteps = 4
    adaptation.BatchSize = 4
    adaptation.GradientAccumulation = 1
    adaptation.EmbeddingSize = 8
    adapt = itk.GeneConditionedAdaptFilter.New()
    adapt.SetCentralModel(central)
    adapt.SetDataset(dataset)
    adapt.SetTrainingSettings(adaptation)
    adapt.SetNumberOfTorchThreads(1)
    adapt.SetOutputFileName(path("local_python.safetensors"))
    adapt.Update()
    local = adapt.GetOutput()
    failures = check(failures, "adapt: a local model over the dataset's genes",
                     local.IsConditional() and local.GetNumberOfGenes() == 12
                     and adapt.GetNumberOfTrainingSpots() == len(spots.GetSpotIndices(True)),
                     local.GetNumberOfGenes(), "genes,", adapt.GetNumberOfTrainingSpots(), "training spots")

    # Synthesis: the training profiles resampled at ratio 2, against c2l sample --expression.
    c2l(program, "sample", "--model", path("local.safetensors"), "--expression", path("data.h5"), "--ratio", "2",
        "--steps", "2", "--seed", "7", "--out", path("synthetic.h5"), "--threads", "1")
    profiles = itk.ConditioningProfiles.Resample(spots, 2.0, 7)
    synthesize = itk.DiffusionSampleFilter[PatchStack].New()
    synthesize.SetModel(local)
    synthesize.SetConditioningProfiles(profiles.Expression)
    synthesize.SetNumberOfSamples(profiles.Expression.rows())
    synthesize.SetNumberOfSteps(2)
    synthesize.SetGuidanceScale(3.0)  # c2l's default for local models (the paper's)
    synthesize.SetSeed(7)
    synthesize.SetNumberOfTorchThreads(1)
    synthesize.Update()
    synthetic = itk.SpotPatchDataset.Read(path("synthetic.h5"))
    synthetic_patches = stack_array(synthesize.GetOutput())
    failures = check(failures, "adapt + synthesize: the same synthetic pairs as c2l's",
                     synthetic_patches.shape[0] == 2 * len(spots.GetSpotIndices(True))
                     and np.array_equal(synthetic_patches, stack_array(synthetic.GetPatches()))
                     and np.allclose(itk.array_from_vnl_matrix(profiles.Expression).ravel(),
                                     np.array(synthetic.GetSpots().GetExpression()), rtol=0, atol=0),
                     synthetic_patches.shape)

    # The regressor on real + synthetic pairs: GeneRegressorTrainFilter against c2l train-regressor,
    # then predictions at the held-out spots against c2l predict's table.
    c2l(program, "train-regressor", "--data", path("data.h5"), "--synthetic", path("synthetic.h5"), "--depth", "18",
        "--steps", "3", "--batch", "8", "--out", path("regressor.safetensors"), "--threads", "1")
    c2l(program, "predict", "--model", path("regressor.safetensors"), "--data", path("data.h5"), "--out",
        path("predictions.tsv"), "--threads", "1")
    regression = itk.RegressorTrainingSettings()
    regression.Depth = 18
    regression.NumberOfSteps = 3
    regression.BatchSize = 8
    train = itk.GeneRegressorTrainFilter.New()
    train.SetRealDataset(dataset)
    train.SetSyntheticDataset(synthetic)
    train.SetTrainingSettings(regression)
    train.SetNumberOfTorchThreads(1)
    train.Update()
    regressor = train.GetOutput()
    predictions = itk.SpotPredictions.Predict(regressor, dataset, "test", False, 64, "cpu", 1)
    with open(path("predictions.tsv")) as table:
        rows = list(csv.reader(table, delimiter="\t"))
    c2l_values = np.array([[float(v) for v in row[1:]] for row in rows[1:]])
    python_values = itk.array_from_vnl_matrix(predictions.Values)
    failures = check(failures, "train + predict: c2l's predictions at the held-out spots",
                     [row[0] for row in rows[1:]] == list(predictions.SpotIds) and rows[0][1:] == list(predictions.Genes)
                     and python_values.shape == c2l_values.shape
                     and np.allclose(python_values, c2l_values, rtol=1e-5, atol=1e-6),
                     python_values.shape)

    # GeneRegressorFilter over a patch stack gives the same values as SpotPredictions at those spots.
    regress = itk.GeneRegressorFilter.New()
    regress.SetInput(dataset.GetPatches())
    regress.SetModel(regressor)
    regress.SetNumberOfTorchThreads(1)
    regress.Update()
    every_spot = itk.array_from_vnl_matrix(regress.GetExpression())
    test_rows = [int(r) for r in predictions.Rows]
    failures = check(failures, "GeneRegressorFilter: one row per patch, equal to SpotPredictions at the test spots",
                     every_spot.shape == (dataset.GetNumberOfPatches(), 12)
                     and np.allclose(every_spot[test_rows], python_values, rtol=1e-6, atol=1e-7), every_spot.shape)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
