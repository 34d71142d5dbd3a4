package dev.curvlab.curvature.spectrum;

import dev.curvlab.curvature.operator.LinearOperator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The diagonal {@code diag(A) [N]} of a square operator: exactly, or by Hutchinson's diagonal
 * estimator (Bekas, Kokiopoulou and Saad, "An estimator for the diagonal of a matrix", Appl.
 * Numer. Math. 2007): for Rademacher {@code v}, {@code E[v * (A v)] = diag(A)} entrywise
 * ({@code *} the elementwise product), with per-entry variance {@code sum_{j != i} A_ij^2}.
 *
 * <p>Probes come {@code blockSize} at a time: {@code P = V * (A V) [N, b]}, one product; per-entry
 * means and sums of squared deviations are merged block by block (Chan, Golub and LeVeque's
 * parallel update), all vectorised over N. The standard error of entry i is its sample standard
 * deviation over {@code sqrt(m)}. Stops once {@code m >= minSamples} and
 * {@code max_i SE_i <= relTol * max_i |d_i|}, or at {@code maxSamples}.
 */
public final class DiagonalEstimator {
    private DiagonalEstimator() {
    }

    /**
     * @param diagonal the (estimated) diagonal {@code [N]}
     * @param standardError per-entry standard errors {@code [N]} (zeros when exact; +Infinity from fewer than 2 probes)
     * @param matvecs operator products used
     */
    public record DiagonalEstimate(INDArray diagonal, INDArray standardError, int matvecs) {
    }

    /** The diagonal of a square matrix. */
    public static DiagonalEstimate exact(INDArray matrix) {
        long n = SymmetricEigen.requireSquareFinite(matrix, "DiagonalEstimator.exact");
        INDArray d = Nd4j.diag(matrix.castTo(DataType.DOUBLE)).reshape(n).dup();
        return new DiagonalEstimate(d, Nd4j.zeros(DataType.DOUBLE, n), 0);
    }

    /** The exact diagonal of an operator from N products with identity blocks of {@code blockSize} columns. */
    public static DiagonalEstimate exact(LinearOperator op, int blockSize) {
        if (blockSize < 1) {
            throw new IllegalArgumentException("blockSize must be >= 1, got " + blockSize);
        }
        long n = op.size();
        INDArray d = Nd4j.create(DataType.DOUBLE, n);
        for (long j = 0; j < n; j += blockSize) {
            long b = Math.min(blockSize, n - j);
            INDArray e = Nd4j.zeros(DataType.DOUBLE, n, b);
            e.get(NDArrayIndex.interval(j, j + b), NDArrayIndex.all()).assign(Nd4j.eye(b).castTo(DataType.DOUBLE));
            INDArray block = op.matmat(e).get(NDArrayIndex.interval(j, j + b), NDArrayIndex.all());
            d.get(NDArrayIndex.interval(j, j + b)).assign(Nd4j.diag(block.dup()).reshape(b));
        }
        return new DiagonalEstimate(d, Nd4j.zeros(DataType.DOUBLE, n), (int) n);
    }

    /** Hutchinson's diagonal estimator; see the class comment. */
    public static DiagonalEstimate hutchinson(LinearOperator op, TraceOptions o) {
        long n = op.size();
        RandomProbes probes = new RandomProbes(o.seed(), n);
        INDArray mean = Nd4j.zeros(DataType.DOUBLE, n, 1);
        INDArray m2 = Nd4j.zeros(DataType.DOUBLE, n, 1);
        int count = 0;
        int min = Math.min(o.minSamples(), o.maxSamples());
        while (count < o.maxSamples()) {
            int b = Math.min(o.blockSize(), o.maxSamples() - count);
            INDArray v = probes.rademacher(b);
            INDArray p = op.matmat(v).muli(v);                                 // [N, b], in the fresh A V
            INDArray blockMean = p.mean(true, 1);                              // [N, 1]
            INDArray blockM2 = p.subiColumnVector(blockMean).muli(p).sum(true, 1);
            INDArray delta = blockMean.subi(mean);                             // blockMean - mean
            double total = count + b;
            mean.addi(delta.mul(b / total));
            m2.addi(blockM2).addi(delta.muli(delta).muli(count * (double) b / total));
            count += b;
            o.progress().progress("diagonal", count, o.maxSamples());
            if (count >= min && count >= 2 && o.relTol() > 0) {
                double maxSe = Math.sqrt(m2.maxNumber().doubleValue() / (count - 1) / count);
                if (maxSe <= o.relTol() * mean.amaxNumber().doubleValue()) {
                    break;
                }
            }
        }
        INDArray se = count < 2 ? Nd4j.valueArrayOf(new long[] {n}, Double.POSITIVE_INFINITY, DataType.DOUBLE)
                : Transforms.sqrt(m2.divi((double) (count - 1) * count), false).reshape(n);
        return new DiagonalEstimate(mean.reshape(n), se, count);
    }
}
