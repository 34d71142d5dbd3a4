package dev.curvlab.curvature.spectrum;

import java.util.Arrays;

/**
 * Eigenvalues of a real symmetric tridiagonal matrix {@code T [m, m]} and selected <em>rows</em> of
 * its eigenvector matrix, in plain Java (the matrices Lanczos produces are small, and a JNI call per
 * element would cost more than the arithmetic).
 *
 * <p>Algorithm: the implicit QL method with Wilkinson-type shifts ({@code tql2} of EISPACK, as in
 * JAMA; Golub and Van Loan, <i>Matrix Computations</i>, 4th ed., section 8.3). The eigenvector
 * matrix {@code S} is the product of the Givens rotations; each rotation acts on two columns of
 * every row independently, so any subset of rows of {@code S} can be accumulated alone in
 * {@code O(r m^2)} instead of {@code O(m^3)}. Lanczos needs the last row ({@code s_{m,i}}, for the
 * residual {@code |beta_m s_{m,i}|}); Gauss quadrature needs the first row (weights
 * {@code tau_i = s_{1,i}^2}).
 */
public final class TridiagonalEigen {
    private static final double EPS = Math.ulp(1.0);
    private static final int MAX_SWEEPS_PER_VALUE = 60;

    private TridiagonalEigen() {
    }

    /**
     * @param values ascending eigenvalues {@code theta_1 <= ... <= theta_m}
     * @param rows {@code rows[r][i]} = component {@code requestedRows[r]} of the unit eigenvector of {@code values[i]}
     */
    public record Result(double[] values, double[][] rows) {
    }

    /**
     * @param diagonal {@code alpha [m]}
     * @param offDiagonal {@code beta [m - 1]} ({@code T[i, i+1] = T[i+1, i] = beta[i]}); longer arrays are read up to {@code m - 1}
     * @param requestedRows row indices of the eigenvector matrix to return (may be empty)
     */
    public static Result solve(double[] diagonal, double[] offDiagonal, int... requestedRows) {
        int m = diagonal.length;
        if (m == 0) {
            throw new IllegalArgumentException("TridiagonalEigen: empty matrix");
        }
        if (offDiagonal.length < m - 1) {
            throw new IllegalArgumentException("TridiagonalEigen: " + m + " diagonal entries need " + (m - 1)
                    + " off-diagonal entries, got " + offDiagonal.length);
        }
        double[] d = diagonal.clone();
        double[] e = new double[m];
        System.arraycopy(offDiagonal, 0, e, 0, m - 1);
        for (int i = 0; i < m; i++) {
            if (!Double.isFinite(d[i]) || !Double.isFinite(e[i])) {
                throw new IllegalArgumentException("TridiagonalEigen: non-finite entry at " + i + " (diagonal " + d[i]
                        + ", off-diagonal " + e[i] + ")");
            }
        }
        double[][] z = new double[requestedRows.length][m];
        for (int r = 0; r < requestedRows.length; r++) {
            int row = requestedRows[r];
            if (row < 0 || row >= m) {
                throw new IllegalArgumentException("TridiagonalEigen: row " + row + " out of range for size " + m);
            }
            z[r][row] = 1.0;
        }
        ql(d, e, z);
        sort(d, z);
        return new Result(d, z);
    }

    /** Eigenvalues only, ascending. */
    public static double[] eigenvalues(double[] diagonal, double[] offDiagonal) {
        return solve(diagonal, offDiagonal).values();
    }

    private static void ql(double[] d, double[] e, double[][] z) {
        int n = d.length;
        double f = 0.0;
        double tst1 = 0.0;
        for (int l = 0; l < n; l++) {
            tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
            int m = l;
            while (m < n && Math.abs(e[m]) > EPS * tst1) {
                m++;
            }
            if (m == n) {
                m = n - 1;   // e[n-1] == 0 always; guards against tst1 == 0 with NaN-free zero input
            }
            if (m > l) {
                int sweeps = 0;
                do {
                    if (++sweeps > MAX_SWEEPS_PER_VALUE) {
                        throw new IllegalStateException("TridiagonalEigen: QL iteration did not converge for eigenvalue " + l
                                + " of " + n);
                    }
                    double g = d[l];
                    double p = (d[l + 1] - g) / (2.0 * e[l]);
                    double r = Math.hypot(p, 1.0);
                    if (p < 0) {
                        r = -r;
                    }
                    d[l] = e[l] / (p + r);
                    d[l + 1] = e[l] * (p + r);
                    double dl1 = d[l + 1];
                    double h = g - d[l];
                    for (int i = l + 2; i < n; i++) {
                        d[i] -= h;
                    }
                    f += h;
                    p = d[m];
                    double c = 1.0;
                    double c2 = c;
                    double c3 = c;
                    double el1 = e[l + 1];
                    double s = 0.0;
                    double s2 = 0.0;
                    for (int i = m - 1; i >= l; i--) {
                        c3 = c2;
                        c2 = c;
                        s2 = s;
                        g = c * e[i];
                        h = c * p;
                        r = Math.hypot(p, e[i]);
                        e[i + 1] = s * r;
                        s = e[i] / r;
                        c = p / r;
                        p = c * d[i] - s * g;
                        d[i + 1] = h + s * (c * g + s * d[i]);
                        for (double[] row : z) {
                            double t = row[i + 1];
                            row[i + 1] = s * row[i] + c * t;
                            row[i] = c * row[i] - s * t;
                        }
                    }
                    p = -s * s2 * c3 * el1 * e[l] / dl1;
                    e[l] = s * p;
                    d[l] = c * p;
                } while (Math.abs(e[l]) > EPS * tst1);
            }
            d[l] += f;
            e[l] = 0.0;
        }
    }

    private static void sort(double[] d, double[][] z) {
        int n = d.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(d[a], d[b]));
        double[] sorted = new double[n];
        for (int i = 0; i < n; i++) {
            sorted[i] = d[order[i]];
        }
        System.arraycopy(sorted, 0, d, 0, n);
        for (double[] row : z) {
            double[] copy = row.clone();
            for (int i = 0; i < n; i++) {
                row[i] = copy[order[i]];
            }
        }
    }
}
