"""The whole method from Python (itk.SpatialTranscriptomicsPipeline) gives c2l run's metrics.

Usage: test_pipeline_matches_c2l.py C2L (the c2l program of the same build)

Python writes a synthetic slide (60 spots, seed 3) with itk.SyntheticSlide, sets tiny settings
field by field on itk.PipelineSettings, observes the pipeline's progress and runs it. c2l writes the
same slide (synth-slide) and runs a pipeline JSON file with the same settings. Every metric of the
evaluation (each regressor's errors and correlations, the mean baseline, fidelity, composition,
sample measures, the spatial maps) must be equal.
"""
import json
import os
import subprocess
import sys
import tempfile

import itk

TINY_CONFIG = {
    "output": "run",
    "slide": "slide/image.tif",
    "spots": "slide/outs",
    "threads": 1,
    "ratios": [1, 2],
    "extraction": {"patch_px": 16, "genes": 12, "fraction": 0.5, "seed": 1},
    "pretraining": {"tiles": 40, "base_channels": 8, "scales": 2, "layers_per_block": 1, "steps": 4, "batch": 4},
    "adaptation": {"steps": 4, "batch": 4, "grad_accum": 1, "embed_dim": 8},
    "synthesis": {"steps": 2, "batch": 16},
    "regressor": {"depth": 18, "steps": 3, "batch": 8},
    "evaluation": {"clusters": 2, "map_genes": 1},
    "imputation": {"steps": 20, "folds": 2},
}


def tiny_settings(folder):
    """TINY_CONFIG, set field by field as a Python user would."""
    settings = itk.PipelineSettings()
    settings.Output = os.path.join(folder, "run")
    settings.Slide = os.path.join(folder, "slide", "image.tif")
    settings.Spots = os.path.join(folder, "slide", "outs")
    settings.Threads = 1
    settings.Ratios = [1.0, 2.0]
    settings.Extraction.PatchPixels = 16
    settings.Extraction.Genes = 12
    settings.Extraction.Fraction = 0.5
    settings.Extraction.Seed = 1
    settings.Tiles = 40
    settings.Pretraining.Training.BaseChannels = 8
    settings.Pretraining.Training.NumberOfScales = 2
    settings.Pretraining.Training.LayersPerBlock = 1
    settings.Pretraining.Training.NumberOfSteps = 4
    settings.Pretraining.Training.BatchSize = 4
    settings.Adaptation.Training.NumberOfSteps = 4
    settings.Adaptation.Training.BatchSize = 4
    settings.Adaptation.Training.GradientAccumulation = 1
    settings.Adaptation.Training.EmbeddingSize = 8
    settings.Synthesis.Steps = 2
    settings.Synthesis.Batch = 16
    settings.Regressor.Training.Depth = 18
    settings.Regressor.Training.NumberOfSteps = 3
    settings.Regressor.Training.BatchSize = 8
    settings.Clusters = 2
    settings.MapGenes = 1
    settings.Imputation.Steps = 20
    settings.Imputation.Folds = 2
    return settings


def main(program):
    failures = 0
    python_folder = tempfile.mkdtemp(prefix="st-python-pipeline-")
    slide = itk.SyntheticSlideSettings()
    slide.NumberOfSpots = 60
    slide.Seed = 3
    itk.SyntheticSlide.Write(itk.SyntheticSlide.Generate(slide), os.path.join(python_folder, "slide"))
    pipeline = itk.SpatialTranscriptomicsPipeline.New()
    pipeline.SetSettings(tiny_settings(python_folder))
    progress = []
    pipeline.AddObserver(itk.ProgressEvent(), lambda: progress.append(pipeline.GetProgress()))
    pipeline.Update()
    results = pipeline.GetEvaluationResults()
    ok = (pipeline.GetNumberOfStagesRun() > 0 and results.TrainingSpots + results.TestSpots == 60
          and progress == sorted(progress) and progress[-1] == 1.0)
    print("the pipeline ran every stage with rising progress:", ok, pipeline.GetNumberOfStagesRun(), "stages,",
          results.TrainingSpots, "+", results.TestSpots, "spots,", len(progress), "progress events")
    failures += not ok

    c2l_folder = tempfile.mkdtemp(prefix="st-c2l-pipeline-")
    config = os.path.join(c2l_folder, "pipeline.json")
    with open(config, "w") as out:
        json.dump(TINY_CONFIG, out)
    for arguments in (["synth-slide", "--spots", "60", "--seed", "3", "--out", os.path.join(c2l_folder, "slide")],
                      ["run", "--config", config]):
        completed = subprocess.run([program, *arguments], capture_output=True, text=True)
        if completed.returncode != 0:
            print(completed.stdout, completed.stderr)
            return 1

    def evaluation(folder):
        with open(os.path.join(folder, "run", "evaluation", "evaluation.json")) as f:
            return json.load(f)

    from_python, from_c2l = evaluation(python_folder), evaluation(c2l_folder)
    ok = len(from_c2l["regressors"]) == 4 and len(from_python["regressors"]) == 4
    print("four regressors (real only, r1, r2, control):", ok)
    failures += not ok
    for r, (mine, theirs) in enumerate(zip(from_python["regressors"], from_c2l["regressors"])):
        for metric in ("label", "ratio", "mae", "rmse", "mean_pearson", "gene_mae", "gene_pearson"):
            if mine[metric] != theirs[metric]:
                print(f"regressor {r} {metric}: Python {mine[metric]} != c2l {theirs[metric]}")
                failures += 1
    for part in ("mean_baseline", "fidelity", "composition", "sample_measures", "spatial"):
        if from_python[part] != from_c2l[part]:
            print(f"{part}: Python and c2l differ")
            failures += 1
    print("the same metrics as c2l run:", failures == 0)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
