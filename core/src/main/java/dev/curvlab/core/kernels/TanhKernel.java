package dev.curvlab.core.kernels;

import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code tanh} in plain arithmetic that the JIT vectorises (no {@code Math.exp} call per element):
 * the one tanh kernel of the layer engine and of the KFAC factor passes. Derivation: with
 * {@code y = -2 |x|} and {@code m = e^y - 1 = expm1(y)},
 * <pre>
 *   tanh |x| = (1 - e^y) / (1 + e^y) = -m / (2 + m)
 *   expm1(2u) = expm1(u) (2 + expm1(u))                         (from e^{2u} = (e^u)^2)
 *   m = expm1(y / 64) squared up six times;  expm1(t) = sum_{n=1}^{16} t^n / n!  for |t| <= 5/8
 * </pre>
 * The argument is clamped to {@code |x| <= 20} (where {@code tanh x} rounds to +-1). No step loses
 * relative accuracy: the series has no cancellation (all terms of one sign pattern, |t| small), a
 * doubling step multiplies the relative error of m by {@code (2 + 2m) / (2 + m) <= 1} for
 * {@code -1 < m <= 0}, and {@code -m / (2 + m)} has no cancellation. Truncation {@code < 0.625^16 / 17!
 * < 2e-18} relative; rounding adds up to about one ulp per doubling: measured within 7 ulps (1.5e-15
 * relative) of fdlibm ({@link StrictMath#tanh}) over 4 million inputs, tiny and subnormal ones
 * included. About 1.5 ns per element on this machine against ~5 ns for a {@code Math.exp}-based loop
 * and ~18 ns for ND4J's kernel, once C2 has compiled it (the JIT's first tier alone, which
 * {@code bin/curvlab} chooses for one-shot runs on small models, runs it at ~13 ns and the
 * {@code Math.exp} loop at ~6-11 ns; tanh is a small share of those runs). NaN stays NaN, {@code +-0} and
 * {@code +-Inf} map to {@code +-0} and {@code +-1}.
 */
public final class TanhKernel {
    /** Below this many elements one thread does all of {@link #valueAndSlope}. */
    private static final long PARALLEL_ELEMENTS = 1L << 16;
    /** Elements per Java-array chunk of {@link #valueAndSlope} (native memory is read and written in chunks). */
    private static final int CHUNK = 4096;
    private static final double SATURATION = 20.0;
    /** {@code -2 / 2^6}: the argument {@code y = -2|x|} scaled for six doublings. */
    private static final double SCALED = -2.0 / 64;
    private static final double C2 = 1.0 / 2;
    private static final double C3 = C2 / 3;
    private static final double C4 = C3 / 4;
    private static final double C5 = C4 / 5;
    private static final double C6 = C5 / 6;
    private static final double C7 = C6 / 7;
    private static final double C8 = C7 / 8;
    private static final double C9 = C8 / 9;
    private static final double C10 = C9 / 10;
    private static final double C11 = C10 / 11;
    private static final double C12 = C11 / 12;
    private static final double C13 = C12 / 13;
    private static final double C14 = C13 / 14;
    private static final double C15 = C14 / 15;
    private static final double C16 = C15 / 16;

    private TanhKernel() {
    }

    /**
     * {@code t[i] = tanh(z[i])} for {@code i < len}, in three simple loops (argument, series and
     * doublings, sign) so that each vectorises. {@code t} must not be {@code z}.
     */
    public static void tanh(double[] z, double[] t, int len) {
        if (t == z) {
            throw new IllegalArgumentException("tanh kernel: the output array must differ from the input array");
        }
        for (int i = 0; i < len; i++) {
            t[i] = scaledArgument(z[i]);
        }
        for (int i = 0; i < len; i++) {
            t[i] = series(t[i]);
        }
        for (int i = 0; i < len; i++) {
            t[i] = fromExpm1(t[i]);
        }
        for (int i = 0; i < len; i++) {
            t[i] = Math.copySign(t[i], z[i]);
        }
    }

    /** {@code tanh z}, the same arithmetic as the array form (equal bit for bit). */
    public static double tanh(double z) {
        return Math.copySign(fromExpm1(series(scaledArgument(z))), z);
    }

    private static double scaledArgument(double x) {
        return Math.min(Math.abs(x), SATURATION) * SCALED;
    }

    /** {@code expm1(t)} by its Taylor series to {@code t^16} (Horner). */
    private static double series(double t) {
        return (((((((((((((((C16 * t + C15) * t + C14) * t + C13) * t + C12) * t + C11) * t + C10) * t + C9) * t + C8) * t + C7) * t + C6)
                * t + C5) * t + C4) * t + C3) * t + C2) * t + 1) * t;
    }

    /** {@code tanh |x|} from {@code m = expm1(y / 64)}: six doublings, then {@code -m / (2 + m)}. */
    private static double fromExpm1(double m) {
        m *= 2 + m;
        m *= 2 + m;
        m *= 2 + m;
        m *= 2 + m;
        m *= 2 + m;
        m *= 2 + m;
        return -m / (2 + m);
    }

    /**
     * {@code {tanh z, 1 - tanh^2 z}} for a whole C-order float64 array z, which is overwritten by the
     * value; chunks of native memory go through Java arrays, split over the cores for large arrays.
     */
    public static INDArray[] valueAndSlope(INDArray z) {
        if (!RawAccess.isWholeDouble(z)) {
            throw new IllegalArgumentException("tanh kernel needs a whole C-order float64 array, got " + z.dataType() + " " + z.ordering());
        }
        INDArray slope = Nd4j.createUninitialized(DataType.DOUBLE, z.shape(), 'c');
        long n = z.length();
        long chunks = (n + CHUNK - 1) / CHUNK;
        int parts = n < PARALLEL_ELEMENTS ? 1 : (int) Math.min(chunks, Runtime.getRuntime().availableProcessors());
        IntStream range = IntStream.range(0, parts);
        (parts > 1 ? range.parallel() : range).forEach(p -> {
            double[] in = new double[CHUNK];
            double[] out = new double[CHUNK];
            for (long c = chunks * p / parts; c < chunks * (p + 1) / parts; c++) {
                long from = c * CHUNK;
                int len = (int) Math.min(CHUNK, n - from);
                RawAccess.read(z, from, in, 0, len);
                tanh(in, out, len);
                RawAccess.write(z, from, out, 0, len);
                for (int i = 0; i < len; i++) {
                    out[i] = 1 - out[i] * out[i];
                }
                RawAccess.write(slope, from, out, 0, len);
            }
        });
        return new INDArray[] {z, slope};
    }
}
