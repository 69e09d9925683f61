#!/usr/bin/env python3
"""Writes spatial-data fixtures with h5py and numpy, independently of the module's own writers, so
that its readers are checked against a second implementation of each format.

  /usr/bin/python3 make_spatial_fixtures.py OUT_DIR [VISIUM_OUTS_DIR]

OUT_DIR gets: anndata_csr.h5ad (anndata >= 0.8 layout, CSR X, categorical var column),
anndata_csc_legacy.h5ad (older h5sparse attributes, CSC X), anndata_dense.h5ad (dense X),
damaged_indptr.h5ad, huge_declared.h5ad and unstored_declared.h5ad (damaged files the reader must refuse),
expected.tsv (the same matrix, positions and names as plain text), hest/ (a HEST-1k sample folder),
and with VISIUM_OUTS_DIR: visium_mtx/ (the same outs as a Matrix Market folder) and
visium_reference.tsv (barcode, non-zeros and total count of each spot, read with h5py).
"""
import gzip
import json
import os
import shutil
import sys

import h5py
import numpy as np

rng = np.random.default_rng(20261121)
n_spots, n_genes = 12, 7
counts = rng.poisson(1.5, size=(n_spots, n_genes)).astype(np.float32)
counts[3, :] = 0  # a spot with no counts at all
spots = ["AAAC-%d" % i for i in range(n_spots)]
genes = ["GENE%d" % g for g in range(n_genes)]
gene_ids = ["ENSG%05d" % g for g in range(n_genes)]
xy = np.stack([1000 + 100.0 * np.arange(n_spots), 2000 - 50.0 * np.arange(n_spots)], axis=1)
string = h5py.string_dtype(encoding="utf-8")


def write_index(group, names):
    group.attrs["_index"] = "_index"
    group.attrs["encoding-type"] = "dataframe"
    group.attrs["encoding-version"] = "0.2.0"
    group.attrs["column-order"] = np.array([], dtype=object).astype(string)
    group.create_dataset("_index", data=np.array(names, dtype=object), dtype=string)


def write_anndata(path, x_writer):
    with h5py.File(path, "w") as f:
        f.attrs["encoding-type"] = "anndata"
        f.attrs["encoding-version"] = "0.1.0"
        write_index(f.create_group("obs"), spots)
        var = f.create_group("var")
        write_index(var, genes)
        ids = var.create_group("gene_ids")  # a categorical column
        ids.attrs["encoding-type"] = "categorical"
        ids.attrs["encoding-version"] = "0.2.0"
        ids.attrs["ordered"] = False
        categories = sorted(gene_ids, reverse=True)
        ids.create_dataset("categories", data=np.array(categories, dtype=object), dtype=string)
        ids.create_dataset("codes", data=np.array([categories.index(g) for g in gene_ids], dtype=np.int8))
        f.create_group("obsm").create_dataset("spatial", data=xy)
        x_writer(f)


def csr_writer(f):
    x = f.create_group("X")
    x.attrs["encoding-type"] = "csr_matrix"
    x.attrs["encoding-version"] = "0.1.0"
    x.attrs["shape"] = np.array([n_spots, n_genes])
    rows, cols = np.nonzero(counts)
    x.create_dataset("data", data=counts[rows, cols])
    x.create_dataset("indices", data=cols.astype(np.int32))
    x.create_dataset("indptr", data=np.concatenate([[0], np.cumsum(np.count_nonzero(counts, axis=1))]).astype(np.int64))


def csc_legacy_writer(f):
    x = f.create_group("X")
    x.attrs["h5sparse_format"] = "csc"
    x.attrs["h5sparse_shape"] = np.array([n_spots, n_genes])
    cols_major = counts.T
    rows, cols = np.nonzero(cols_major)  # rows here are genes
    x.create_dataset("data", data=cols_major[rows, cols].astype(np.float64))
    x.create_dataset("indices", data=cols.astype(np.int64))
    x.create_dataset("indptr", data=np.concatenate([[0], np.cumsum(np.count_nonzero(cols_major, axis=1))]))


def dense_writer(f):
    f.create_dataset("X", data=counts)


