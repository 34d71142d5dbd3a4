package dev.curvlab.curvature.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.check.Comparison;
import dev.curvlab.core.check.Tolerances;
import dev.curvlab.curvature.inference.FisherInference.Coefficient;
import dev.curvlab.curvature.inference.FisherInference.Covariance;
import dev.curvlab.curvature.inference.FisherInference.SingularPolicy;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.inverse.InvertMatrix;
import org.nd4j.linalg.ops.transforms.Transforms;

class FisherInferenceTest {
    static INDArray gaussian(long seed, int rows, int cols) {
        Random r = new Random(seed);
        double[] d = new double[rows * cols];
        for (int i = 0; i < d.length; i++) {
            d[i] = r.nextGaussian();
        }
        return Nd4j.create(d, new long[] {rows, cols}, DataType.DOUBLE);
    }

    static void assertClose(String what, INDArray actual, INDArray expected, double tol) {
        assertTrue(Comparison.close(actual, expected, tol), () -> Comparison.describe(what, actual, expected, tol));
    }

    /** X^T X for a [rows, n] Gaussian X: SPD (rows >= n) or rank-deficient (rows < n). */
    static INDArray gram(long seed, int rows, int n) {
        INDArray x = gaussian(seed, rows, n);
        return x.transpose().mmul(x);
    }

    @Test
    void covarianceOfWellConditionedFisherIsItsInverse() {
        INDArray fisher = gram(1, 40, 6).addi(Nd4j.eye(6).castTo(DataType.DOUBLE));
        Covariance c = FisherInference.covariance(fisher, SingularPolicy.ERROR);
        INDArray inverse = InvertMatrix.invert(fisher, false);
        assertClose("covariance = I^-1", c.matrix(), inverse, Tolerances.CLOSED_FORM);
        assertClose("I C = identity", fisher.mmul(c.matrix()), Nd4j.eye(6).castTo(DataType.DOUBLE), Tolerances.CLOSED_FORM);
        INDArray expectedSe = Transforms.sqrt(Nd4j.diag(inverse).reshape(6), true);
        assertClose("SE = sqrt(diag(I^-1))", c.standardErrors(), expectedSe, Tolerances.CLOSED_FORM);
        assertClose("standardErrors shortcut", FisherInference.standardErrors(fisher), expectedSe, Tolerances.CLOSED_FORM);
        assertEquals(0, c.droppedDirections());
        assertClose("covariance symmetric", c.matrix(), c.matrix().transpose(), 0.0);
    }

    @Test
    void singularFisherErrorsClearlyOrUsesThePseudoInverse() {
        int n = 7;
        INDArray x = gaussian(2, 4, n);
        INDArray fisher = x.transpose().mmul(x);   // rank 4 of 7
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> FisherInference.covariance(fisher, SingularPolicy.ERROR));
        String m = e.getMessage();
        assertTrue(m.contains("smallest eigenvalue") && m.contains("3 of 7") && m.contains("PSEUDO_INVERSE") && m.contains("is singular"), m);
        assertThrows(IllegalStateException.class, () -> FisherInference.standardErrors(fisher));
        Covariance c = FisherInference.covariance(fisher, SingularPolicy.PSEUDO_INVERSE);
        assertEquals(3, c.droppedDirections());
        // closed form: X [4, 7] has full row rank, X+ = X^T (X X^T)^-1 and (X^T X)+ = X+ (X+)^T
        INDArray xPlus = x.transpose().mmul(InvertMatrix.invert(x.mmul(x.transpose()), false));
        INDArray pinv = xPlus.mmul(xPlus.transpose());
        assertClose("pseudo-inverse = Moore-Penrose", c.matrix(), pinv, 1e-9);
        // Moore-Penrose conditions
        assertClose("A A+ A = A", fisher.mmul(c.matrix()).mmul(fisher), fisher, Tolerances.CLOSED_FORM);
        assertClose("A+ A A+ = A+", c.matrix().mmul(fisher).mmul(c.matrix()), c.matrix(), Tolerances.CLOSED_FORM);
        INDArray se = Transforms.sqrt(Nd4j.diag(c.matrix()).reshape(n), true);
        assertClose("pinv SE", c.standardErrors(), se, Tolerances.CLOSED_FORM);
    }

    @Test
    void indefiniteFisherIsNotPositiveDefinite() {
        INDArray f = Nd4j.diag(Nd4j.create(new double[] {4.0, 1.0, -0.5}, new long[] {3}, DataType.DOUBLE));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> FisherInference.covariance(f, SingularPolicy.ERROR));
        assertTrue(e.getMessage().contains("not positive definite") && e.getMessage().contains("-0.5") && e.getMessage().contains("1 negative beyond rounding"),
                e.getMessage());
        Covariance c = FisherInference.covariance(f, SingularPolicy.PSEUDO_INVERSE);
        assertEquals(1, c.droppedDirections());
        assertClose("negative direction dropped", c.standardErrors(), Nd4j.create(new double[] {0.5, 1.0, 0.0}, new long[] {3}, DataType.DOUBLE),
                Tolerances.CLOSED_FORM);
        // a near-singular but positive matrix passes with a looser tolerance and fails with a tighter one
        INDArray near = Nd4j.diag(Nd4j.create(new double[] {1.0, 1e-13}, new long[] {2}, DataType.DOUBLE));
        assertEquals(0, FisherInference.covariance(near, SingularPolicy.ERROR).droppedDirections());
        assertThrows(IllegalStateException.class, () -> FisherInference.covariance(near, SingularPolicy.ERROR, 1e-12));
    }

    @Test
    void waldTableMatchesHandComputation() {
        INDArray est = Nd4j.create(new double[] {1.96, -0.5, 3.0, 0.0}, new long[] {4}, DataType.DOUBLE);
        INDArray se = Nd4j.create(new double[] {1.0, 0.25, 0.5, 2.0}, new long[] {4}, DataType.DOUBLE);
        List<Coefficient> t = FisherInference.coefficients(est, se, List.of("w1", "w2", "w3", "b"));
        assertEquals(4, t.size());
        assertEquals("w1", t.get(0).name());
        assertEquals(1.96, t.get(0).z(), 1e-15);
        assertEquals(0.04999579029644097, t.get(0).pValue(), 1e-12);   // 2 (1 - Phi(1.96))
        assertEquals(-2.0, t.get(1).z(), 1e-15);
        assertEquals(0.04550026389635842, t.get(1).pValue(), 1e-12);   // 2 (1 - Phi(2))
        assertEquals(6.0, t.get(2).z(), 1e-15);
        assertEquals(1.973175290075e-9, t.get(2).pValue(), 1e-20);      // far tail, no cancellation
        assertEquals(0.0, t.get(3).z());
        assertEquals(1.0, t.get(3).pValue(), 1e-15);
        assertEquals(0.3173105078629141, FisherInference.pValue(1.0), 1e-12);
        assertEquals("theta[1]", FisherInference.coefficients(est, se, null).get(1).name());
        assertThrows(IllegalArgumentException.class, () -> FisherInference.coefficients(est, se, List.of("a")));
        assertThrows(IllegalArgumentException.class,
                () -> FisherInference.coefficients(est, Nd4j.ones(DataType.DOUBLE, 3), null));
    }
}
