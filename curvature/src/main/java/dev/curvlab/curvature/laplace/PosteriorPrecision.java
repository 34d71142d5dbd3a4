package dev.curvlab.curvature.laplace;

import dev.curvlab.core.kernels.MatMulKernel;
import dev.curvlab.core.kernels.RawAccess;
import dev.curvlab.curvature.kfac.LayerJacobians;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The posterior precision {@code P = c C + D} of a Laplace approximation in one structure
 * ({@link Structure}): C the curvature of the <b>mean</b> loss over the covered layers (one block per
 * layer), c the likelihood's {@link Likelihood#curvatureScale}, D the prior precision (one value
 * {@code delta_l} per covered layer, on that layer's block). C is fixed; c and D vary (the evidence
 * is maximised over them), so each structure keeps C in a form where log det P, solves and
 * functional covariances for any (c, D) are cheap: eigenvalues (full, kron) or the diagonal itself.
 * As laplace-torch's BaseLaplace: one API over the structures.
 */
public abstract class PosteriorPrecision {
    /** Parameters per covered layer, in order. */
    protected final long[] blockSizes;

    protected PosteriorPrecision(long[] blockSizes) {
        this.blockSizes = blockSizes.clone();
    }

    public abstract Structure structure();

    /** The number of covered parameters. */
    public long size() {
        return Arrays.stream(blockSizes).sum();
    }

    public int blocks() {
        return blockSizes.length;
    }

    public long blockSize(int b) {
        return blockSizes[b];
    }

    /** {@code log det P}. */
    public abstract double logDet(double c, double[] delta);

    /** {@code P^-1 V} for {@code V: [size, k]}. */
    public abstract INDArray solve(INDArray v, double c, double[] delta);

    /** The dense matrix P {@code [size, size]} (for small problems and tests). */
    public abstract INDArray dense(double c, double[] delta);

    /**
     * {@code J P^-1 J^T} per input, {@code [S, out, out]}, for Jacobians of the covered layers
     * (layers {@code first..L-1} of {@code jac}).
     */
    public abstract INDArray functionalCovariance(LayerJacobians jac, int first, double c, double[] delta);

    /**
     * {@code J P^-1 J^T} per input, {@code [S, out, out]}, for dense Jacobians {@code J [S, out, size]}
     * of the covered parameters (flat order; any model): {@code J (P^-1 J^T)}, one solve with S*out columns.
     */
    public INDArray functionalCovariance(INDArray jacobian, double c, double[] delta) {
        int s = (int) jacobian.size(0);
        int out = (int) jacobian.size(1);
        int n = (int) jacobian.size(2);
        INDArray rows = jacobian.reshape('c', new long[] {(long) s * out, n});
        double[] x = RawAccess.readAll(solve(rows.transpose().dup('c'), c, delta).transpose().dup('c'));   // [S out, n]
        double[] j = RawAccess.readAll(rows.dup('c'));
        double[] cov = new double[s * out * out];
        for (int i = 0; i < s; i++) {
            for (int o = 0; o < out; o++) {
                for (int q = 0; q < out; q++) {
                    double acc = 0;
                    int jo = (i * out + o) * n;
                    int xq = (i * out + q) * n;
                    for (int k = 0; k < n; k++) {
                        acc += j[jo + k] * x[xq + k];
                    }
                    cov[(i * out + o) * out + q] = acc;
                }
            }
        }
        return Nd4j.create(cov, new long[] {s, out, out}, DataType.DOUBLE);
    }

    /** The arrays that define C, by file stem (what a saved posterior holds). */
    public abstract Map<String, INDArray> arrays();

    /** Fails with a message that says what to do when P has an eigenvalue {@code <= 0}. */
    static void requirePositive(double value, String where) {
        if (!(value > 0)) {
            throw new IllegalStateException("the posterior precision is not positive definite (eigenvalue " + value + where
                    + "); raise the prior precision, or use the GGN instead of the Hessian");
        }
    }

    /**
     * {@code cov[s, o, o'] = sum_p bq[s, o, p] bq[s, o', p] W[s, p]} with {@code W = uq2 inv}: the
     * functional covariance of a layer whose precision is diagonal, {@code 1 / inv[i, p]}, in a basis
     * where the Jacobian row of output o is {@code uq (x) bq[s, o]} (uq2 = uq squared). In Java,
     * samples split over the cores; per sample the weighted rows {@code bq[s, o] . W[s]} once, then
     * the lower triangle of dot products (mirrored).
     */
    static INDArray separableCovariance(INDArray uq2, INDArray bq, INDArray inv) {
        int s = (int) bq.size(0);
        int out = (int) bq.size(1);
        int w = (int) bq.size(2);
        INDArray weights = MatMulKernel.gemm(uq2, inv, false, false);             // [S, w]
        double[] wv = RawAccess.readAll(weights);
        double[] b = RawAccess.readAll(RawAccess.isWholeDouble(bq) ? bq : bq.dup('c'));
        double[] cov = new double[s * out * out];
        int parts = (long) s * out * out * w < (1L << 16) ? 1 : Runtime.getRuntime().availableProcessors();
        IntStream range = IntStream.range(0, parts);
        (parts > 1 ? range.parallel() : range).forEach(part -> {
            double[] weighted = new double[out * w];
            for (int i = s * part / parts; i < s * (part + 1) / parts; i++) {
                sampleCovariance(b, i * out * w, wv, i * w, out, w, weighted, cov, i * out * out);
            }
        });
        weights.close();
        return Nd4j.create(cov, new long[] {s, out, out}, DataType.DOUBLE);
    }

    /** {@code cov[o, q] = sum_p b[o, p] b[q, p] wt[p]} for one sample (offsets into the flat arrays). */
    private static void sampleCovariance(double[] b, int bo, double[] wt, int wo, int out, int w, double[] weighted, double[] cov, int co) {
        for (int o = 0; o < out; o++) {
            for (int p = 0; p < w; p++) {
                weighted[o * w + p] = b[bo + o * w + p] * wt[wo + p];
            }
        }
        for (int o = 0; o < out; o++) {
            for (int q = 0; q <= o; q++) {
                double a0 = 0;
                double a1 = 0;
                int p = 0;
                for (; p + 1 < w; p += 2) {
                    a0 += weighted[o * w + p] * b[bo + q * w + p];
                    a1 += weighted[o * w + p + 1] * b[bo + q * w + p + 1];
                }
                if (p < w) {
                    a0 += weighted[o * w + p] * b[bo + q * w + p];
                }
                cov[co + o * out + q] = a0 + a1;
                cov[co + q * out + o] = a0 + a1;
            }
        }
    }
}
