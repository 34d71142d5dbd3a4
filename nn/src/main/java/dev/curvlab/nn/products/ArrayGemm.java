package dev.curvlab.nn.products;

/**
 * Matrix products on row-major Java arrays at element offsets, for the module-chain engine
 * ({@link ChainProducts}), whose operands are sample chunks small enough to stay in cache: the
 * inner loop runs along a row of B and C, so the JIT vectorises it, and no ND4J call (10-60 us
 * each) or copy to native memory is paid.
 * <pre>
 *   ab:   C[m, n] (+)= A[m, p] B[p, n]
 *   atb:  C[m, n] (+)= A[p, m]^T B[p, n]
 * </pre>
 */
final class ArrayGemm {
    private ArrayGemm() {
    }

    /** {@code C = A B}, or {@code C += A B} with {@code accumulate}. */
    static void ab(double[] a, int ao, double[] b, int bo, double[] c, int co, int m, int p, int n, boolean accumulate) {
        if (!accumulate) {
            java.util.Arrays.fill(c, co, co + m * n, 0.0);
        }
        for (int i = 0; i < m; i++) {
            int ci = co + i * n;
            int ai = ao + i * p;
            for (int r = 0; r < p; r++) {
                double av = a[ai + r];
                if (av == 0) {
                    continue;
                }
                int br = bo + r * n;
                for (int j = 0; j < n; j++) {
                    c[ci + j] += av * b[br + j];
                }
            }
        }
    }

    /** {@code C = A^T B}, or {@code C += A^T B} with {@code accumulate}; A is {@code [p, m]}. */
    static void atb(double[] a, int ao, double[] b, int bo, double[] c, int co, int m, int p, int n, boolean accumulate) {
        if (!accumulate) {
            java.util.Arrays.fill(c, co, co + m * n, 0.0);
        }
        for (int r = 0; r < p; r++) {
            int ar = ao + r * m;
            int br = bo + r * n;
            for (int i = 0; i < m; i++) {
                double av = a[ar + i];
                if (av == 0) {
                    continue;
                }
                int ci = co + i * n;
                for (int j = 0; j < n; j++) {
                    c[ci + j] += av * b[br + j];
                }
            }
        }
    }
}
