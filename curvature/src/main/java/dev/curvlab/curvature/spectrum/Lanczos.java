package dev.curvlab.curvature.spectrum;

import dev.curvlab.curvature.operator.LinearOperator;
import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * k extremal eigenpairs of a symmetric operator {@code A [N, N]} (known only through
 * {@code matmat}) by the Lanczos method with full reorthogonalisation (Lanczos 1950; Golub and Van
 * Loan, <i>Matrix Computations</i>, 4th ed., 10.1-10.3; Parlett, <i>The Symmetric Eigenvalue
 * Problem</i>, ch. 13).
 *
 * <p>From a seeded Gaussian start vector, step m adds {@code q_{m+1}} to the orthonormal basis
 * {@code Q_m [N, m]} (one product {@code A q_m}; two GEMM-based Gram-Schmidt passes against all of
 * {@code Q_m}, see {@link KrylovBasis}), giving the tridiagonal {@code T_m = Q_m^T A Q_m}. Its
 * eigenpairs {@code T_m s_i = theta_i s_i} are the Ritz values {@code theta_i} and vectors
 * {@code x_i = Q_m s_i}, with residual {@code ||A x_i - theta_i x_i|| = |beta_m s_{m,i}|}.
 * Iteration stops when the k wanted Ritz values satisfy
 * {@code |beta_m s_{m,i}| <= tol * max_j |theta_j|}, the Krylov space is all of R^N, or after
 * {@code maxIterations} products (default {@code min(N, max(2k + 20, 60))}); no restarts, so the
 * basis costs {@code 8 N maxIterations} bytes.
 *
 * <p>Repeated eigenvalues: a single Krylov sequence sees each eigenvalue once. When the process
 * breaks down ({@code beta_m ~ 0}: an invariant subspace) it continues from a fresh random vector
 * orthogonal to the basis ({@code beta_m := 0}, T block diagonal), and the newest block's extreme
 * Ritz value(s) on the wanted side must also converge, so exact multiplicities are found once the
 * earlier blocks are exhausted. Without a breakdown, copies of an eigenvalue that the start vector
 * missed are not found (as in any single-vector Krylov method).
 */
public final class Lanczos {
    /** Relative size of {@code beta_m} (against the running norm estimate) treated as a breakdown. */
    static final double BREAKDOWN = 1e-12;

    /** Which end of the spectrum: algebraically largest, algebraically smallest, or largest |lambda|. */
    public enum Which {
        LARGEST, SMALLEST, LARGEST_MAGNITUDE
    }

    private Lanczos() {
    }

    /** {@link #extremal(LinearOperator, int, Which, EigensolverOptions)} with {@link EigensolverOptions#defaults()}. */
    public static EigenResult extremal(LinearOperator op, int k, Which which) {
        return extremal(op, k, which, EigensolverOptions.defaults());
    }

    /**
     * The k eigenpairs at the {@code which} end of the spectrum of the symmetric operator {@code op}.
     * Values are sorted descending for LARGEST, ascending for SMALLEST, by descending magnitude for
     * LARGEST_MAGNITUDE; vectors are {@code [N, k]}.
     */
    public static EigenResult extremal(LinearOperator op, int k, Which which, EigensolverOptions options) {
        long nl = op.size();
        if (k < 1 || k > nl) {
            throw new IllegalArgumentException("k = " + k + " is out of range for an operator of size " + nl);
        }
        if (!op.isSymmetric()) {
            throw new IllegalArgumentException("Lanczos needs a symmetric operator; " + op.getClass().getSimpleName()
                    + " reports isSymmetric() = false");
        }
        if (nl > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("operator size " + nl + " is too large");
        }
        int n = (int) nl;
        int cap = options.maxIterations() == 0 ? Math.min(n, Math.max(2 * k + 20, 60)) : Math.min(n, options.maxIterations());
        if (cap < k) {
            throw new IllegalArgumentException("maxIterations = " + options.maxIterations() + " is smaller than k = " + k);
        }
        RandomProbes random = new RandomProbes(options.seed(), n);
        KrylovBasis kb = new KrylovBasis(op, cap);
        kb.reset(random.freshGaussian());
        double tol = options.tol();
        double norm = 0;
        int blockStart = 0;
        boolean converged = false;
        double lastBeta;
        while (true) {
            lastBeta = kb.extend(op.matmat(kb.current()));
            int m = kb.size();
            double[] a = kb.alphas();
            double[] b = kb.betas();
            norm = Math.max(norm, Math.abs(a[m - 1]) + lastBeta + (m > 1 ? b[m - 2] : 0));
            options.progress().progress("lanczos", m, cap);
            boolean breakdown = lastBeta <= BREAKDOWN * norm;
            if (m == n) {
                converged = true;   // Q_N is orthogonal: T_N is similar to A
                break;
            }
            if (m >= k) {
                TridiagonalEigen.Result full = TridiagonalEigen.solve(a, b, m - 1);
                double scale = maxAbs(full.values());
                int[] wanted = select(full.values(), k, which);
                double kth = full.values()[wanted[k - 1]];
                TridiagonalEigen.Result block = blockStart == 0 ? full
                        : TridiagonalEigen.solve(Arrays.copyOfRange(a, blockStart, m), Arrays.copyOfRange(b, blockStart, m - 1), m - 1 - blockStart);
                if (breakdown) {
                    // the newest block is invariant; its complement can only matter if this block reached past the k-th value
                    if (!strictlyBeyond(block.values(), kth, which, tol * scale)) {
                        converged = true;
                        break;
                    }
                } else if (residualsWithin(full, wanted, lastBeta, tol * scale)
                        && residualsWithin(block, extremes(block.values().length, which), lastBeta, tol * scale)) {
                    converged = true;
                    break;
                }
            }
            if (m == cap) {
                break;
            }
            if (breakdown) {
                if (!kb.restart(random.freshGaussian())) {
                    converged = true;
                    break;
                }
                blockStart = m;
            } else {
                kb.accept();
            }
        }
        return ritzPairs(kb, k, which, lastBeta, converged);
    }

