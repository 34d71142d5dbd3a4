package dev.curvlab.nn.products;

import org.bytedeco.openblas.global.openblas_nolapack;

/**
 * {@code C = op(A) op(B) + beta C} on preallocated {@link Matrix} operands, dispatched by size:
 * OpenBLAS's {@code cblas_dgemm} called directly on the operands' native memory (the library ND4J
 * links; ~1 us per call, where {@code Nd4j.gemm} adds 10-60 us of op dispatch) for all but small
 * products; for those the operands are copied to Java arrays (one memcpy each) and multiplied in a
 * plain loop that the JIT vectorises. Heap matrices ({@link Matrix#onHeap}) always take the Java loop. Not thread-safe (scratch arrays; one per engine).
 */
final class Gemm {
    /**
     * Products of at most this many multiply-adds run in Java. With BLAS called directly (~1 us) the
     * Java loop only wins on tiny products: warm, the small MLP ran at the same speed with 0 or 2^15
     * here, and a cold process (Iris training) ran 20% faster with BLAS throughout, which needs no JIT warm-up.
     */
    static final long JAVA_MAX_MADDS = 1L << 10;

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
        if ((long) m * n * inner <= JAVA_MAX_MADDS || a.pointer == null || b.pointer == null || c.pointer == null) {
            javaProduct(a, ta, b, tb, c, beta, m, inner, n);
        } else {
            openblas_nolapack.cblas_dgemm(openblas_nolapack.CblasRowMajor, ta ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                    tb ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans, m, n, inner, 1.0, a.pointer, a.cols, b.pointer, b.cols,
                    beta, c.pointer, c.cols);
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
