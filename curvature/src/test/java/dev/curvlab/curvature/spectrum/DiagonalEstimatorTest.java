package dev.curvlab.curvature.spectrum;

import static dev.curvlab.curvature.spectrum.TestMatrices.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.check.Tolerances;
import dev.curvlab.curvature.operator.DenseOperator;
import dev.curvlab.curvature.operator.HessianOperator;
import dev.curvlab.curvature.spectrum.DiagonalEstimator.DiagonalEstimate;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class DiagonalEstimatorTest {
    @Test
    void exactDiagonalOfMatrixAndOperator() {
        HessianOperator op = TestMatrices.tanhMlpHessian(new int[] {3, 6, 2}, 15, 41);
        INDArray dense = op.toDense(64);
        DiagonalEstimate d = DiagonalEstimator.exact(dense);
        long n = op.size();
        double[] expected = new double[(int) n];
        for (int i = 0; i < n; i++) {
            expected[i] = dense.getDouble(i, i);
        }
        assertClose("exact diagonal", d.diagonal(), TestMatrices.vec(expected), 0.0);
        assertEquals(0.0, d.standardError().amaxNumber().doubleValue());
        DiagonalEstimate fromOp = DiagonalEstimator.exact(op, 5);
        assertClose("diagonal from identity blocks", fromOp.diagonal(), d.diagonal(), Tolerances.EXACT);
        assertEquals(n, fromOp.matvecs());
    }

    @Test
    void hutchinsonDiagonalIsWithinErrorBars() {
        int n = 120;
        double[] spectrum = new double[n];
        for (int i = 0; i < n; i++) {
            spectrum[i] = 2.0 + Math.cos(i);
        }
        INDArray a = TestMatrices.withSpectrum(3, spectrum);
        INDArray exact = DiagonalEstimator.exact(a).diagonal();
        // true per-probe standard deviation of entry i: sqrt(sum_{j != i} A_ij^2)
        INDArray offSq = a.mul(a).sum(1).subi(exact.mul(exact));
        int m = 200;
        DiagonalEstimate d = DiagonalEstimator.hutchinson(new DenseOperator(a), TraceOptions.defaults().withMaxSamples(m).withRelTol(0).withSeed(4));
        assertEquals(m, d.matvecs());
        double[] est = d.diagonal().toDoubleVector();
        double[] se = d.standardError().toDoubleVector();
        double[] ex = exact.toDoubleVector();
        double[] trueSe = org.nd4j.linalg.ops.transforms.Transforms.sqrt(offSq.div(m), true).toDoubleVector();
        int within2 = 0;
        for (int i = 0; i < n; i++) {
            double z = Math.abs(est[i] - ex[i]) / se[i];
            assertTrue(z <= 4.5, "entry " + i + ": " + est[i] + " +- " + se[i] + " vs " + ex[i]);
            within2 += z <= 2 ? 1 : 0;
            assertTrue(se[i] > 0.75 * trueSe[i] && se[i] < 1.25 * trueSe[i], "entry " + i + ": SE " + se[i] + " vs true " + trueSe[i]);
        }
        assertTrue(within2 >= 0.88 * n, within2 + " of " + n + " within 2 SE");
    }

    @Test
    void blockSizeDoesNotChangeTheMomentsAndStopRuleWorks() {
        INDArray a = TestMatrices.withSpectrum(5, 1, 2, 3, 4, 5, 6, 7, 8);
        DenseOperator op = new DenseOperator(a);
        // the same probes whatever the block size, so the block-merged moments must agree with one-probe blocks
        TraceOptions o = TraceOptions.defaults().withMaxSamples(37).withRelTol(0).withSeed(3);
        DiagonalEstimate one = DiagonalEstimator.hutchinson(op, o.withBlockSize(1));
        for (int b : new int[] {5, 16, 37}) {
            DiagonalEstimate other = DiagonalEstimator.hutchinson(op, o.withBlockSize(b));
            assertClose("diagonal, block " + b, other.diagonal(), one.diagonal(), Tolerances.EXACT);
            assertClose("standard errors, block " + b, other.standardError(), one.standardError(), Tolerances.EXACT);
        }
        INDArray diag = Nd4j.diag(TestMatrices.vec(1, -2, 3, 4));
        DiagonalEstimate exactOnDiagonal = DiagonalEstimator.hutchinson(new DenseOperator(diag),
                TraceOptions.defaults().withMaxSamples(10).withBlockSize(3).withRelTol(0));
        assertClose("diagonal matrix is estimated exactly", exactOnDiagonal.diagonal(), TestMatrices.vec(1, -2, 3, 4), Tolerances.EXACT);
        assertEquals(0.0, exactOnDiagonal.standardError().amaxNumber().doubleValue(), 1e-12);
        DiagonalEstimate early = DiagonalEstimator.hutchinson(op,
                TraceOptions.defaults().withMaxSamples(4000).withMinSamples(8).withBlockSize(8).withRelTol(0.2));
        assertTrue(early.matvecs() < 4000, "stopped after " + early.matvecs());
        assertTrue(early.standardError().maxNumber().doubleValue() <= 0.2 * early.diagonal().amaxNumber().doubleValue());
    }
}
