package dev.curvlab.curvature.spectrum;

import dev.curvlab.curvature.operator.LinearOperator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The k eigenvalues of largest magnitude of a symmetric operator by power iteration with Hotelling
 * deflation (Hotelling 1933; Golub and Van Loan, 4th ed., 7.3.1 and 8.2.1), mainly as a simple
 * reference for {@link Lanczos} (which needs far fewer products).
 *
 * <p>For eigenpair i, with the converged pairs {@code (lambda_j, v_j)}, {@code j < i}, in
 * {@code V [N, i]}: iterate {@code y = A x - V diag(lambda) V^T x} (the deflated operator
 * {@code A - sum_j lambda_j v_j v_j^T}), {@code lambda = x^T y},
 * {@code x <- y / ||y||}, until {@code ||y - lambda x|| <= tol * |lambda|} or {@code maxIterations}
 * products (default 1000 per pair). Convergence is linear with rate
 * {@code |lambda_{i+1} / lambda_i|}; errors in earlier pairs carry into later ones. Reported
 * residuals are {@code ||A v_i - lambda_i v_i||} for the undeflated A (k extra products).
 */
public final class PowerIteration {
    private PowerIteration() {
    }

    /** The k eigenpairs of largest |lambda|, in the order found (descending |lambda|); vectors {@code [N, k]}. */
    public static EigenResult top(LinearOperator op, int k, EigensolverOptions options) {
        long n = op.size();
        if (k < 1 || k > n) {
            throw new IllegalArgumentException("k = " + k + " is out of range for an operator of size " + n);
        }
        if (!op.isSymmetric()) {
            throw new IllegalArgumentException("PowerIteration (Hotelling deflation) needs a symmetric operator; "
                    + op.getClass().getSimpleName() + " reports isSymmetric() = false");
        }
        int maxIter = options.maxIterations() == 0 ? 1000 : options.maxIterations();
        RandomProbes random = new RandomProbes(options.seed(), n);
        INDArray found = Nd4j.create(DataType.DOUBLE, new long[] {n, k}, 'f');
        double[] values = new double[k];
        boolean converged = true;
        int products = 0;
        for (int i = 0; i < k; i++) {
            INDArray v = found.get(NDArrayIndex.all(), NDArrayIndex.interval(0, i));
            INDArray lambdas = i == 0 ? null : Nd4j.create(java.util.Arrays.copyOf(values, i), new long[] {i, 1}, DataType.DOUBLE);
            INDArray x = random.freshGaussian();
            x.divi(x.norm2Number());
            double lambda = 0;
            boolean done = false;
            for (int it = 0; it < maxIter && !done; it++) {
                INDArray y = op.matmat(x);
                products++;
                if (i > 0) {
                    INDArray h = v.transpose().mmul(x).muli(lambdas);
                    Nd4j.gemm(v, h, y, false, false, -1.0, 1.0);
                }
                lambda = x.mul(y).sumNumber().doubleValue();
                double residual = y.sub(x.mul(lambda)).norm2Number().doubleValue();
                done = residual <= options.tol() * Math.abs(lambda);
                double norm = y.norm2Number().doubleValue();
                if (norm == 0) {
                    done = true;   // x is in the null space of the deflated operator: lambda = 0
                } else if (!done) {
                    x = y.divi(norm);
                }
                options.progress().progress("power iteration", (long) i * maxIter + it + 1, (long) k * maxIter);
            }
            converged &= done;
            values[i] = lambda;
            found.get(NDArrayIndex.all(), NDArrayIndex.interval(i, i + 1)).assign(x);
        }
        INDArray r = op.matmat(found).subi(found.mulRowVector(Nd4j.create(values, new long[] {1, k}, DataType.DOUBLE)));
        double[] residuals = r.norm2(0).toDoubleVector();
        return new EigenResult(values, found, products + k, residuals, converged);
    }
}