    /** Final Ritz pairs from the dense eigen-decomposition of T_m (LAPACK). */
    private static EigenResult ritzPairs(KrylovBasis kb, int k, Which which, double lastBeta, boolean converged) {
        int m = kb.size();
        SymmetricEigen.Decomposition t = SymmetricEigen.decompose(kb.tridiagonal());
        int[] wanted = select(t.values(), k, which);
        double[] values = new double[k];
        double[] residuals = new double[k];
        double[] lastRow = t.vectors().getRow(m - 1).toDoubleVector();
        int[] cols = new int[k];
        for (int i = 0; i < k; i++) {
            values[i] = t.values()[wanted[i]];
            residuals[i] = Math.abs(lastBeta * lastRow[wanted[i]]);
            cols[i] = wanted[i];
        }
        INDArray vectors = kb.combine(t.vectors().getColumns(cols));
        return new EigenResult(values, vectors, m, residuals, converged);
    }

    /** Indices into ascending {@code values} of the k wanted ones, in result order. */
    static int[] select(double[] ascending, int k, Which which) {
        int m = ascending.length;
        int[] out = new int[k];
        switch (which) {
            case LARGEST -> {
                for (int i = 0; i < k; i++) {
                    out[i] = m - 1 - i;
                }
            }
            case SMALLEST -> {
                for (int i = 0; i < k; i++) {
                    out[i] = i;
                }
            }
            case LARGEST_MAGNITUDE -> {
                int lo = 0;
                int hi = m - 1;
                for (int i = 0; i < k; i++) {
                    if (Math.abs(ascending[hi]) >= Math.abs(ascending[lo])) {
                        out[i] = hi--;
                    } else {
                        out[i] = lo++;
                    }
                }
            }
            default -> throw new IllegalArgumentException(String.valueOf(which));
        }
        return out;
    }

    /** The block's extreme index (indices) on the wanted side. */
    private static int[] extremes(int m, Which which) {
        return switch (which) {
            case LARGEST -> new int[] {m - 1};
            case SMALLEST -> new int[] {0};
            case LARGEST_MAGNITUDE -> m == 1 ? new int[] {0} : new int[] {0, m - 1};
        };
    }

    /** True when some value of the block lies beyond the k-th wanted value by more than {@code margin}. */
    private static boolean strictlyBeyond(double[] block, double kth, Which which, double margin) {
        double lo = block[0];
        double hi = block[block.length - 1];
        return switch (which) {
            case LARGEST -> hi > kth + margin;
            case SMALLEST -> lo < kth - margin;
            case LARGEST_MAGNITUDE -> Math.max(Math.abs(lo), Math.abs(hi)) > Math.abs(kth) + margin;
        };
    }

    private static boolean residualsWithin(TridiagonalEigen.Result r, int[] indices, double beta, double bound) {
        double[] last = r.rows()[0];
        for (int i : indices) {
            if (Math.abs(beta * last[i]) > bound) {
                return false;
            }
        }
        return true;
    }

    static double maxAbs(double[] values) {
        double m = 0;
        for (double v : values) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
