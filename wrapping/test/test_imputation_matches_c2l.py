"""S2S-ST imputation and its baselines from Python give c2l impute's metrics and predictions.

Usage: test_imputation_matches_c2l.py C2L (the c2l program of the same build)

On a synthetic slide (300 spots), 25 % of the spots measured (seed 2), top 20 genes and a few
training steps: Python runs SparseToSparseImputationFilter through ImputationEvaluation as c2l
impute does; every method's metrics (JSON, but for their timings) and the predictions (TSV) must be the same.
"""
import json
import os
import subprocess
import sys
import tempfile

import itk


def main(program):
    folder = tempfile.mkdtemp(prefix="st-python-impute-")
    slide, out = os.path.join(folder, "slide"), os.path.join(folder, "c2l")
    for arguments in (["synth-slide", "--spots", "300", "--seed", "2", "--out", slide],
                      ["impute", "--spots", os.path.join(slide, "outs"), "--genes", "20", "--fraction", "0.25",
                       "--seed", "2", "--steps", "5", "--threads", "1", "--out", out]):
        completed = subprocess.run([program, *arguments], capture_output=True, text=True)
        if completed.returncode != 0:
            print(completed.stdout, completed.stderr)
            return 1

    spots = itk.SpatialDataReader.Read(os.path.join(slide, "outs"))
    grid = itk.SpotGrid.FromSpots(spots)
    split = itk.ImputationSplit.Make(grid, 0.25, "", 2)
    settings = itk.ImputationEvaluationSettings()
    settings.Genes.TopGenes = 20
    imputation = itk.SparseToSparseImputationFilter.New()
    imputation.SetNumberOfSteps(5)
    imputation.SetSeed(2)
    imputation.SetNumberOfThreads(1)
    evaluation = itk.ImputationEvaluation.Evaluate(spots, grid, split, settings, imputation)

    with open(os.path.join(out, "metrics.json")) as f:
        from_c2l = json.load(f)
    from_python = json.loads(evaluation.ToJSON())
    for method in from_python["methods"] + from_c2l["methods"]:
        method.pop("seconds")  # each run's own timing
    methods = [m["method"] for m in from_python["methods"]]
    same_metrics = from_python == from_c2l
    print("the same metrics as c2l impute for", methods, ":", same_metrics)
    with open(os.path.join(out, "predictions.tsv")) as f:
        same_predictions = evaluation.PredictionsToTSV(spots.GetSpotIds()) == f.read()
    print("the same predictions table:", same_predictions)
    return 0 if same_metrics and same_predictions and "s2s-st" in methods else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
