package dev.curvlab.nn.products;

import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code C = op(A) op(B) + beta C} on preallocated {@link Matrix} operands, dispatched by size:
 * BLAS through {@code Nd4j.gemm} (into the preallocated C, no allocation) for all but small
 * products; where one ND4J call (~15-30 us here, far more when the cores are busy) costs more than
 * the arithmetic, the operands are copied to Java arrays (one memcpy each) and multiplied in a
 * plain loop that the JIT vectorises. Not thread-safe (scratch arrays; one per engine).
 */
final class Gemm {
    /** Products of at most this many multiply-adds run in Java (crossover measured with ProductsRatios on the 2-core machine). */
    static final long JAVA_MAX_MADDS = 1L << 15;

    private double[] sa = new double[0];
    private double[] sb = new double[0];
    private double[] sc = new double[0];

    void product(Matrix a, boolean ta, Matrix b, boolean tb, Matrix c, double beta) {
        int m = ta ? a.cols : a.rows;
        int inner = ta ? a.rows : a.cols;
        int n = tb ? b.rows : b.cols;
        if ((tb ? b.cols : b.rows) != inner || c.rows != m || c.cols != n) {
            throw new IllegalStateException("gemm shapes: op(A) [" + m + ", " + inner + "], op(B) [" + (tb ? b.cols : b.rows) + ", " + n
                    + "], C [" + c.rows + ", " + c.cols + "]");
        }
        if ((long) m * n * inner <= JAVA_MAX_MADDS) {
            javaProduct(a, ta, b, tb, c, beta, m, inner, n);
        } else {
            Nd4j.gemm(a.array, b.array, c.array, ta, tb, 1.0, beta);
        }
    }

    private void javaProduct(Matrix a, boolean ta, Matrix b, boolean tb, Matrix c, double beta, int m, int inner, int n) {
        double[] x = scratchA(a.rows * a.cols);
        double[] y = scratchB(b.rows * b.cols);
        double[] z = scratchC(m * n);
        a.read(x);
        b.read(y);
        if (beta == 0) {
            java.util.Arrays.fill(z, 0, m * n, 0.0);
        } else {
            c.read(z);
            if (beta != 1) {
                for (int i = 0; i < m * n; i++) {
                    z[i] *= beta;
                }
            }
        }
        int lda = a.cols;
        int ldb = b.cols;
        if (tb && !ta) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < inner; p++) {
                        s += x[i * lda + p] * y[j * ldb + p];
                    }
                    z[i * n + j] += s;
                }
            }
            c.write(z);
            return;
        }
        for (int i = 0; i < m; i++) {
            int row = i * n;
            for (int p = 0; p < inner; p++) {
                double av = ta ? x[p * lda + i] : x[i * lda + p];
                if (tb) {
                    for (int j = 0; j < n; j++) {
                        z[row + j] += av * y[j * ldb + p];
                    }
                } else {
                    int bp = p * ldb;
                    for (int j = 0; j < n; j++) {
                        z[row + j] += av * y[bp + j];
                    }
                }
            }
        }
        c.write(z);
    }

    private double[] scratchA(int len) {
        if (sa.length < len) {
            sa = new double[len];
        }
        return sa;
    }

    private double[] scratchB(int len) {
        if (sb.length < len) {
            sb = new double[len];
        }
        return sb;
    }

    private double[] scratchC(int len) {
        if (sc.length < len) {
            sc = new double[len];
        }
        return sc;
    }
}
