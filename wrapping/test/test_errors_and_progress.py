"""A bad input raises a Python exception that carries ITK's message, settings fields reach C++, and
progress observers work."""
import os
import sys
import tempfile

import itk


def main():
    failures = 0
    reader = itk.SpatialDataReader.New()
    reader.SetFileName("/nonexistent/outs")
    try:
        reader.Update()
        print("no exception for a missing folder")
        failures += 1
    except RuntimeError as error:
        ok = "No such file or folder: /nonexistent/outs" in str(error)
        print("missing folder raises RuntimeError with ITK's message:", ok)
        failures += not ok

    # A synthetic slide, its spots cut as patches, with ProgressEvent observed from Python.
    folder = os.path.join(tempfile.mkdtemp(prefix="st-python-progress-"), "slide")
    settings = itk.SyntheticSlideSettings()
    settings.NumberOfSpots = 40
    slide = itk.SyntheticSlide.Generate(settings)
    itk.SyntheticSlide.Write(slide, folder)
    spots = itk.SpatialDataReader.Read(folder + "/outs")
    opened = itk.SlideReader.New()
    opened.Open(folder + "/image.tif")
    opened.SetPixelSize(spots.GetPixelSize())  # the TIFF states none; the Visium files do
    extractor = itk.SpotPatchExtractor.New()
    extractor.SetSlide(opened)
    extractor.SetSpots(spots)
    seen = []
    extractor.AddObserver(itk.ProgressEvent(), lambda: seen.append(extractor.GetProgress()))
    extractor.Update()
    dataset = extractor.GetOutput()
    # The settings' field reached C++ (ITK's wrapping alone would drop it: see GenerateFieldProperties.py).
    ok = spots.GetNumberOfSpots() == 40 and settings.NumberOfSpots == 40
    print("a settings field set from Python reaches C++:", ok, spots.GetNumberOfSpots())
    failures += not ok
    ok = dataset.GetNumberOfPatches() == spots.GetNumberOfSpots() and len(seen) >= 2 and seen[-1] == 1.0
    print("patches at every spot with progress reports:", ok, dataset.GetNumberOfPatches(), seen[-3:])
    failures += not ok
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
