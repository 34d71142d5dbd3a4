package dev.curvlab.curvature.kfac;

import dev.curvlab.core.kernels.RawAccess;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code t = tanh z} (in place) and its slope {@code 1 - t^2} in one Java pass over native memory,
 * split over the cores: the forward step of tanh layers in the factor loops, where ND4J's tanh ran at
 * tens of ns per element on this machine. {@code tanh z = e / (e + 2)} with {@code e = expm1(2|z|)}
 * (sign restored), and {@code expm1(y) = exp(y) - 1} for {@code y >= 1/2} (no cancellation: at most
 * one bit) or its Taylor series to {@code y^17 / 17!} below (truncation {@code < 2^-18 / 18! ~ 6e-22}),
 * so the result stays within a few ulps of the exact tanh.
 */
final class TanhKernel {
    /** Below this many elements one thread does it all. */
    private static final long PARALLEL_ELEMENTS = 1L << 16;
    private static final double[] INVERSE_FACTORIALS = inverseFactorials(17);

    private TanhKernel() {
    }

    /** {@code {tanh z, 1 - tanh^2 z}}: z (C order, whole float64) is overwritten by the value. */
    static INDArray[] valueAndSlope(INDArray z) {
        if (!RawAccess.isWholeDouble(z)) {
            throw new IllegalArgumentException("tanh kernel needs a whole C-order float64 array, got " + z.dataType() + " " + z.ordering());
        }
        INDArray slope = Nd4j.createUninitialized(DataType.DOUBLE, z.shape(), 'c');
        RawAccess.Elements v = RawAccess.elements(z);
        RawAccess.Elements d = RawAccess.elements(slope);
        long n = z.length();
        int parts = n < PARALLEL_ELEMENTS ? 1 : Runtime.getRuntime().availableProcessors();
        IntStream range = IntStream.range(0, parts);
        (parts > 1 ? range.parallel() : range).forEach(p -> {
            for (long i = n * p / parts; i < n * (p + 1) / parts; i++) {
                double t = tanh(v.get(i));
                v.set(i, t);
                d.set(i, 1 - t * t);
            }
        });
        return new INDArray[] {z, slope};
    }

    /** {@code tanh z} within a few ulps (NaN stays NaN, +-infinity give +-1). */
    static double tanh(double z) {
        double y = 2 * Math.abs(z);
        if (y > 40) {
            return Math.copySign(1.0, z);          // 1 - tanh < 2 e^-40: below half an ulp of 1
        }
        double e = y >= 0.5 ? Math.exp(y) - 1 : expm1Series(y);
        return Math.copySign(e / (e + 2), z);
    }

    /** {@code e^y - 1 = sum_{k=1}^{17} y^k / k!} for {@code 0 <= y < 1/2} (Horner). */
    private static double expm1Series(double y) {
        double s = INVERSE_FACTORIALS[17];
        for (int k = 16; k >= 1; k--) {
            s = s * y + INVERSE_FACTORIALS[k];
        }
        return s * y;
    }

    private static double[] inverseFactorials(int n) {
        double[] f = new double[n + 1];
        f[0] = 1;
        for (int k = 1; k <= n; k++) {
            f[k] = f[k - 1] / k;
        }
        return f;
    }
}
