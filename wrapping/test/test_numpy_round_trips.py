"""numpy round trips of what the module's classes take and give: RGB patch stacks (x, y, patch) and
expression tables (itk.Array2D[itk.D], spots x genes)."""
import sys

import numpy as np
import itk


def main():
    failures = 0
    # A patch stack: numpy (patch, y, x, RGB) <-> itk.Image[RGBPixel[UC], 3] (x, y, patch).
    rng = np.random.default_rng(0)
    stack = rng.integers(0, 256, size=(5, 16, 12, 3), dtype=np.uint8)
    stack_type = itk.Image[itk.RGBPixel[itk.UC], 3]
    image = itk.image_from_array(stack, ttype=stack_type)
    size = tuple(image.GetLargestPossibleRegion().GetSize())
    view = itk.array_view_from_image(image)
    ok = size == (12, 16, 5) and np.array_equal(view, stack) and [image.GetPixel([3, 7, 2])[c] for c in range(3)] == [int(v) for v in stack[2, 7, 3]]
    print("patch stack round trip:", ok, size)
    failures += not ok

    # An expression table through the module's matrix type and its operations.
    table = rng.normal(size=(7, 4))
    matrix = itk.vnl_matrix_from_array(table)
    product = itk.MatrixOperations.Multiply(itk.Array2D[itk.D](matrix), itk.Array2D[itk.D](matrix), True, False)
    ok = np.allclose(itk.array_from_vnl_matrix(product), table.T @ table, rtol=1e-12, atol=1e-12)
    print("Array2D product against numpy:", ok)
    failures += not ok

    metrics = itk.ExpressionMetrics.Compute(itk.Array2D[itk.D](matrix), itk.Array2D[itk.D](matrix))
    ok = metrics.MeanAbsoluteError == 0.0 and abs(metrics.MeanPearson - 1.0) < 1e-12
    print("ExpressionMetrics of a table against itself:", ok, metrics.MeanAbsoluteError, metrics.MeanPearson)
    failures += not ok
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
