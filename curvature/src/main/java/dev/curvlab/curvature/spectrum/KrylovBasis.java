package dev.curvlab.curvature.spectrum;

import dev.curvlab.curvature.operator.LinearOperator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The Lanczos process with full reorthogonalisation, shared by {@link Lanczos} and
 * {@link SpectralDensity}. It keeps the orthonormal basis {@code Q = [q_1 ... q_m]} in one
 * preallocated f-order array {@code [N, capacity]} (so {@code Q_j = Q[:, 0..j]} is a plain GEMM
 * operand) and the tridiagonal {@code T_m}: {@code alpha_j = q_j^T A q_j}, {@code beta_j}.
 *
 * <p>Step j, given {@code w = A q_j}: two classical Gram-Schmidt passes against all of {@code Q_j}
 * ("twice is enough"), each two GEMMs: {@code h = Q_j^T w; w -= Q_j h}; {@code alpha_j} is the sum
 * of the two projections' last entries and {@code beta_j = ||w||}; then {@code q_{j+1} = w / beta_j}
 * ({@link #accept}) or, on breakdown (an invariant subspace), a random vector orthogonal to
 * {@code Q_j} with {@code beta_j := 0} in T ({@link #restart}). In exact arithmetic
 * {@code A Q_m = Q_m T_m + beta_m q_{m+1} e_m^T}.
 */
final class KrylovBasis {
    private final LinearOperator op;
    private final long n;
    private final int capacity;
    private final INDArray basis;
    private final INDArray coefficients;
    private final INDArray work;
    private final double[] alpha;
    private final double[] beta;
    private int size;
    private double pendingBeta = Double.NaN;

    KrylovBasis(LinearOperator op, int capacity) {
        this.op = op;
        this.n = op.size();
        this.capacity = capacity;
        this.basis = Nd4j.createUninitialized(DataType.DOUBLE, new long[] {n, capacity}, 'f');
        this.coefficients = Nd4j.createUninitialized(DataType.DOUBLE, new long[] {capacity, 1}, 'f');
        this.work = Nd4j.createUninitialized(DataType.DOUBLE, new long[] {n, 1}, 'f');
        this.alpha = new double[capacity];
        this.beta = new double[capacity];
    }

    /** Forgets the basis (the buffer is reused) and starts from {@code v [N, 1]} (normalised here; must be nonzero). */
    void reset(INDArray v) {
        size = 0;
        pendingBeta = Double.NaN;
        double norm = v.norm2Number().doubleValue();
        if (!(norm > 0) || !Double.isFinite(norm)) {
            throw new IllegalArgumentException("Lanczos start vector has norm " + norm);
        }
        column(0).assign(v).divi(norm);
        size = 1;
    }

    int size() {
        return size;
    }

    int capacity() {
        return capacity;
    }

    /** The newest basis vector {@code q_m} as an {@code [N, 1]} view. */
    INDArray current() {
        return column(size - 1);
    }

    /**
     * One Lanczos step for the newest vector, given {@code aq = A q_m [N, 1]}: computes
     * {@code alpha_m} and the reorthogonalised residual, returns {@code beta_m = ||w||}.
     */
    double extend(INDArray aq) {
        if (!Double.isNaN(pendingBeta)) {
            throw new IllegalStateException("extend called twice without accept/restart");
        }
        int j = size - 1;
        work.assign(aq);
        INDArray q = basis.get(NDArrayIndex.all(), NDArrayIndex.interval(0, size));
        INDArray h = coefficients.get(NDArrayIndex.interval(0, size), NDArrayIndex.all());
        double a = 0;
        for (int pass = 0; pass < 2; pass++) {
            Nd4j.gemm(q, work, h, true, false, 1.0, 0.0);
            a += h.getDouble(j, 0);
            Nd4j.gemm(q, h, work, false, false, -1.0, 1.0);
        }
        alpha[j] = a;
        pendingBeta = work.norm2Number().doubleValue();
        return pendingBeta;
    }

    /** Continues with {@code q_{m+1} = w / beta_m}. */
    void accept() {
        requirePending();
        int j = size - 1;
        beta[j] = pendingBeta;
        column(size).assign(work).divi(pendingBeta);
        size++;
        pendingBeta = Double.NaN;
    }

    /**
     * After a breakdown: {@code beta_m := 0} and the next vector is {@code random} orthogonalised
     * (twice) against the basis. Returns false (and adds nothing) when the random vector lies in
     * the span numerically, which only happens when the basis already spans R^N.
     */
    boolean restart(INDArray random) {
        requirePending();
        if (size >= n) {
            return false;
        }
        int j = size - 1;
        work.assign(random);
        double before = work.norm2Number().doubleValue();
        INDArray q = basis.get(NDArrayIndex.all(), NDArrayIndex.interval(0, size));
        INDArray h = coefficients.get(NDArrayIndex.interval(0, size), NDArrayIndex.all());
        for (int pass = 0; pass < 2; pass++) {
            Nd4j.gemm(q, work, h, true, false, 1.0, 0.0);
            Nd4j.gemm(q, h, work, false, false, -1.0, 1.0);
        }
        double norm = work.norm2Number().doubleValue();
        if (!(norm > 1e-8 * before)) {
            return false;
        }
        beta[j] = 0.0;
        column(size).assign(work).divi(norm);
        size++;
        pendingBeta = Double.NaN;
        return true;
    }

    /** {@code alpha_1..alpha_m} (copy). */
    double[] alphas() {
        return java.util.Arrays.copyOf(alpha, size);
    }

    /** {@code beta_1..beta_{m-1}} as used in T (0 at restarts) (copy). */
    double[] betas() {
        return java.util.Arrays.copyOf(beta, Math.max(0, size - 1));
    }

    /** {@code T_m} as a dense symmetric {@code [m, m]} array. */
    INDArray tridiagonal() {
        int m = size;
        double[] t = new double[m * m];
        for (int i = 0; i < m; i++) {
            t[i * m + i] = alpha[i];
            if (i + 1 < m) {
                t[i * m + i + 1] = beta[i];
                t[(i + 1) * m + i] = beta[i];
            }
        }
        return Nd4j.create(t, new long[] {m, m}, DataType.DOUBLE);
    }

    /** {@code Q_m S} for {@code S [m, k]}: Ritz vectors {@code [N, k]}. */
    INDArray combine(INDArray s) {
        return basis.get(NDArrayIndex.all(), NDArrayIndex.interval(0, size)).mmul(s);
    }

    private INDArray column(int j) {
        return basis.get(NDArrayIndex.all(), NDArrayIndex.interval(j, j + 1));
    }

    private void requirePending() {
        if (Double.isNaN(pendingBeta)) {
            throw new IllegalStateException("accept/restart needs a preceding extend");
        }
        if (size >= capacity) {
            throw new IllegalStateException("Krylov basis is full (" + capacity + " vectors)");
        }
    }
}
