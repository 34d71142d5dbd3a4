package dev.curvlab.curvature.spectrum;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.check.Tolerances;
import dev.curvlab.curvature.operator.DenseOperator;
import dev.curvlab.curvature.operator.HessianOperator;
import dev.curvlab.curvature.spectrum.TraceEstimator.TraceEstimate;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class TraceEstimatorTest {
    static double[] mixedSpectrum(int n, long seed) {
        Random r = new Random(seed);
        double[] l = new double[n];
        for (int i = 0; i < n; i++) {
            l[i] = 1.0 + r.nextGaussian();
        }
        return l;
    }

    static double sum(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s;
    }

    @Test
    void exactTraceOfMatrixAndOperator() {
        double[] spectrum = mixedSpectrum(30, 1);
        INDArray a = TestMatrices.withSpectrum(2, spectrum);
        TraceEstimate t = TraceEstimator.exact(a);
        assertEquals(sum(spectrum), t.value(), Tolerances.CLOSED_FORM * 30);
        assertEquals(0.0, t.standardError());
        assertEquals("exact", t.method());
        TraceEstimate fromOp = TraceEstimator.exact(new DenseOperator(a), 7);
        assertEquals(t.value(), fromOp.value(), Tolerances.EXACT * 30);
        assertEquals(30, fromOp.matvecs());
    }

    @Test
    void hutchinsonAndHutchPlusPlusAreWithinThreeStandardErrors() {
        int n = 150;
        double[] spectrum = mixedSpectrum(n, 3);
        DenseOperator op = new DenseOperator(TestMatrices.withSpectrum(4, spectrum));
        double exact = sum(spectrum);
        for (long seed = 0; seed < 6; seed++) {
            TraceOptions o = TraceOptions.defaults().withMaxSamples(96).withRelTol(0).withSeed(seed);
            TraceEstimate h = TraceEstimator.hutchinson(op, o);
            assertEquals(96, h.matvecs());
            assertEquals("hutchinson", h.method());
            assertTrue(h.standardError() > 0 && Double.isFinite(h.standardError()));
            assertTrue(Math.abs(h.value() - exact) <= 3 * h.standardError(),
                    "seed " + seed + ": hutchinson " + h.value() + " +- " + h.standardError() + " vs " + exact);
            TraceEstimate hpp = TraceEstimator.hutchPlusPlus(op, o);
            assertEquals(96, hpp.matvecs());
            assertEquals("hutch++", hpp.method());
            assertTrue(Math.abs(hpp.value() - exact) <= 3 * hpp.standardError(),
                    "seed " + seed + ": hutch++ " + hpp.value() + " +- " + hpp.standardError() + " vs " + exact);
        }
    }

    @Test
    void hutchinsonOnHessianIsWithinErrorBars() {
        HessianOperator op = TestMatrices.tanhMlpHessian(new int[] {3, 8, 2}, 20, 31);
        double exact = TraceEstimator.exact(op.toDense(64)).value();
        TraceEstimate h = TraceEstimator.hutchinson(op, TraceOptions.defaults().withMaxSamples(64).withRelTol(0).withSeed(5));
        assertTrue(Math.abs(h.value() - exact) <= 3 * h.standardError(), h + " vs " + exact);
    }

    @Test
    void stopRuleStopsEarlyWhenTheToleranceIsLoose() {
        int n = 100;
        double[] spectrum = mixedSpectrum(n, 5);
        for (int i = 0; i < n; i++) {
            spectrum[i] += 5;   // trace ~ 600, per-probe std ~ sqrt(2 ||A||_F^2) ~ 15
        }
        DenseOperator op = new DenseOperator(TestMatrices.withSpectrum(6, spectrum));
        TraceOptions loose = TraceOptions.defaults().withMaxSamples(512).withMinSamples(16).withBlockSize(8).withRelTol(0.05);
        TraceEstimate h = TraceEstimator.hutchinson(op, loose);
        assertTrue(h.matvecs() < 512 && h.matvecs() >= 16, "stopped after " + h.matvecs());
        assertTrue(h.standardError() <= 0.05 * Math.abs(h.value()));
        TraceEstimate tight = TraceEstimator.hutchinson(op, loose.withRelTol(1e-6));
        assertEquals(512, tight.matvecs(), "tight tolerance runs to maxSamples");
        TraceEstimate none = TraceEstimator.hutchinson(op, loose.withRelTol(0));
        assertEquals(512, none.matvecs());
        TraceEstimate exactCount = TraceEstimator.hutchinson(op, new TraceOptions(40, 1L, null));
        assertEquals(40, exactCount.matvecs());
    }

    @Test
    void blockSizeChangesNeitherTheProbesNorTheStatistics() {
        DenseOperator op = new DenseOperator(TestMatrices.withSpectrum(11, mixedSpectrum(50, 11)));
        TraceOptions o = TraceOptions.defaults().withMaxSamples(45).withRelTol(0).withSeed(7);
        TraceEstimate one = TraceEstimator.hutchinson(op, o.withBlockSize(1));
        for (int b : new int[] {7, 16, 64}) {
            TraceEstimate other = TraceEstimator.hutchinson(op, o.withBlockSize(b));
            assertEquals(one.value(), other.value(), 1e-12 * Math.abs(one.value()), "block " + b);
            assertEquals(one.standardError(), other.standardError(), 1e-12 * one.standardError(), "block " + b);
            assertEquals(45, other.matvecs());
        }
    }

    @Test
    void hutchPlusPlusBeatsHutchinsonOnLowRankPlusNoise() {
        int n = 200;
        double[] spectrum = new double[n];
        Random r = new Random(7);
        for (int i = 0; i < n; i++) {
            spectrum[i] = i < 10 ? 50.0 + 10 * i : 0.01 * r.nextGaussian();
        }
        DenseOperator op = new DenseOperator(TestMatrices.withSpectrum(8, spectrum));
        double exact = sum(spectrum);
        double errH = 0;
        double errHpp = 0;
        for (long seed = 0; seed < 5; seed++) {
            TraceOptions o = TraceOptions.defaults().withMaxSamples(60).withRelTol(0).withSeed(100 + seed);
            errH += Math.abs(TraceEstimator.hutchinson(op, o).value() - exact);
            TraceEstimate hpp = TraceEstimator.hutchPlusPlus(op, o);
            assertEquals(60, hpp.matvecs());
            errHpp += Math.abs(hpp.value() - exact);
        }
        assertTrue(errHpp * 100 < errH, "mean |error|: hutch++ " + errHpp / 5 + " vs hutchinson " + errH / 5);
    }

    @Test
    void hutchPlusPlusWithABudgetCoveringNIsExact() {
        double[] spectrum = mixedSpectrum(12, 9);
        DenseOperator op = new DenseOperator(TestMatrices.withSpectrum(10, spectrum));
        TraceEstimate t = TraceEstimator.hutchPlusPlus(op, TraceOptions.defaults().withMaxSamples(40).withRelTol(0));
        assertEquals(sum(spectrum), t.value(), 1e-10 * 12);
        assertEquals(0.0, t.standardError());
        assertThrows(IllegalArgumentException.class, () -> TraceEstimator.hutchPlusPlus(op, TraceOptions.defaults().withMaxSamples(2)));
    }
}
