#!/usr/bin/env python3
"""Opens an .h5ad with anndata (Debian's python3-anndata) and prints what a scanpy/squidpy user
would see, as JSON: the test of itk::AnnDataWriter compares it with what it wrote."""
import json
import sys

import anndata
import numpy as np

adata = anndata.read_h5ad(sys.argv[1])
print(json.dumps({
    "anndata": anndata.__version__,
    "shape": list(adata.shape),
    "obs_names": list(adata.obs_names),
    "var_names": list(adata.var_names),
    "X": np.asarray(adata.X, dtype=float).tolist(),
    "X_dtype": str(adata.X.dtype),
    "spatial": np.asarray(adata.obsm["spatial"], dtype=float).tolist(),
    "layers": {k: np.asarray(v, dtype=float).tolist() for k, v in adata.layers.items()},
    "uns": {k: str(v) for k, v in adata.uns.items()},
    "obs": {c: np.asarray(adata.obs[c], dtype=float).tolist() for c in adata.obs.columns},
}))
