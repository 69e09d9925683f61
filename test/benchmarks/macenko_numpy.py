#!/usr/bin/env python3
"""Numpy reference implementation of TIAToolbox's Macenko stain normaliser.

Follows tiatoolbox at commit 0674de3 (2021): tiatoolbox/tools/stainnorm.py,
tiatoolbox/tools/stainextract.py, tiatoolbox/utils/misc.py (rgb2od,
contrast_enhancer, get_luminosity_tissue_mask).  Only numpy and the standard
library are used; OpenCV's 8-bit RGB->Lab conversion is emulated in numpy.

Usage:
  macenko_numpy.py --images DIR --json OUT.json [--repeats R] [--write-outputs]

DIR holds raw uint8 interleaved RGB files: tile_<N>.rgb (N x N pixels) and
one target_<W>x<H>.rgb.
"""
import argparse
import json
import os
import re
import statistics
import sys
import time

import numpy as np


def rgb2od(img):
    """tiatoolbox.utils.misc.rgb2od: optical density with 0 -> 1 and a 1e-6 floor."""
    img = img.astype(float)  # copy
    img[img == 0] = 1
    return np.maximum(-1 * np.log(img / 255), 1e-6)


def contrast_enhancer(img, low_p=2, high_p=98):
    """tiatoolbox.utils.misc.contrast_enhancer (skimage rescale_intensity emulated)."""
    p_low, p_high = np.percentile(img, (low_p, high_p))
    if p_low >= p_high:
        p_low, p_high = np.min(img), np.max(img)
    if p_high > p_low:
        # rescale_intensity(in_range=(p_low, p_high), out_range=(0, 255)) on float
        img = (np.clip(img, p_low, p_high) - p_low) / (p_high - p_low) * 255.0
    return np.uint8(img)  # truncation, as in tiatoolbox


def rgb2l8(img):
    """CIE L channel as produced by cv2.cvtColor(uint8, COLOR_RGB2LAB)[..., 0]."""
    v = img.astype(float) / 255.0
    lin = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    y = 0.212671 * lin[..., 0] + 0.715160 * lin[..., 1] + 0.072169 * lin[..., 2]
    lum = np.where(y > 0.008856, 116.0 * np.cbrt(y) - 16.0, 903.3 * y)
    return np.clip(np.rint(lum * 255.0 / 100.0), 0, 255)


def get_luminosity_tissue_mask(img, threshold=0.8):
    """tiatoolbox.utils.misc.get_luminosity_tissue_mask."""
    img = contrast_enhancer(img, low_p=2, high_p=98)
    lum = rgb2l8(img) / 255.0
    mask = lum < threshold
    if mask.sum() == 0:
        raise ValueError("Empty tissue mask")
    return mask


def get_stain_matrix(img, luminosity_threshold=0.8, angular_percentile=99):
    """tiatoolbox.tools.stainextract.MacenkoExtractor.get_stain_matrix -> 2x3 (row 0 = H)."""
    mask = get_luminosity_tissue_mask(img, threshold=luminosity_threshold)
    od = rgb2od(img).reshape((-1, 3))[mask.reshape(-1)]  # tissue pixels only
    # eigenvectors of the OD covariance, two largest eigenvalues (eigh: ascending)
    _, e_vects = np.linalg.eigh(np.cov(od, rowvar=False))
    e_vects = e_vects[:, [2, 1]]
    if e_vects[0, 0] < 0:
        e_vects[:, 0] *= -1
    if e_vects[0, 1] < 0:
        e_vects[:, 1] *= -1
    proj = np.dot(od, e_vects)  # project onto the plane of the two eigenvectors
    phi = np.arctan2(proj[:, 1], proj[:, 0])
    min_phi = np.percentile(phi, 100 - angular_percentile)
    max_phi = np.percentile(phi, angular_percentile)
    v_min = np.dot(e_vects, np.array([np.cos(min_phi), np.sin(min_phi)]))
    v_max = np.dot(e_vects, np.array([np.cos(max_phi), np.sin(max_phi)]))
    # hematoxylin first: the vector with the larger red-channel OD
    if v_min[0] > v_max[0]:
        he = np.array([v_min, v_max])
    else:
        he = np.array([v_max, v_min])
    return he / np.linalg.norm(he, axis=1)[:, None]


def get_concentrations(img, stain_matrix):
    """tiatoolbox.tools.stainnorm.StainNormaliser.get_concentrations -> N x 2."""
    od = rgb2od(img).reshape((-1, 3))
    x, _, _, _ = np.linalg.lstsq(stain_matrix.T, od.T, rcond=-1)
    return x.T


