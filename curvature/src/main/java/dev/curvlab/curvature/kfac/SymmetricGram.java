package dev.curvlab.curvature.kfac;

import dev.curvlab.core.kernels.RawAccess;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Gram matrices {@code acc += X^T X} of the factor loops by BLAS {@code dsyrk} (symmetric rank-k
 * update): only the upper triangle is computed, half the multiply-adds of a GEMM. The lower triangle
 * is left stale until {@link #mirrorUpper} copies the upper one over it, once, after the last update.
 * Calls the OpenBLAS that ND4J itself loads (same library, same threads).
 */
final class SymmetricGram {
    private SymmetricGram() {
    }

    /** Upper triangle of {@code acc [w, w]} (C order, whole) {@code += X^T X} for {@code x [m, w]}. */
    static void addUpper(INDArray x, INDArray acc) {
        int w = (int) x.size(1);
        if (acc.rank() != 2 || acc.size(0) != w || acc.size(1) != w || !RawAccess.isWholeDouble(acc)) {
            throw new IllegalArgumentException("gram accumulator must be a whole C-order float64 [" + w + ", " + w + "], got "
                    + java.util.Arrays.toString(acc.shape()));
        }
        INDArray rows = RawAccess.isWholeDouble(x) ? x : x.dup('c');
        DoublePointer a = new DoublePointer(rows.data().addressPointer());
        DoublePointer c = new DoublePointer(acc.data().addressPointer());
        openblas_nolapack.cblas_dsyrk(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasUpper, openblas_nolapack.CblasTrans, w,
                Math.toIntExact(x.size(0)), 1.0, a, w, 1.0, c, w);
        if (rows != x) {
            Buffers.free(rows);
        }
    }

    /** {@code acc[j, i] = acc[i, j]} for {@code i < j}: the full symmetric matrix from its upper triangle. */
    static void mirrorUpper(INDArray acc) {
        int n = (int) acc.size(0);
        double[] m = RawAccess.readAll(acc);
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                m[j * n + i] = m[i * n + j];
            }
        }
        RawAccess.write(acc, 0, m, 0, m.length);
    }
}
