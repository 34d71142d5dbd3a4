package dev.curvlab.curvature.spectrum;

import static dev.curvlab.curvature.spectrum.TestMatrices.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.curvature.operator.DenseOperator;
import dev.curvlab.curvature.operator.HessianOperator;
import dev.curvlab.curvature.spectrum.Lanczos.Which;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class LanczosTest {
    static final double TOL = 1e-8;

    /** An indefinite spectrum of size n: a few outliers on both sides and a bulk (Hessian-like). */
    static double[] indefinite(int n, long seed) {
        Random r = new Random(seed);
        double[] l = new double[n];
        for (int i = 0; i < n; i++) {
            l[i] = r.nextGaussian() * 0.3;
        }
        double[] outliers = {25.0, 14.0, 9.0, 6.5, 5.0, -8.0, -4.0, -3.0, -2.5, -2.2};
        System.arraycopy(outliers, 0, l, 0, outliers.length);
        return l;
    }

    static double[] expected(double[] spectrum, int k, Which which) {
        double[] asc = TestMatrices.sortedAscending(spectrum);
        int[] idx = Lanczos.select(asc, k, which);
        double[] out = new double[k];
        for (int i = 0; i < k; i++) {
            out[i] = asc[idx[i]];
        }
        return out;
    }

    static void check(String what, INDArray dense, EigenResult r, double[] expected) {
        assertTrue(r.converged(), what + ": not converged after " + r.iterations() + " iterations");
        assertClose(what + ": values", r.values(), expected, TOL);
        assertEquals(expected.length, r.vectors().size(1));
        double scale = Math.max(1, Math.abs(expected[0]));
        assertTrue(TestMatrices.maxResidual(dense, r.vectors(), r.values()) <= TOL * scale, what + ": ||A x - theta x||");
        for (double res : r.residuals()) {
            assertTrue(res <= 1e-9 * scale, what + ": reported residual " + res);
        }
    }

    @Test
    void extremalEigenpairsOfDenseOperatorsMatchDenseEigen() {
        int n = 300;
        double[] spectrum = indefinite(n, 1);
        INDArray a = TestMatrices.withSpectrum(2, spectrum);
        DenseOperator op = new DenseOperator(a);
        for (Which which : Which.values()) {
            for (int k : new int[] {1, 5}) {
                EigenResult r = Lanczos.extremal(op, k, which, EigensolverOptions.defaults().withMaxIterations(200));
                check(which + " k=" + k, a, r, expected(spectrum, k, which));
                assertTrue(r.iterations() < 200, which + " k=" + k + " took " + r.iterations());
            }
        }
        // ascending order for SMALLEST, descending for LARGEST
        EigenResult small = Lanczos.extremal(op, 4, Which.SMALLEST);
        assertTrue(small.values()[0] < small.values()[3]);
        EigenResult large = Lanczos.extremal(op, 4, Which.LARGEST);
        assertTrue(large.values()[0] > large.values()[3]);
    }

    @Test
    void clusteredSpectrumAndExactMultiplicityAreResolved() {
        int n = 120;
        double[] spectrum = new double[n];
        for (int i = 0; i < n; i++) {
            spectrum[i] = 0.01 * i;
        }
        spectrum[0] = 10.0;   // a cluster at the top: 10, 10 + 1e-4, 10 + 2e-4
        spectrum[1] = 10.0 + 1e-4;
        spectrum[2] = 10.0 + 2e-4;
        INDArray a = TestMatrices.withSpectrum(3, spectrum);
        EigenResult r = Lanczos.extremal(new DenseOperator(a), 3, Which.LARGEST, EigensolverOptions.defaults().withMaxIterations(n));
        check("clustered", a, r, expected(spectrum, 3, Which.LARGEST));
        // exact multiplicity with few distinct eigenvalues: the Krylov space breaks down and restarts find the copies
        double[] repeated = new double[200];
        for (int i = 0; i < repeated.length; i++) {
            repeated[i] = i < 3 ? 7.0 : (i < 10 ? -1.0 : 0.5 * (i % 4));
        }
        INDArray b = TestMatrices.withSpectrum(4, repeated);
        // 6 distinct values; -1 has multiplicity 7, so 7 blocks of ~6 Lanczos vectors
        EigenResult top = Lanczos.extremal(new DenseOperator(b), 4, Which.LARGEST, EigensolverOptions.defaults().withMaxIterations(100));
        check("repeated top", b, top, expected(repeated, 4, Which.LARGEST));
        assertTrue(top.iterations() < 30, "repeated top took " + top.iterations());
        EigenResult bottom = Lanczos.extremal(new DenseOperator(b), 8, Which.SMALLEST, EigensolverOptions.defaults().withMaxIterations(100));
        check("repeated bottom", b, bottom, expected(repeated, 8, Which.SMALLEST));
        assertTrue(bottom.iterations() < 60, "repeated bottom took " + bottom.iterations());
    }

    @Test
    void lowRankOperatorBreaksDownAndStopsEarly() {
        double[] spectrum = new double[200];
        double[] nonzero = {9, 7, 5, 3, 1};
        System.arraycopy(nonzero, 0, spectrum, 0, nonzero.length);
        INDArray a = TestMatrices.withSpectrum(6, spectrum);
        EigenResult r = Lanczos.extremal(new DenseOperator(a), 3, Which.LARGEST);
        check("low rank", a, r, new double[] {9, 7, 5});
        assertTrue(r.iterations() <= 10, "iterations " + r.iterations());
        EigenResult zeros = Lanczos.extremal(new DenseOperator(a), 3, Which.SMALLEST);
        check("low rank, smallest (zero, multiplicity 195)", a, zeros, new double[] {0, 0, 0});
    }

    @Test
    void hessianOfTanhMlpMatchesDenseEigen() {
        HessianOperator op = TestMatrices.tanhMlpHessian(new int[] {4, 12, 10, 2}, 25, 21);
        INDArray dense = op.toDense(64);
        double[] spectrum = SymmetricEigen.eigenvalues(dense);
        assertTrue(spectrum[0] < 0 && spectrum[spectrum.length - 1] > 0, "indefinite Hessian expected: " + spectrum[0]);
        int n = (int) op.size();
        for (Which which : new Which[] {Which.LARGEST, Which.SMALLEST}) {
            EigenResult r = Lanczos.extremal(op, 4, which, EigensolverOptions.defaults().withMaxIterations(n));
            check("Hessian " + which, dense, r, expected(spectrum, 4, which));
            assertTrue(r.iterations() < n / 2, which + ": " + r.iterations() + " iterations for N = " + n);
        }
    }

    @Test
    void fullSpaceIsExactAndProgressIsReported() {
        double[] spectrum = {4, -3, 2, 1, 0.5, -0.25};
        INDArray a = TestMatrices.withSpectrum(8, spectrum);
        List<long[]> calls = new ArrayList<>();
        EigenResult r = Lanczos.extremal(new DenseOperator(a), 6, Which.LARGEST_MAGNITUDE,
                EigensolverOptions.defaults().withProgress((task, done, total) -> calls.add(new long[] {done, total})));
        check("k = N", a, r, new double[] {4, -3, 2, 1, 0.5, -0.25});
        assertEquals(6, r.iterations());
        assertEquals(6, calls.size());
        assertEquals(6, calls.get(5)[0]);
    }

    @Test
    void seedsAreReproducibleAndIterationLimitIsReported() {
        double[] spectrum = indefinite(200, 9);
        DenseOperator op = new DenseOperator(TestMatrices.withSpectrum(10, spectrum));
        EigenResult a = Lanczos.extremal(op, 2, Which.SMALLEST, EigensolverOptions.defaults().withSeed(3));
        EigenResult b = Lanczos.extremal(op, 2, Which.SMALLEST, EigensolverOptions.defaults().withSeed(3));
        assertTrue(Arrays.equals(a.values(), b.values()));
        EigenResult limited = Lanczos.extremal(op, 5, Which.SMALLEST, EigensolverOptions.defaults().withMaxIterations(8));
        assertFalse(limited.converged());
        assertEquals(8, limited.iterations());
    }

    @Test
    void invalidArgumentsHaveClearMessages() {
        DenseOperator op = new DenseOperator(TestMatrices.withSpectrum(1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Lanczos.extremal(op, 12, Which.LARGEST));
        assertEquals("k = 12 is out of range for an operator of size 10", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Lanczos.extremal(op, 0, Which.LARGEST));
        e = assertThrows(IllegalArgumentException.class,
                () -> Lanczos.extremal(op, 5, Which.LARGEST, EigensolverOptions.defaults().withMaxIterations(3)));
        assertTrue(e.getMessage().contains("maxIterations = 3"), e.getMessage());
        INDArray nonsym = TestMatrices.gaussian(1, 4, 4);
        e = assertThrows(IllegalArgumentException.class, () -> Lanczos.extremal(new DenseOperator(nonsym), 1, Which.LARGEST));
        assertTrue(e.getMessage().contains("symmetric"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> EigensolverOptions.defaults().withTol(0));
    }

    @Test
    void powerIterationTopThreeMatchesDense() {
        double[] spectrum = new double[80];
        for (int i = 0; i < spectrum.length; i++) {
            spectrum[i] = 0.5 * Math.sin(i);
        }
        spectrum[0] = 10;
        spectrum[1] = -6;
        spectrum[2] = 3;
        INDArray a = TestMatrices.withSpectrum(12, spectrum);
        EigenResult r = PowerIteration.top(new DenseOperator(a), 3, EigensolverOptions.defaults());
        assertTrue(r.converged());
        assertClose("power iteration top-3 by magnitude", r.values(), new double[] {10, -6, 3}, TOL);
        assertTrue(TestMatrices.maxResidual(a, r.vectors(), r.values()) <= 1e-8 * 10);
        EigenResult lz = Lanczos.extremal(new DenseOperator(a), 3, Which.LARGEST_MAGNITUDE);
        assertClose("power iteration vs Lanczos", r.values(), lz.values(), TOL);
        assertTrue(lz.iterations() < r.iterations(), "Lanczos " + lz.iterations() + " vs power " + r.iterations() + " products");
    }
}
