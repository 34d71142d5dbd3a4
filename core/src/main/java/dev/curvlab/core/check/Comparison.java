package dev.curvlab.core.check;

import dev.curvlab.core.Tensor;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/** Relative comparison of arrays, as used by {@link Tolerances}. */
public final class Comparison {
    private Comparison() {
    }

    /**
     * {@code max|a - b| / max(1, max|b|)}, or +Inf when the shapes differ or either contains NaN.
     * b is the reference.
     */
    public static double relativeError(INDArray a, INDArray b) {
        if (!Arrays.equals(a.shape(), b.shape())) {
            return Double.POSITIVE_INFINITY;
        }
        if (a.length() == 0) {
            return 0.0;
        }
        INDArray a64 = a.castTo(DataType.DOUBLE);
        INDArray b64 = b.castTo(DataType.DOUBLE);
        double diff = Transforms.abs(a64.sub(b64), false).maxNumber().doubleValue();
        double scale = Math.max(1.0, Transforms.abs(b64, true).maxNumber().doubleValue());
        double err = diff / scale;
        return Double.isNaN(err) ? Double.POSITIVE_INFINITY : err;
    }

    public static double relativeError(Tensor a, Tensor b) {
        return relativeError(a.array(), b.array());
    }

    /** True when {@link #relativeError} is at most {@code tol}. */
    public static boolean close(INDArray a, INDArray b, double tol) {
        return relativeError(a, b) <= tol;
    }

    /** A message for a failed comparison: shapes, the error, and the largest discrepancy. */
    public static String describe(String what, INDArray actual, INDArray expected, double tol) {
        if (!Arrays.equals(actual.shape(), expected.shape())) {
            return what + ": shape " + Arrays.toString(actual.shape()) + " vs expected " + Arrays.toString(expected.shape());
        }
        INDArray d = Transforms.abs(actual.castTo(DataType.DOUBLE).sub(expected.castTo(DataType.DOUBLE)), false);
        long at = d.reshape(d.length()).argMax().getLong(0);
        return what + ": relative error " + relativeError(actual, expected) + " > " + tol + " (largest at flat index " + at
                + ": " + actual.reshape(actual.length()).getDouble(at) + " vs " + expected.reshape(expected.length()).getDouble(at) + ")";
    }
}
