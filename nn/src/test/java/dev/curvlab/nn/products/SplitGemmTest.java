package dev.curvlab.nn.products;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.check.Tolerances;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Split products ({@link SplitGemm}: bands of rows of C, slices of the inner dimension) against a
 * plain triple loop over Java arrays, to {@link Tolerances#EXACT} relative to the largest entry: every
 * transpose combination, beta 0 and 1/2 on a filled C, operands that are blocks inside larger
 * matrices, and two threads at once (one gets the helper, the other runs unsplit).
 */
class SplitGemmTest {
    /** {m, inner, n, transpose A, transpose B}: bands (inner <= 256) and slices (long inner, small C). */
    private static final int[][] CASES = {{300, 41, 40, 0, 0}, {41, 200, 40, 1, 0}, {300, 40, 41, 0, 1}, {41, 250, 33, 1, 1},
        {65, 5000, 64, 1, 0}, {20, 3000, 30, 0, 0}, {33, 4001, 17, 1, 1}};

    @Test
    void splitProductsEqualATripleLoop() {
        Random rnd = new Random(3);
        for (int[] c : CASES) {
            assertNotNull(SplitGemm.layout(c[0], c[1], c[2]), "case " + java.util.Arrays.toString(c) + " is split");
            for (double beta : new double[] {0.0, 0.5}) {
                check(c[0], c[1], c[2], c[3] == 1, c[4] == 1, beta, rnd, true);
            }
        }
    }

    @Test
    void layoutsFollowTheSizeRules() {
        assertNull(SplitGemm.layout(64, 32, 32), "below the minimum size");
        assertNull(SplitGemm.layout(256, 65, 1024), "C too wide for bands of four rows");
        assertNull(SplitGemm.layout(1000, 1000, 1000), "long inner dimension and a large C");
        SplitGemm.Layout bands = SplitGemm.layout(256, 65, 64);
        assertEquals(0, bands.slice());
        assertTrue((long) bands.bandRows() * 65 * 64 <= SplitGemm.PIECE_MADDS, "a band stays single-threaded in OpenBLAS");
        SplitGemm.Layout slices = SplitGemm.layout(65, 20000, 64);
        assertTrue(slices.slice() >= SplitGemm.MIN_SLICE && (long) slices.slice() * 65 * 64 <= SplitGemm.PIECE_MADDS, "slice " + slices);
        assertTrue(SplitGemm.keepsOneBlasThread(10, 10, 10) && !SplitGemm.keepsOneBlasThread(256, 65, 1024));
    }

    @Test
    void twoThreadsAtOnceGetCorrectProducts() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<?>> runs = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                int seed = t;
                runs.add(pool.submit(() -> {
                    Random rnd = new Random(seed);
                    for (int i = 0; i < 20; i++) {
                        int[] c = CASES[(i + seed) % CASES.length];
                        check(c[0], c[1], c[2], c[3] == 1, c[4] == 1, i % 2 * 0.5, rnd, false);
                    }
                }));
            }
            for (Future<?> run : runs) {
                run.get();
            }
        } finally {
            pool.shutdown();
        }
    }

    /** One product through {@link Gemm} with the split on, operands placed at offsets inside larger matrices, against the triple loop. */
    private static void check(int m, int inner, int n, boolean ta, boolean tb, double beta, Random rnd, boolean mustSplit) {
        double[] a = gaussian(rnd, m * inner);
        double[] b = gaussian(rnd, inner * n);
        double[] c = gaussian(rnd, m * n);
        double[] want = tripleLoop(a, ta, b, tb, c, beta, m, inner, n);
        Matrix aHost = Matrix.zeros(1, a.length + 7);
        Matrix bHost = Matrix.zeros(1, b.length + 5);
        Matrix cHost = Matrix.zeros(1, c.length + 3);
        try (Gemm gemm = new Gemm(true)) {
            Matrix am = aHost.block(7, ta ? inner : m, ta ? m : inner);
            Matrix bm = bHost.block(5, tb ? n : inner, tb ? inner : n);
            Matrix cm = cHost.block(3, m, n);
            am.write(a);
            bm.write(b);
            cm.write(c);
            if (mustSplit) {
                Matrix scratch = Matrix.zeros(1, m * n);
                assertTrue(SplitGemm.run(am, ta, bm, tb, cm, beta, m, inner, n, scratch), "the helper was free and the product split");
                scratch.close();
            } else {
                gemm.product(am, ta, bm, tb, cm, beta);
            }
            double[] got = new double[m * n];
            cm.read(got);
            double scale = 0;
            double err = 0;
            for (int i = 0; i < got.length; i++) {
                scale = Math.max(scale, Math.abs(want[i]));
                err = Math.max(err, Math.abs(got[i] - want[i]));
            }
            assertTrue(err <= Tolerances.EXACT * scale, m + "x" + inner + "x" + n + " ta=" + ta + " tb=" + tb + " beta=" + beta + ": error " + err);
        } finally {
            aHost.close();
            bHost.close();
            cHost.close();
        }
    }

    private static double[] tripleLoop(double[] a, boolean ta, double[] b, boolean tb, double[] c, double beta, int m, int inner, int n) {
        double[] out = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < inner; p++) {
                    s += (ta ? a[p * m + i] : a[i * inner + p]) * (tb ? b[j * inner + p] : b[p * n + j]);
                }
                out[i * n + j] = s + beta * c[i * n + j];
            }
        }
        return out;
    }

    private static double[] gaussian(Random rnd, int len) {
        double[] v = new double[len];
        for (int i = 0; i < len; i++) {
            v[i] = rnd.nextGaussian();
        }
        return v;
    }
}
