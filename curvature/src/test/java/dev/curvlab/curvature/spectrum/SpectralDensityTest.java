package dev.curvlab.curvature.spectrum;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.curvature.operator.DenseOperator;
import dev.curvlab.curvature.operator.HessianOperator;
import dev.curvlab.curvature.spectrum.SpectralDensity.Density;
import dev.curvlab.curvature.spectrum.SpectralDensity.Histogram;
import dev.curvlab.curvature.spectrum.SpectralDensity.SlqOptions;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class SpectralDensityTest {
    /** SLQ invariants against the exact spectrum: mass 1, nodes inside [min, max], mean = tr/N within 3.5 SE. */
    static void checkSlq(String what, INDArray a, Density d, int probes) {
        double[] spectrum = SymmetricEigen.eigenvalues(a);
        int n = spectrum.length;
        assertEquals(1.0, d.integral(), 1e-6, what + ": density integral");
        assertEquals(1.0, Arrays.stream(d.weights()).sum(), 1e-12, what + ": weights sum");
        double slack = 1e-9 * Math.max(1, Lanczos.maxAbs(spectrum));
        for (double node : d.nodes()) {
            assertTrue(node >= spectrum[0] - slack && node <= spectrum[n - 1] + slack, what + ": node " + node + " outside the spectrum");
        }
        double trace = Arrays.stream(spectrum).sum();
        // Var(v^T A v) for Rademacher v = 2 (||A||_F^2 - sum A_ii^2)
        double fro = a.mul(a).sumNumber().doubleValue();
        double diagSq = DiagonalEstimator.exact(a).diagonal().norm2Number().doubleValue();
        double se = Math.sqrt(2 * (fro - diagSq * diagSq) / probes) / n;
        assertTrue(Math.abs(d.mean() - trace / n) <= 3.5 * se, what + ": mean " + d.mean() + " vs tr/N " + trace / n + " (SE " + se + ")");
        for (double v : d.density()) {
            assertTrue(v >= 0);
        }
    }

    @Test
    void slqOfKnownSpectrumIntegratesToOneAndHasTheRightMean() {
        int n = 400;
        double[] spectrum = new double[n];
        Random r = new Random(2);
        for (int i = 0; i < n; i++) {
            spectrum[i] = i < 5 ? 20 + 5 * i : (i < 10 ? -3 - i : r.nextGaussian());
        }
        INDArray a = TestMatrices.withSpectrum(3, spectrum);
        int probes = 12;
        Density d = SpectralDensity.slq(new DenseOperator(a), SlqOptions.defaults().withProbes(probes).withSteps(60).withParallelProbes(5));
        checkSlq("known spectrum", a, d, probes);
        assertEquals(probes * 60, d.nodes().length);
        assertEquals(1024, d.grid().length);
        // the outliers are resolved as nodes: the largest node is lambda_max
        double maxNode = Arrays.stream(d.nodes()).max().getAsDouble();
        assertEquals(40.0, maxNode, 1e-8);
        // lockstep grouping does not change the result
        Density sequential = SpectralDensity.slq(new DenseOperator(a), SlqOptions.defaults().withProbes(probes).withSteps(60).withParallelProbes(1));
        assertEquals(d.mean(), sequential.mean(), 1e-12);
    }

    @Test
    void slqOfTanhMlpHessian() {
        HessianOperator op = TestMatrices.tanhMlpHessian(new int[] {3, 10, 2}, 20, 51);
        INDArray dense = op.toDense(64);
        int probes = 8;
        Density d = SpectralDensity.slq(op, SlqOptions.defaults().withProbes(probes).withSteps(30).withSeed(4));
        checkSlq("Hessian", dense, d, probes);
    }

    @Test
    void probesStopOnBreakdownAndQuadratureIsThenExact() {
        // 3 distinct eigenvalues: every Krylov space breaks down after 3 steps, and Gauss quadrature is exact
        double[] spectrum = new double[30];
        for (int i = 0; i < spectrum.length; i++) {
            spectrum[i] = i % 3 - 1.0;
        }
        INDArray a = TestMatrices.withSpectrum(4, spectrum);
        Density d = SpectralDensity.slq(new DenseOperator(a), SlqOptions.defaults().withProbes(4).withSteps(20));
        assertEquals(12, d.nodes().length);
        for (double node : d.nodes()) {
            assertEquals(Math.rint(node), node, 1e-10);
        }
        assertEquals(1.0, d.integral(), 1e-6);
    }

    @Test
    void histogramCountsSumToN() {
        double[] spectrum = SymmetricEigen.eigenvalues(TestMatrices.withSpectrum(5, -2, -1, 0, 0, 0.5, 1, 3, 3, 3, 7));
        Histogram h = SpectralDensity.histogram(spectrum, 4);
        assertEquals(5, h.edges().length);
        assertEquals(10, Arrays.stream(h.counts()).sum());
        assertEquals(-2.0, h.edges()[0], 1e-12);
        assertEquals(7.0, h.edges()[4], 1e-12);
        assertEquals(1, h.counts()[3]);   // [4.75, 7]: only 7
        assertEquals(4, h.counts()[0]);   // [-2, 0.25): -2, -1, 0, 0
        assertEquals(2, h.counts()[1]);   // [0.25, 2.5): 0.5, 1
        Histogram single = SpectralDensity.histogram(new double[] {2, 2, 2}, 3);
        assertEquals(3, Arrays.stream(single.counts()).sum());
        assertThrows(IllegalArgumentException.class, () -> SpectralDensity.histogram(new double[0], 3));
        Density exact = SpectralDensity.of(spectrum, 0, 512);
        assertEquals(1.0, exact.integral(), 1e-6);
        assertEquals(Arrays.stream(spectrum).sum() / 10, exact.mean(), 1e-10);
    }
}
