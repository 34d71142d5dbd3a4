package dev.curvlab.curvature.spectrum;

import static dev.curvlab.curvature.spectrum.TestMatrices.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.check.Tolerances;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class SymmetricEigenTest {
    static final double[][] SPECTRA = {
        {3.0, -1.5, 0.25, 7.0, -4.0, 1e-3, 2.0},                          // indefinite
        {1.0, 1.0 + 1e-9, 1.0 + 2e-9, 5.0, 5.0, 5.0, -2.0, -2.0},       // clustered and repeated
        {1e-8, 1.0, 1e4, 3.0, 0.5},                                       // ill-conditioned SPD
        {0.0, 0.0, 2.0, 1.0},                                             // singular
    };

    @Test
    void eigenvaluesMatchKnownSpectraAndAVEqualsVLambda() {
        for (int s = 0; s < SPECTRA.length; s++) {
            double[] lambda = SPECTRA[s];
            INDArray a = TestMatrices.withSpectrum(10 + s, lambda);
            double[] expected = TestMatrices.sortedAscending(lambda);
            assertClose("eigenvalues of spectrum " + s, SymmetricEigen.eigenvalues(a), expected, Tolerances.CLOSED_FORM);
            SymmetricEigen.Decomposition d = SymmetricEigen.decompose(a);
            assertClose("decompose values " + s, d.values(), expected, Tolerances.CLOSED_FORM);
            int n = lambda.length;
            assertEquals(n, d.vectors().size(0));
            assertEquals(n, d.vectors().size(1));
            double scale = Math.max(1, Lanczos.maxAbs(lambda));
            assertTrue(TestMatrices.maxResidual(a, d.vectors(), d.values()) <= 1e-12 * scale, "A V = V diag(lambda), spectrum " + s);
            INDArray vtv = d.vectors().transpose().mmul(d.vectors());
            assertClose("V^T V = I, spectrum " + s, vtv, Nd4j.eye(n).castTo(DataType.DOUBLE), Tolerances.EXACT);
        }
    }

    @Test
    void inputIsNotModifiedAndFloat32IsAccepted() {
        INDArray a = TestMatrices.withSpectrum(3, 1, 2, 3);
        INDArray copy = a.dup();
        SymmetricEigen.decompose(a);
        assertClose("input unchanged", a, copy, 0.0);
        assertClose("float32 input", SymmetricEigen.eigenvalues(a.castTo(DataType.FLOAT)), new double[] {1, 2, 3}, Tolerances.FLOAT32);
    }

    @Test
    void invalidInputsHaveClearErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SymmetricEigen.eigenvalues(Nd4j.zeros(DataType.DOUBLE, 2, 3)));
        assertTrue(e.getMessage().contains("square") && e.getMessage().contains("[2, 3]"), e.getMessage());
        INDArray nan = TestMatrices.withSpectrum(1, 1, 2, 3);
        nan.putScalar(1, 2, Double.NaN);
        e = assertThrows(IllegalArgumentException.class, () -> SymmetricEigen.decompose(nan));
        assertTrue(e.getMessage().contains("non-finite") && e.getMessage().contains("[1, 2]"), e.getMessage());
        INDArray asym = TestMatrices.withSpectrum(1, 1, 2, 3);
        asym.putScalar(0, 1, asym.getDouble(0, 1) + 1e-3);
        e = assertThrows(IllegalArgumentException.class, () -> SymmetricEigen.eigenvalues(asym));
        assertTrue(e.getMessage().contains("not symmetric"), e.getMessage());
    }

    @Test
    void summaryCountsNegativeAndNearZeroAndCondition() {
        SymmetricEigen.Summary s = SymmetricEigen.summarize(new double[] {-2.0, -1e-14, 0.0, 0.5, 4.0}, 1e-10);
        assertEquals(-2.0, s.min());
        assertEquals(4.0, s.max());
        assertEquals(1, s.negative());
        assertEquals(2, s.nearZero());
        assertEquals(8.0, s.condition(), 1e-15);   // 4 / 0.5
        assertEquals(Double.POSITIVE_INFINITY, SymmetricEigen.summarize(new double[] {0, 0}, 1e-10).condition());
        assertEquals(1e4, SymmetricEigen.summarize(new double[] {1e-4, 1.0}, 0).condition(), 1e-6);
    }

    @Test
    void tridiagonalQlMatchesLapackWithSelectedRows() {
        int m = 40;
        java.util.Random r = new java.util.Random(5);
        double[] a = new double[m];
        double[] b = new double[m - 1];
        for (int i = 0; i < m; i++) {
            a[i] = r.nextGaussian();
            if (i < m - 1) {
                b[i] = i == 17 ? 0.0 : r.nextGaussian();   // a zero coupling: block-diagonal T
            }
        }
        INDArray t = Nd4j.diag(TestMatrices.vec(a));
        for (int i = 0; i < m - 1; i++) {
            t.putScalar(i, i + 1, b[i]);
            t.putScalar(i + 1, i, b[i]);
        }
        SymmetricEigen.Decomposition dense = SymmetricEigen.decompose(t);
        TridiagonalEigen.Result ql = TridiagonalEigen.solve(a, b, 0, m - 1);
        assertClose("QL eigenvalues", ql.values(), dense.values(), Tolerances.EXACT * 10);
        double[] first = dense.vectors().getRow(0).toDoubleVector();
        double[] last = dense.vectors().getRow(m - 1).toDoubleVector();
        for (int i = 0; i < m; i++) {   // eigenvectors agree up to sign: compare squares
            assertEquals(first[i] * first[i], ql.rows()[0][i] * ql.rows()[0][i], 1e-12, "first row " + i);
            assertEquals(last[i] * last[i], ql.rows()[1][i] * ql.rows()[1][i], 1e-12, "last row " + i);
        }
    }
}
