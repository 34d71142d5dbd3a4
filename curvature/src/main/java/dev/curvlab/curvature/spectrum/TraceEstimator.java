package dev.curvlab.curvature.spectrum;

import dev.curvlab.curvature.operator.LinearOperator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The trace of a square operator {@code A [N, N]}: exactly from a matrix, or by randomized
 * estimators that only use products {@code A V}, {@code V [N, b]}.
 *
 * <ul>
 * <li>Hutchinson (Hutchinson 1990; Avron and Toledo 2011): for Rademacher {@code v} (independent
 * +-1 entries) {@code E[v^T A v] = tr(A)} with {@code Var = 2 sum_{i != j} A_ij^2} for symmetric A.
 * Probes are drawn {@code blockSize} at a time ({@code V [N, b]}, one product; per-probe values are
 * the column sums of {@code V * (A V)}); the estimate is their mean and the standard error the
 * sample standard deviation over {@code sqrt(m)}. Stops once {@code m >= minSamples} and
 * {@code SE <= relTol * |estimate|}, or at {@code maxSamples}.
 * <li>Hutch++ (Meyer, Musco, Musco and Woodruff, "Hutch++: Optimal stochastic trace estimation",
 * SOSA 2021): with a budget of M = maxSamples products, {@code r = M/3} (capped at N): a Rademacher
 * sketch {@code S [N, r]}, {@code Q = orth(A S)} (Householder QR), the exact part
 * {@code tr(Q^T A Q)} (r products) plus Hutchinson with the remaining {@code M - 2r} probes on the
 * deflated {@code (I - QQ^T) A (I - QQ^T)} (same stop rule; its standard error is reported). The
 * error falls as {@code O(1/M)} instead of {@code O(1/sqrt(M))} when the spectrum decays.
 * </ul>
 */
public final class TraceEstimator {
    private TraceEstimator() {
    }

    /**
     * @param value the trace (estimate)
     * @param standardError its estimated standard error (0 when exact; +Infinity from fewer than 2 probes)
     * @param matvecs operator products used (columns of all {@code A V} blocks)
     * @param method "exact", "hutchinson" or "hutch++"
     */
    public record TraceEstimate(double value, double standardError, int matvecs, String method) {
    }

    /** {@code sum_i A_ii} of a square matrix. */
    public static TraceEstimate exact(INDArray matrix) {
        SymmetricEigen.requireSquareFinite(matrix, "TraceEstimator.exact");
        double t = Nd4j.diag(matrix.castTo(DataType.DOUBLE)).sumNumber().doubleValue();
        return new TraceEstimate(t, 0.0, 0, "exact");
    }

    /** The exact trace of an operator from N products with identity blocks of {@code blockSize} columns. */
    public static TraceEstimate exact(LinearOperator op, int blockSize) {
        INDArray diag = DiagonalEstimator.exact(op, blockSize).diagonal();
        return new TraceEstimate(diag.sumNumber().doubleValue(), 0.0, (int) op.size(), "exact");
    }

    /** Hutchinson's estimator; see the class comment. */
    public static TraceEstimate hutchinson(LinearOperator op, TraceOptions o) {
        long n = op.size();
        RandomProbes probes = new RandomProbes(o.seed(), n);
        Moments stats = new Moments();
        sample(op, null, probes, o, o.maxSamples(), Math.min(o.minSamples(), o.maxSamples()), 0.0, stats, "hutchinson", 0);
        return new TraceEstimate(stats.mean(), stats.standardError(), stats.count(), "hutchinson");
    }

    /** Hutch++; see the class comment. Needs {@code maxSamples >= 3}. */
    public static TraceEstimate hutchPlusPlus(LinearOperator op, TraceOptions o) {
        long n = op.size();
        if (o.maxSamples() < 3) {
            throw new IllegalArgumentException("Hutch++ needs a budget of at least 3 products (maxSamples), got " + o.maxSamples());
        }
        int r = (int) Math.min(n, o.maxSamples() / 3);
        RandomProbes probes = new RandomProbes(o.seed(), n);
        INDArray q = op.matmat(probes.rademacher(r)).dup('f');
        INDArray rFactor = Nd4j.create(DataType.DOUBLE, r, r);
        Nd4j.getBlasWrapper().lapack().geqrf(q, rFactor);   // q <- Q [N, r], orthonormal columns
        double low = op.matmat(q).muli(q).sumNumber().doubleValue();   // tr(Q^T A Q)
        o.progress().progress("hutch++", 2L * r, o.maxSamples());
        int rest = o.maxSamples() - 2 * r;
        Moments stats = new Moments();
        if (r < n && rest > 0) {
            sample(op, q, probes, o, rest, Math.min(o.minSamples(), rest), low, stats, "hutch++", 2 * r);
        }
        double se = r == n ? 0.0 : stats.standardError();
        return new TraceEstimate(low + (stats.count() > 0 ? stats.mean() : 0.0), se, 2 * r + stats.count(), "hutch++");
    }

    /**
     * Draws Rademacher probes in blocks into {@code stats}: values {@code (P v)^T A (P v)} with
     * {@code P = I - Q Q^T} (or I when {@code q == null}); stop rule on {@code offset + mean}.
     */
    private static void sample(LinearOperator op, INDArray q, RandomProbes probes, TraceOptions o, int max, int min, double offset,
            Moments stats, String task, int productsBefore) {
        while (stats.count() < max) {
            int b = Math.min(o.blockSize(), max - stats.count());
            INDArray v = probes.rademacher(b);
            if (q != null) {
                v = v.sub(q.mmul(q.transpose().mmul(v)));
            }
            double[] values = op.matmat(v).muli(v).sum(0).toDoubleVector();   // v_c^T (A v)_c; A V is a fresh array
            for (double x : values) {
                stats.add(x);
            }
            o.progress().progress(task, productsBefore + stats.count(), o.maxSamples());
            if (stats.count() >= min && stats.count() >= 2 && o.relTol() > 0
                    && stats.standardError() <= o.relTol() * Math.abs(offset + stats.mean())) {
                break;
            }
        }
    }

    /** Welford's running mean and variance. */
    static final class Moments {
        private int count;
        private double mean;
        private double m2;

        void add(double x) {
            count++;
            double d = x - mean;
            mean += d / count;
            m2 += d * (x - mean);
        }

        int count() {
            return count;
        }

        double mean() {
            return mean;
        }

        /** Sample standard deviation over sqrt(count); +Infinity below 2 samples. */
        double standardError() {
            return count < 2 ? Double.POSITIVE_INFINITY : Math.sqrt(m2 / (count - 1) / count);
        }
    }
}
