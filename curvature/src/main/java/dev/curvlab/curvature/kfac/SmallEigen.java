package dev.curvlab.curvature.kfac;

/**
 * Eigen-decomposition of one small symmetric matrix in Java by cyclic Jacobi rotations, for
 * per-sample output Hessians of a few outputs (no per-call native overhead).
 */
final class SmallEigen {
    private SmallEigen() {
    }

    /**
     * Decomposes {@code a} ({@code n x n}, row-major, symmetric; overwritten) into eigenvalues
     * {@code values[n]} and eigenvectors (column j of row-major {@code vectors} belongs to values[j]).
     */
    static void decompose(double[] a, int n, double[] values, double[] vectors) {
        java.util.Arrays.fill(vectors, 0, n * n, 0.0);
        for (int i = 0; i < n; i++) {
            vectors[i * n + i] = 1.0;
        }
        for (int sweep = 0; sweep < 60; sweep++) {
            double off = 0;
            double total = 0;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    total += a[i * n + j] * a[i * n + j];
                    if (i != j) {
                        off += a[i * n + j] * a[i * n + j];
                    }
                }
            }
            if (off <= 1e-30 * total || off == 0) {
                break;
            }
            for (int p = 0; p < n - 1; p++) {
                for (int q = p + 1; q < n; q++) {
                    rotate(a, vectors, n, p, q);
                }
            }
        }
        for (int i = 0; i < n; i++) {
            values[i] = a[i * n + i];
        }
    }

    /** One Jacobi rotation zeroing a[p][q]. */
    private static void rotate(double[] a, double[] v, int n, int p, int q) {
        double apq = a[p * n + q];
        if (apq == 0) {
            return;
        }
        double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        double t = Math.signum(theta == 0 ? 1 : theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        double c = 1 / Math.sqrt(t * t + 1);
        double s = t * c;
        for (int k = 0; k < n; k++) {
            double akp = a[k * n + p];
            double akq = a[k * n + q];
            a[k * n + p] = c * akp - s * akq;
            a[k * n + q] = s * akp + c * akq;
        }
        for (int k = 0; k < n; k++) {
            double apk = a[p * n + k];
            double aqk = a[q * n + k];
            a[p * n + k] = c * apk - s * aqk;
            a[q * n + k] = s * apk + c * aqk;
        }
        for (int k = 0; k < n; k++) {
            double vkp = v[k * n + p];
            double vkq = v[k * n + q];
            v[k * n + p] = c * vkp - s * vkq;
            v[k * n + q] = s * vkp + c * vkq;
        }
    }
}