class MacenkoNormaliser:
    """tiatoolbox.tools.stainnorm.MacenkoNormaliser (fit / transform)."""

    def __init__(self):
        self.stain_matrix_target = None
        self.maxC_target = None

    def fit(self, target):
        self.stain_matrix_target = get_stain_matrix(target)
        conc = get_concentrations(target, self.stain_matrix_target)
        self.maxC_target = np.percentile(conc, 99, axis=0).reshape((1, 2))

    def estimate(self, img):
        """Source stain matrix and 99th-percentile concentrations."""
        stain_matrix_source = get_stain_matrix(img)
        conc = get_concentrations(img, stain_matrix_source)
        return stain_matrix_source, np.percentile(conc, 99, axis=0).reshape((1, 2))

    def apply(self, img, stain_matrix_source, max_c_source):
        """Transform with a precomputed source stain matrix / maxC ("apply only")."""
        conc = get_concentrations(img, stain_matrix_source)
        conc *= self.maxC_target / max_c_source
        trans = 255 * np.exp(-1 * np.dot(conc, self.stain_matrix_target))
        trans[trans > 255] = 255  # same clipping order as tiatoolbox
        trans[trans < 0] = 0
        return trans.reshape(img.shape).astype(np.uint8)

    def transform(self, img):
        """tiatoolbox MacenkoNormaliser.transform (estimate + apply).

        tiatoolbox computes the source concentrations once and reuses them;
        we do the same to keep the operation count identical.
        """
        stain_matrix_source = get_stain_matrix(img)
        conc = get_concentrations(img, stain_matrix_source)
        max_c_source = np.percentile(conc, 99, axis=0).reshape((1, 2))
        conc *= self.maxC_target / max_c_source
        trans = 255 * np.exp(-1 * np.dot(conc, self.stain_matrix_target))
        trans[trans > 255] = 255
        trans[trans < 0] = 0
        return trans.reshape(img.shape).astype(np.uint8), stain_matrix_source, max_c_source


def read_rgb(path, width, height):
    return np.fromfile(path, dtype=np.uint8).reshape(height, width, 3)


def _median_time(fn, repeats):
    """Median wall time of `repeats` calls of fn(); also returns the last result."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", required=True, help="directory with tile_<N>.rgb and target_<W>x<H>.rgb")
    ap.add_argument("--json", required=True, help="output JSON path")
    ap.add_argument("--repeats", type=int, default=3, help="runs per measurement (median); 1 for N >= 4096")
    ap.add_argument("--write-outputs", action="store_true",
                    help="write numpy_norm_<N>.rgb and stain matrices / maxC to the JSON")
    args = ap.parse_args(argv)

    names = os.listdir(args.images)
    targets = [m for m in (re.fullmatch(r"target_(\d+)x(\d+)\.rgb", n) for n in names) if m]
    if len(targets) != 1:
        sys.exit("error: expected exactly one target_<W>x<H>.rgb in %s, found %d" % (args.images, len(targets)))
    tw, th = int(targets[0].group(1)), int(targets[0].group(2))
    tiles = sorted(int(m.group(1)) for m in (re.fullmatch(r"tile_(\d+)\.rgb", n) for n in names) if m)
    if not tiles:
        sys.exit("error: no tile_<N>.rgb in %s" % args.images)

    norm = MacenkoNormaliser()
    norm.fit(read_rgb(os.path.join(args.images, targets[0].group(0)), tw, th))  # not timed

    result = {
        "numpy_version": np.__version__,
        "threads_note": "numpy uses OPENBLAS/OMP threads as set in the environment",
        "tiles": {},
        "target": {"stain_matrix": norm.stain_matrix_target.tolist(),
                   "max_c": norm.maxC_target.reshape(-1).tolist()},
    }
    for n in tiles:
        img = read_rgb(os.path.join(args.images, "tile_%d.rgb" % n), n, n)
        repeats = 1 if n >= 4096 else max(1, args.repeats)
        t_est, (out, s_src, maxc_src) = _median_time(lambda: norm.transform(img), repeats)
        t_app, _ = _median_time(lambda: norm.apply(img, s_src, maxc_src), repeats)
        mpx = n * n / 1e6
        entry = {"estimate_apply_s": t_est, "apply_s": t_app,
                 "estimate_apply_mpx_s": mpx / t_est, "apply_mpx_s": mpx / t_app}
        if args.write_outputs:
            out.tofile(os.path.join(args.images, "numpy_norm_%d.rgb" % n))
            entry["stain_matrix"] = s_src.tolist()
            entry["max_c"] = maxc_src.reshape(-1).tolist()
        result["tiles"][str(n)] = entry
        print("N=%5d  estimate+apply %.4f s (%.2f Mpx/s)  apply-only %.4f s (%.2f Mpx/s)"
              % (n, t_est, mpx / t_est, t_app, mpx / t_app), flush=True)

    with open(args.json, "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
