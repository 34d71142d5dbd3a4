package dev.curvlab.curvature.spectrum;

import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Seeded random probe blocks {@code [N, b]} for the randomized estimators, generated in Java (one
 * JNI copy per block, deterministic for a seed, independent of ND4J's global random state) and
 * written into reusable f-order float64 buffers. Columns are generated one after another, so the
 * j-th probe of a seed is the same whatever the block size.
 */
final class RandomProbes {
    private final SplittableRandom rng;
    private final long n;
    private double[] scratch = new double[0];
    private INDArray buffer;

    RandomProbes(long seed, long n) {
        this.rng = new SplittableRandom(seed);
        this.n = n;
    }

    /** Independent +-1 entries, {@code [N, b]}; the returned array is reused by the next call. */
    INDArray rademacher(int b) {
        double[] data = scratch(b);
        int rows = (int) n;
        for (int c = 0; c < b; c++) {   // column by column: probe c never depends on the block size
            int base = c * rows;
            for (int i = 0; i < rows; i += 64) {
                long bits = rng.nextLong();
                int end = Math.min(rows, i + 64);
                for (int j = i; j < end; j++) {
                    data[base + j] = 1 - ((bits & 1L) << 1);   // branchless +-1
                    bits >>>= 1;
                }
            }
        }
        return fill(b, data);
    }

    /** A fresh (not reused) standard normal {@code [N, 1]}. */
    INDArray freshGaussian() {
        double[] data = new double[(int) n];
        for (int i = 0; i < data.length; i++) {
            data[i] = nextGaussian();
        }
        return Nd4j.create(data, new long[] {n, 1}, DataType.DOUBLE);
    }

    private double nextGaussian() {
        // Marsaglia polar method on the seeded stream
        double u;
        double v;
        double s;
        do {
            u = 2 * rng.nextDouble() - 1;
            v = 2 * rng.nextDouble() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        return u * Math.sqrt(-2 * Math.log(s) / s);
    }

    private double[] scratch(int b) {
        if (n * b > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a probe block [" + n + ", " + b + "] does not fit one Java array; use a smaller block size");
        }
        int len = (int) (n * b);
        if (scratch.length != len) {
            scratch = new double[len];
        }
        return scratch;
    }

    private INDArray fill(int b, double[] data) {
        if (buffer == null || buffer.size(1) != b) {
            buffer = Nd4j.createUninitialized(DataType.DOUBLE, new long[] {n, b}, 'f');
        }
        buffer.data().setData(data);
        return buffer;
    }
}
