package dev.curvlab.curvature.spectrum;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.check.Comparison;
import dev.curvlab.curvature.operator.HessianOperator;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Init;
import dev.curvlab.nn.model.Sequential;
import java.util.Arrays;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Test matrices with known spectra: {@code A = Q diag(lambda) Q^T} with a seeded random orthogonal Q. */
final class TestMatrices {
    private TestMatrices() {
    }

    static INDArray gaussian(long seed, int rows, int cols) {
        Random r = new Random(seed);
        double[] d = new double[rows * cols];
        for (int i = 0; i < d.length; i++) {
            d[i] = r.nextGaussian();
        }
        return Nd4j.create(d, new long[] {rows, cols}, DataType.DOUBLE);
    }

    /** A Haar-ish random orthogonal [n, n] (Householder QR of a Gaussian matrix). */
    static INDArray orthogonal(long seed, int n) {
        INDArray q = gaussian(seed, n, n).dup('f');
        Nd4j.getBlasWrapper().lapack().geqrf(q, Nd4j.create(DataType.DOUBLE, n, n));
        return q.dup('c');
    }

    /** {@code Q diag(lambda) Q^T}, exactly symmetric. */
    static INDArray withSpectrum(long seed, double... lambda) {
        int n = lambda.length;
        INDArray q = orthogonal(seed, n);
        INDArray a = q.mulRowVector(Nd4j.create(lambda, new long[] {1, n}, DataType.DOUBLE)).mmul(q.transpose());
        return a.add(a.transpose()).muli(0.5);
    }

    static double[] sortedAscending(double... values) {
        double[] s = values.clone();
        Arrays.sort(s);
        return s;
    }

    static double[] descending(double[] ascending, int k) {
        double[] out = new double[k];
        for (int i = 0; i < k; i++) {
            out[i] = ascending[ascending.length - 1 - i];
        }
        return out;
    }

    static INDArray vec(double... values) {
        return Nd4j.create(values, new long[] {values.length}, DataType.DOUBLE);
    }

    static void assertClose(String what, INDArray actual, INDArray expected, double tol) {
        assertTrue(Comparison.close(actual, expected, tol), () -> Comparison.describe(what, actual, expected, tol));
    }

    static void assertClose(String what, double[] actual, double[] expected, double tol) {
        assertClose(what, vec(actual), vec(expected), tol);
    }

    /** Largest column norm of {@code A X - X diag(values)}. */
    static double maxResidual(INDArray a, INDArray x, double[] values) {
        INDArray r = a.mmul(x).subi(x.mulRowVector(Nd4j.create(values, new long[] {1, values.length}, DataType.DOUBLE)));
        return r.norm2(0).maxNumber().doubleValue();
    }

    /** The Hessian of the mse of a small tanh MLP (indefinite, away from a minimum). */
    static HessianOperator tanhMlpHessian(int[] widths, int samples, long seed) {
        Sequential m = Sequential.mlp(widths, Activation.TANH);
        Dataset data = new Dataset(gaussian(seed, samples, widths[0]), gaussian(seed + 1, samples, widths[widths.length - 1]));
        INDArray theta = m.initialParameters(Init.XAVIER, seed + 2);
        return new HessianOperator(m, Losses.MSE, data, theta, 0);
    }
}
