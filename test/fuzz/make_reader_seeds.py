#!/usr/bin/env python3
"""Seed corpora for the reader harnesses of test/fuzz (count_table_fuzzer, visium_fuzzer,
hdf5_fuzzer, json_inputs_fuzzer, model_config_fuzzer), in each harness's input layout (FuzzInputFiles.h: a flag byte,
then every file but the last prefixed by its 2-byte little-endian length). Valid inputs built from
the formats' documented layouts; the HDF5 seeds come from test/data/make_spatial_fixtures.py (h5py).

  /usr/bin/python3 make_reader_seeds.py CORPUS_DIR     (writes CORPUS_DIR/<harness>/seed-*)
"""
import gzip
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np


def parts(flag, *files):
    out = bytes([flag])
    for f in files[:-1]:
        out += len(f).to_bytes(2, "little") + f
    return out + files[-1]


def write(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def count_table_seeds(folder):
    counts = b"\tGENE1\tGENE2\tGENE3\n1x1\t3\t0\t1\n2x1\t0\t5\t2\n1x2\t1\t1\t0\n"
    spots = b"x\ty\tpixel_x\tpixel_y\n1\t1\t100.5\t200\n2\t1\t300\t200.25\n1\t2\t100\t400\n"
    write(folder, "seed-tsv", parts(0, counts, spots))
    write(folder, "seed-gzip", parts(0, gzip.compress(counts), spots))
    csv_counts = counts.replace(b"\t", b",")
    csv_spots = b"barcode,pxl_col_in_fullres,pxl_row_in_fullres\n1x1,10,20\n2x1,30,20\n1x2,10,40\n"
    write(folder, "seed-csv", parts(3, csv_counts, csv_spots))


def visium_seeds(folder):
    matrix = (b"%%MatrixMarket matrix coordinate integer general\n%metadata_json: {}\n"
              b"3 2 4\n1 1 5\n2 1 1\n3 2 7\n1 2 2\n")
    features = b"ENSG1\tGENE1\tGene Expression\nENSG2\tGENE2\tGene Expression\nENSG3\tGENE3\tGene Expression\n"
    barcodes = b"AAAC-1\nAAAG-1\n"
    positions_v1 = b"AAAC-1,1,0,0,1000,2000\nAAAG-1,1,0,2,1000,2200\nAAAT-1,0,1,1,1100,2100\n"
    positions_v2 = (b"barcode,in_tissue,array_row,array_col,pxl_row_in_fullres,pxl_col_in_fullres\n"
                    + positions_v1)
    scale = json.dumps({"spot_diameter_fullres": 89.4, "tissue_hires_scalef": 0.17,
                        "fiducial_diameter_fullres": 144.4, "tissue_lowres_scalef": 0.05}).encode()
    write(folder, "seed-v1", parts(0, matrix, features, barcodes, positions_v1, scale))
    write(folder, "seed-v2", parts(1, matrix, features, barcodes, positions_v2, scale))


def hdf5_seeds(folder):
    with tempfile.TemporaryDirectory() as scratch:
        here = os.path.dirname(os.path.abspath(__file__))
        subprocess.run([sys.executable, os.path.join(here, "..", "data", "make_spatial_fixtures.py"), scratch],
                       check=True, stdout=subprocess.DEVNULL)
        for name in ("anndata_csr.h5ad", "anndata_csc_legacy.h5ad", "anndata_dense.h5ad"):
            with open(os.path.join(scratch, name), "rb") as f:
                write(folder, "seed-" + name, f.read())
        # A 10x feature-barcode matrix (Cell Ranger 3 layout): 3 genes x 2 barcodes, CSC by barcode.
        path = os.path.join(scratch, "tenx.h5")
        with h5py.File(path, "w") as f:
            m = f.create_group("matrix")
            m["barcodes"] = np.array([b"AAAC-1", b"AAAG-1"])
            m["data"] = np.array([5, 1, 2, 7], dtype=np.int32)
            m["indices"] = np.array([0, 1, 0, 2], dtype=np.int64)
            m["indptr"] = np.array([0, 2, 4], dtype=np.int64)
            m["shape"] = np.array([3, 2], dtype=np.int32)
            features = m.create_group("features")
            features["id"] = np.array([b"ENSG1", b"ENSG2", b"ENSG3"])
            features["name"] = np.array([b"GENE1", b"GENE2", b"GENE3"])
            features["feature_type"] = np.array([b"Gene Expression"] * 3)
        with open(path, "rb") as f:
            write(folder, "seed-tenx.h5", f.read())


def json_seeds(folder):
    pipeline = {"output": "run", "slide": "slide.tif", "spots": "outs", "ratios": [1, 2],
                "extraction": {"patch_px": 16, "genes": 12, "fraction": 0.5},
                "regressor": {"depth": 18, "steps": 3}, "imputation": {"steps": 20, "folds": 2}}
    stain = {"format": "itk-spatialtranscriptomics-stain-parameters", "version": 1, "method": "macenko",
             "stain_matrix": {"hematoxylin": [0.65, 0.70, 0.29], "eosin": [0.07, 0.99, 0.11]},
             "max_concentrations": [1.9, 1.0]}
    reinhard = {"format": "itk-spatialtranscriptomics-stain-parameters", "version": 1, "method": "reinhard",
                "lab_mean": [60.0, 20.0, -10.0], "lab_std": [10.0, 5.0, 4.0]}
    genes = {"format": "itk-spatialtranscriptomics-gene-preprocessing", "version": 1, "target_sum": 10000,
             "log1p": True, "standardize": True, "genes": ["GENE1", "GENE2"], "mean": [0.5, 1.5], "std": [1.0, 2.0]}
    regressor = {"label": "real only", "ratio": 0, "control": False, "file": "r.safetensors", "mae": 0.5,
                 "rmse": 0.7, "mean_pearson": 0.2, "mean_spearman": None, "gene_mae": [0.4, 0.6],
                 "gene_pearson": [0.1, None]}
    evaluation = {"training_spots": 4, "test_spots": 4, "synthetic_pairs": 8, "genes": 2, "regressors": [regressor],
                  "gene_names": ["GENE1", "GENE2"], "mean_baseline": {"mae": 0.55, "rmse": 0.8},
                  "imputation": {"predictors": [regressor], "combination_weights": [0.5, 1.0], "grid": "spot ids",
                                 "seconds": 1.5},
                  "spatial": {"x": [1.0], "y": [2.0], "maps": [{"gene": "GENE1", "truth": [1.0], "real_only": [1.0],
                                                                "cotrained": [1.0]}], "cotrained_label": ""},
                  "fidelity": {"feature_size": 2, "synthetic_nearest_cosine": 0.9, "test_nearest_cosine": 0.9,
                               "synthetic_frechet": 1.0, "test_frechet": 1.0,
                               "embedding": {"x": [0.1], "y": [0.2], "group": [0], "explained": [0.5, 0.25]}},
                  "sample_measures": [], "composition": [{"cluster": 0, "real_spots": 2, "synthetic_pairs": 4,
                                                           "real_examples": [1], "synthetic_examples": [2]}],
                  "nuclear_threshold": 0.6}
    scale = {"spot_diameter_fullres": 89.4, "tissue_hires_scalef": 0.17}
    for selector, name, value in ((0, "pipeline", pipeline), (1, "stain", stain), (1, "reinhard", reinhard),
                                  (2, "genes", genes), (3, "evaluation", evaluation), (4, "scalefactors", scale)):
        write(folder, "seed-" + name, bytes([selector]) + json.dumps(value).encode())


def model_config_seeds(folder):
    """diffusers' own configs: a UNet2DModel config.json (google/ddpm-cifar10-32's fields) and the
    scheduler_config.json of each scheduler class the module reads, Python's bare -Infinity included."""
    unet = {"_class_name": "UNet2DModel", "_diffusers_version": "0.24.0", "act_fn": "silu",
            "attention_head_dim": None, "block_out_channels": [128, 256, 256, 256], "center_input_sample": False,
            "down_block_types": ["DownBlock2D", "AttnDownBlock2D", "DownBlock2D", "DownBlock2D"],
            "downsample_padding": 0, "flip_sin_to_cos": False, "freq_shift": 1, "in_channels": 3,
            "layers_per_block": 2, "mid_block_scale_factor": 1, "norm_eps": 1e-06, "norm_num_groups": 32,
            "out_channels": 3, "sample_size": 32, "time_embedding_type": "positional",
            "up_block_types": ["UpBlock2D", "UpBlock2D", "AttnUpBlock2D", "UpBlock2D"]}
    write(folder, "seed-unet", bytes([0]) + json.dumps(unet).encode())
    ddpm = {"_class_name": "DDPMScheduler", "beta_end": 0.02, "beta_schedule": "linear", "beta_start": 0.0001,
            "clip_sample": True, "num_train_timesteps": 1000, "trained_betas": None, "variance_type": "fixed_large"}
    ddim = dict(ddpm, _class_name="DDIMScheduler", set_alpha_to_one=True, steps_offset=1,
                prediction_type="v_prediction", timestep_spacing="trailing")
    ddim.pop("variance_type")
    dpm = {"_class_name": "DPMSolverMultistepScheduler", "algorithm_type": "dpmsolver++", "solver_order": 2,
           "solver_type": "midpoint", "lower_order_final": True, "euler_at_final": False,
           "final_sigmas_type": "zero", "beta_schedule": "squaredcos_cap_v2", "thresholding": True,
           "dynamic_thresholding_ratio": 0.995, "sample_max_value": 1.0}
    unipc = {"_class_name": "UniPCMultistepScheduler", "solver_order": 3, "solver_type": "bh1",
             "disable_corrector": [0], "beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012}
    for name, value in (("ddpm", ddpm), ("ddim", ddim), ("dpm", dpm), ("unipc", unipc)):
        write(folder, "seed-" + name, bytes([1]) + json.dumps(value).encode())
    # json.dumps writes float("-inf") as Python does: a bare -Infinity.
    write(folder, "seed-dpm-lambda", bytes([1]) + json.dumps(dict(dpm, lambda_min_clipped=float("-inf"))).encode())


def main():
    corpus = sys.argv[1]
    count_table_seeds(os.path.join(corpus, "count_table_fuzzer"))
    visium_seeds(os.path.join(corpus, "visium_fuzzer"))
    hdf5_seeds(os.path.join(corpus, "hdf5_fuzzer"))
    json_seeds(os.path.join(corpus, "json_inputs_fuzzer"))
    model_config_seeds(os.path.join(corpus, "model_config_fuzzer"))


if __name__ == "__main__":
    main()
