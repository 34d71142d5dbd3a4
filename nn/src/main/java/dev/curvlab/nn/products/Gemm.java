package dev.curvlab.nn.products;

import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code C = op(A) op(B) + beta C} on preallocated {@link Matrix} operands, dispatched by size:
 * BLAS through {@code Nd4j.gemm} (into the preallocated C, no allocation) for all but the smallest
 * products, where one ND4J call (~15 us here) costs more than the arithmetic and a plain Java loop
 * is faster. The threshold is in multiply-adds, measured with {@code GradientBench}'s problems.
 */
final class Gemm {
    /** Products of at most this many multiply-adds run in Java (measured crossover on the 2-core machine: ~4-8k). */
    static final long JAVA_MAX_MADDS = 4096;

    private Gemm() {
    }

    static void product(Matrix a, boolean ta, Matrix b, boolean tb, Matrix c, double beta) {
        int m = ta ? a.cols : a.rows;
        int inner = ta ? a.rows : a.cols;
        int n = tb ? b.rows : b.cols;
        if ((tb ? b.cols : b.rows) != inner || c.rows != m || c.cols != n) {
            throw new IllegalStateException("gemm shapes: op(A) [" + m + ", " + inner + "], op(B) [" + (tb ? b.cols : b.rows) + ", " + n
                    + "], C [" + c.rows + ", " + c.cols + "]");
        }
        if ((long) m * n * inner <= JAVA_MAX_MADDS && a.at != null && b.at != null && c.at != null) {
            javaProduct(a, ta, b, tb, c, beta, m, inner, n);
        } else {
            Nd4j.gemm(a.array, b.array, c.array, ta, tb, 1.0, beta);
        }
    }

    private static void javaProduct(Matrix a, boolean ta, Matrix b, boolean tb, Matrix c, double beta, int m, int inner, int n) {
        int lda = a.cols;
        int ldb = b.cols;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < inner; p++) {
                    s += a.get(ta ? p * lda + i : i * lda + p) * b.get(tb ? j * ldb + p : p * ldb + j);
                }
                int ij = i * n + j;
                c.set(ij, beta == 0 ? s : s + beta * c.get(ij));
            }
        }
    }
}
