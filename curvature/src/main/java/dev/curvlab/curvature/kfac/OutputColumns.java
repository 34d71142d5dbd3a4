package dev.curvlab.curvature.kfac;

import dev.curvlab.core.Rowwise;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.kernels.RawAccess;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.loss.OutputDerivatives;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The per-sample output-space curvature that the factors start from, as a {@link ColumnBlock} in the
 * network outputs {@code f}, scaled by {@code scale} (1/Z for the mean loss):
 * <ul>
 * <li>{@link #exact}: a square root of the loss Hessian {@code H_s = d2 l_s / d f2}: for ce the closed-form
 *     Cholesky factor of {@code diag(p) - p p^T} with its C-1 non-zero columns ({@link #softmaxRoot}); a diagonal H
 *     (mse, bce, poisson) its elementwise root; otherwise a per-sample eigen-decomposition
 *     {@code H = V diag(lambda) V^T} as columns {@code sqrt|lambda_j| v_j} with signs {@code sign(lambda_j)}.</li>
 * <li>{@link #sampled}: {@code samples} gradients {@code d l_s / d f} at labels drawn from the model's
 *     predictive distribution, each scaled by {@code 1/sqrt(samples)}.</li>
 * <li>{@link #empirical}: the gradient at the observed label.</li>
 * </ul>
 */
final class OutputColumns {
    private OutputColumns() {
    }

    static ColumnBlock of(KfacVariant variant, Loss loss, INDArray f, INDArray targets, double scale, int samples, long seed) {
        return switch (variant) {
            case EXACT -> exact(loss, f, targets, scale);
            case MC -> sampled(loss, f, scale, samples, seed);
            case EMPIRICAL -> empirical(loss, f, targets, scale);
        };
    }

    static ColumnBlock exact(Loss loss, INDArray f, INDArray targets, double scale) {
        long n = f.size(0);
        long out = f.size(1);
        double root = Math.sqrt(scale);
        if (loss == Losses.CROSS_ENTROPY) {
            return softmaxRoot(f, root);
        }
        INDArray h = hessian(loss, f, targets);
        double[] hv = RawAccess.readAll(h.dup('c'));
        return isDiagonal(hv, (int) n, (int) out) ? diagonalRoot(hv, (int) n, (int) out, root) : eigenRoot(hv, (int) n, (int) out, root);
    }

    /**
     * The Cholesky factor of each sample's softmax Hessian {@code H = diag(p) - p p^T}, {@code p =
     * softmax(f)}, in closed form, as columns {@code [n, C-1, C]} (H has rank C-1: the last column of
     * the factor is zero and is dropped, a tenth of the work for C = 10). With the tail sums
     * {@code t_j = sum_{i >= j} p_i}, the Schur complement after j steps is {@code diag(p) - p p^T / t_j}
     * on indices {@code >= j}, so column j is {@code L[j, j] = sqrt(p_j t_{j+1} / t_j)} and
     * {@code L[i, j] = -p_i sqrt(p_j / t_j) / sqrt(t_{j+1})} for {@code i > j} (zero when {@code t_{j+1} = 0}).
     * Each column is scaled by {@code root}.
     */
    static ColumnBlock softmaxRoot(INDArray f, double root) {
        int n = (int) f.size(0);
        int out = (int) f.size(1);
        int cols = Math.max(1, out - 1);
        double[] logits = RawAccess.readAll(RawAccess.isWholeDouble(f) ? f : f.dup('c'));
        double[] r = new double[n * cols * out];
        double[] p = new double[out];
        double[] tail = new double[out + 1];
        for (int s = 0; s < n; s++) {
            softmax(logits, s * out, out, p);
            tail[out] = 0;
            for (int i = out - 1; i >= 0; i--) {
                tail[i] = tail[i + 1] + p[i];
            }
            for (int j = 0; j < cols; j++) {
                if (!(tail[j + 1] > 0)) {
                    continue;
                }
                int base = (s * cols + j) * out;
                double head = Math.sqrt(p[j] / tail[j]);
                double below = Math.sqrt(tail[j + 1]);
                r[base + j] = root * head * below;
                for (int i = j + 1; i < out; i++) {
                    r[base + i] = -root * head * (p[i] / below);
                }
            }
        }
        return new ColumnBlock(Nd4j.create(r, new long[] {n, cols, out}, DataType.DOUBLE), null);
    }

    /** {@code p = softmax(logits[off .. off + out))}, shifted by the maximum. */
    private static void softmax(double[] logits, int off, int out, double[] p) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < out; i++) {
            max = Math.max(max, logits[off + i]);
        }
        double total = 0;
        for (int i = 0; i < out; i++) {
            p[i] = Math.exp(logits[off + i] - max);
            total += p[i];
        }
        for (int i = 0; i < out; i++) {
            p[i] /= total;
        }
    }

    /** True when every sample's Hessian {@code hv [n, out, out]} (row-major) is diagonal. */
    private static boolean isDiagonal(double[] hv, int n, int o) {
        for (int s = 0; s < n; s++) {
            for (int i = 0; i < o; i++) {
                for (int j = 0; j < o; j++) {
                    if (i != j && hv[(s * o + i) * o + j] != 0) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /** Columns {@code root sqrt|h_jj| e_j} with signs {@code sign(h_jj)} (none when all are non-negative). */
    private static ColumnBlock diagonalRoot(double[] hv, int n, int o, double root) {
        double[] cols = new double[hv.length];
        double[] signs = new double[n * o];
        boolean negative = false;
        for (int s = 0; s < n; s++) {
            for (int j = 0; j < o; j++) {
                double v = hv[(s * o + j) * o + j];
                cols[(s * o + j) * o + j] = root * Math.sqrt(Math.abs(v));
                signs[s * o + j] = v < 0 ? -1 : 1;
                negative |= v < 0;
            }
        }
        return block(cols, negative ? signs : null, n, o);
    }

    /** Columns {@code root sqrt|lambda_j| v_j} of each sample's eigen-decomposition, signs {@code sign(lambda_j)}. */
    private static ColumnBlock eigenRoot(double[] hv, int n, int o, double root) {
        double[] cols = new double[hv.length];
        double[] signs = new double[n * o];
        double[] a = new double[o * o];
        double[] values = new double[o];
        double[] vectors = new double[o * o];
        boolean negative = false;
        for (int s = 0; s < n; s++) {
            System.arraycopy(hv, s * o * o, a, 0, o * o);
            SmallEigen.decompose(a, o, values, vectors);
            for (int j = 0; j < o; j++) {
                double m = root * Math.sqrt(Math.abs(values[j]));
                signs[s * o + j] = values[j] < 0 ? -1 : 1;
                negative |= values[j] < 0;
                for (int i = 0; i < o; i++) {
                    cols[(s * o + j) * o + i] = m * vectors[i * o + j];
                }
            }
        }
        return block(cols, negative ? signs : null, n, o);
    }

    private static ColumnBlock block(double[] cols, double[] signs, int n, int o) {
        return new ColumnBlock(Nd4j.create(cols, new long[] {n, o, o}, DataType.DOUBLE),
                signs == null ? null : Nd4j.create(signs, new long[] {n, o}, DataType.DOUBLE));
    }

    static ColumnBlock empirical(Loss loss, INDArray f, INDArray targets, double scale) {
        INDArray g = gradient(loss, f, targets);
        return new ColumnBlock(g.reshape(f.size(0), 1, f.size(1)).muli(Math.sqrt(scale)), null);
    }

    static ColumnBlock sampled(Loss loss, INDArray f, double scale, int samples, long seed) {
        long n = f.size(0);
        long out = f.size(1);
        SplittableRandom rng = new SplittableRandom(seed);
        double[] fv = RawAccess.readAll(f.dup('c'));
        INDArray cols = Nd4j.createUninitialized(DataType.DOUBLE, new long[] {n, samples, out}, 'c');
        for (int m = 0; m < samples; m++) {
            double[] y = LabelSampler.sample(loss, fv, (int) n, (int) out, rng);
            long width = loss == Losses.CROSS_ENTROPY ? out : loss.outputsFor(1) == 2 ? out / 2 : out;
            INDArray yt = Nd4j.create(y, new long[] {n, width}, DataType.DOUBLE);
            INDArray g = gradient(loss, f, yt);
            cols.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.point(m),
                    org.nd4j.linalg.indexing.NDArrayIndex.all()).assign(g);
        }
        return new ColumnBlock(cols.muli(Math.sqrt(scale / samples)), null);
    }

    /** {@code d l_s / d f}, {@code [n, out]}, from the closed form or the engine. */
    static INDArray gradient(Loss loss, INDArray f, INDArray targets) {
        OutputDerivatives d = loss.outputDerivatives(f, targets);
        if (d != null) {
            return d.gradient();
        }
        Tensor y = Tensor.of(targets);
        return Rowwise.grad(t -> loss.perSample(t, y)).apply(Tensor.of(f)).array();
    }

    /** {@code d2 l_s / d f2}, {@code [n, out, out]}. */
    static INDArray hessian(Loss loss, INDArray f, INDArray targets) {
        OutputDerivatives d = loss.outputDerivatives(f, targets);
        if (d != null) {
            return d.hessian();
        }
        Tensor y = Tensor.of(targets);
        return Rowwise.hessian(t -> loss.perSample(t, y)).apply(Tensor.of(f)).array();
    }

    /** The diagonals of a C-order {@code [n, m, m]} array as a {@code [n, m]} view. */
    static INDArray diagonalView(INDArray h) {
        long n = h.size(0);
        long m = h.size(1);
        return Nd4j.create(h.data(), new long[] {n, m}, new long[] {m * m, m + 1}, 0, 'c');
    }
}
