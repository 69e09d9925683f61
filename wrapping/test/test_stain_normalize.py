"""StainNormalizeFilter from Python gives the C++ filter's result bit for bit, for every method.

Usage: test_stain_normalize.py REFERENCE_PROGRAM (the C++ program itkStainNormalizeReference).
The images are synthetic H&E (Beer-Lambert with two stain matrices), written here as PNG.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import itk


def synthetic_he(seed, stains, size=96):
    """An RGB image of hematoxylin blobs on eosin stroma, by Beer-Lambert's law."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size]
    hematoxylin = np.zeros((size, size))
    for _ in range(25):
        cy, cx, r = rng.uniform(0, size), rng.uniform(0, size), rng.uniform(2, 5)
        hematoxylin += 0.9 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))
    eosin = 0.3 + 0.2 * rng.random((size, size))
    od = hematoxylin[..., None] * stains[0] + eosin[..., None] * stains[1]
    return np.clip(np.rint(255 * np.exp(-od)), 0, 255).astype(np.uint8)


def main(reference_program):
    typical = np.array([[0.65, 0.70, 0.29], [0.07, 0.99, 0.11]])
    other = np.array([[0.55, 0.75, 0.37], [0.15, 0.95, 0.27]])
    folder = tempfile.mkdtemp(prefix="st-python-stain-")
    source_path = os.path.join(folder, "source.png")
    target_path = os.path.join(folder, "target.png")
    image_type = itk.Image[itk.RGBPixel[itk.UC], 2]
    for path, seed, stains in ((source_path, 1, other), (target_path, 2, typical)):
        image = itk.image_from_array(synthetic_he(seed, stains), ttype=image_type)
        itk.imwrite(image, path)

    source = itk.imread(source_path, pixel_type=itk.RGBPixel[itk.UC])
    target = itk.imread(target_path, pixel_type=itk.RGBPixel[itk.UC])
    failures = 0
    for method in ("macenko", "vahadane", "reinhard", "ruifrok"):
        normalize = itk.StainNormalizeFilter[image_type].New()
        normalize.SetInput(source)
        normalize.SetReferenceImage(target)
        normalize.SetMethod(itk.StainParameters.MethodFromString(method))
        normalize.Update()
        from_python = itk.array_from_image(normalize.GetOutput())

        cxx_path = os.path.join(folder, "cxx_" + method + ".png")
        subprocess.run([reference_program, source_path, target_path, method, cxx_path], check=True)
        from_cxx = itk.array_from_image(itk.imread(cxx_path, pixel_type=itk.RGBPixel[itk.UC]))
        same = from_python.shape == from_cxx.shape and np.array_equal(from_python, from_cxx)
        changed = not np.array_equal(from_python, itk.array_from_image(source))
        print(f"{method}: identical to C++ {same}, changed the image {changed}")
        failures += (not same) + (not changed)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