def damaged_indptr_writer(f):
    """CSR whose indptr starts at 0 and ends at the data's size but runs past it in between (found by
    the HDF5 fuzzer: the reader read X/indices out of bounds)."""
    csr_writer(f)
    indptr = f["X/indptr"][...]
    indptr[1] = indptr[-1] + 1000
    f["X/indptr"][...] = indptr


def huge_declared_writer(f):
    """A dense X that declares 2^40 values: refused before anything is allocated."""
    f.create_dataset("X", shape=(1 << 20, 1 << 20), dtype=np.float32)


def unstored_declared_writer(f):
    """A dense X that declares 2^30 values, within the limit, but stores none."""
    f.create_dataset("X", shape=(1 << 20, 1 << 10), dtype=np.float32)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    write_anndata(os.path.join(out, "anndata_csr.h5ad"), csr_writer)
    write_anndata(os.path.join(out, "anndata_csc_legacy.h5ad"), csc_legacy_writer)
    write_anndata(os.path.join(out, "anndata_dense.h5ad"), dense_writer)
    write_anndata(os.path.join(out, "damaged_indptr.h5ad"), damaged_indptr_writer)
    write_anndata(os.path.join(out, "huge_declared.h5ad"), huge_declared_writer)
    write_anndata(os.path.join(out, "unstored_declared.h5ad"), unstored_declared_writer)
    with open(os.path.join(out, "expected.tsv"), "w") as f:
        f.write("spot\tx\ty\t" + "\t".join(genes) + "\n")
        for i in range(n_spots):
            f.write("%s\t%r\t%r\t%s\n" % (spots[i], xy[i, 0], xy[i, 1], "\t".join("%g" % v for v in counts[i])))
    hest = os.path.join(out, "hest")
    os.makedirs(os.path.join(hest, "st"), exist_ok=True)
    os.makedirs(os.path.join(hest, "metadata"), exist_ok=True)
    shutil.copy(os.path.join(out, "anndata_csr.h5ad"), os.path.join(hest, "st", "TENX99.h5ad"))
    with open(os.path.join(hest, "metadata", "TENX99.json"), "w") as f:
        json.dump({"pixel_size_um_estimated": 0.2738, "species": "Homo sapiens"}, f)

    if len(sys.argv) > 2:
        outs = sys.argv[2]
        with h5py.File(os.path.join(outs, "filtered_feature_bc_matrix.h5"), "r") as f:
            m = f["matrix"]
            barcodes = [b.decode() for b in m["barcodes"][:]]
            ids = [b.decode() for b in m["features/id"][:]]
            names = [b.decode() for b in m["features/name"][:]]
            data, indices, indptr = m["data"][:], m["indices"][:], m["indptr"][:]
        with open(os.path.join(out, "visium_reference.tsv"), "w") as f:
            for b, barcode in enumerate(barcodes):
                f.write("%s\t%d\t%r\n" % (barcode, indptr[b + 1] - indptr[b], float(data[indptr[b]:indptr[b + 1]].sum())))
        mtx = os.path.join(out, "visium_mtx")
        folder = os.path.join(mtx, "filtered_feature_bc_matrix")
        os.makedirs(folder, exist_ok=True)
        shutil.copytree(os.path.join(outs, "spatial"), os.path.join(mtx, "spatial"), dirs_exist_ok=True)
        with gzip.open(os.path.join(folder, "barcodes.tsv.gz"), "wt") as f:
            f.write("".join(b + "\n" for b in barcodes))
        with gzip.open(os.path.join(folder, "features.tsv.gz"), "wt") as f:
            f.write("".join("%s\t%s\tGene Expression\n" % (i, n) for i, n in zip(ids, names)))
        with gzip.open(os.path.join(folder, "matrix.mtx.gz"), "wt") as f:
            f.write("%%MatrixMarket matrix coordinate integer general\n%metadata_json: {}\n")
            f.write("%d %d %d\n" % (len(ids), len(barcodes), len(data)))
            for b in range(len(barcodes)):
                for k in range(indptr[b], indptr[b + 1]):
                    f.write("%d %d %d\n" % (indices[k] + 1, b + 1, int(data[k])))


if __name__ == "__main__":
    main()
