package dev.curvlab.core.kernels;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Matrix products {@code op(A) op(B)} over the last two axes of equal-rank arrays, with the leading
 * (batch) axes broadcast. One BLAS GEMM does the whole batch whenever one side has no batch
 * (the common case for tangent and cotangent blocks {@code [K, n, d] x [d, m]}): the batch is folded
 * into the rows of a single 2-D product, at the cost of at most one copy of an operand or result.
 * Only when both sides carry a batch does it fall back to ND4J's batched matmul.
 */
public final class MatMulKernel {
    private MatMulKernel() {
    }

    /**
     * {@code C[..., n, m] = op(A)[..., n, d] op(B)[..., d, m]} where op transposes the last two axes
     * when its flag is set. Inputs are not modified; the result is a new C-order array.
     */
    public static INDArray matmul(INDArray a, INDArray b, boolean ta, boolean tb) {
        int r = a.rank();
        if (r == 2) {
            return gemm(a, b, ta, tb);
        }
        long[] batchA = Arrays.copyOf(a.shape(), r - 2);
        long[] batchB = Arrays.copyOf(b.shape(), r - 2);
        long bA = prod(batchA);
        long bB = prod(batchB);
        long n = ta ? a.size(r - 1) : a.size(r - 2);
        long d = ta ? a.size(r - 2) : a.size(r - 1);
        long m = tb ? b.size(r - 2) : b.size(r - 1);
        if (bA == 1 && bB == 1) {
            // [1, ..., n, d] x [1, ..., d, m]: one 2-D product, transposes left to BLAS (no copies)
            INDArray a2 = a.reshape('c', new long[] {a.size(r - 2), a.size(r - 1)});
            INDArray b2 = b.reshape('c', new long[] {b.size(r - 2), b.size(r - 1)});
            return gemm(a2, b2, ta, tb).reshape('c', withMatrix(batchA, n, m));
        }
        if (bB == 1) {
            INDArray b2 = b.reshape('c', new long[] {b.size(r - 2), b.size(r - 1)});
            INDArray a3 = ta ? a.reshape('c', new long[] {bA, d, n}).permute(0, 2, 1).dup('c') : a;
            INDArray c = gemm(a3.reshape('c', new long[] {bA * n, d}), b2, false, tb);
            if (ta) {
                a3.close();
            }
            return c.reshape('c', withMatrix(batchA, n, m));
        }
        if (bA == 1) {
            INDArray a2 = a.reshape('c', new long[] {a.size(r - 2), a.size(r - 1)});
            if (tb) {
                // C[k]^T = B[k] op(A)^T with B[k] stored [m, d]: the batch folds into B's rows for free.
                INDArray ct = gemm(b.reshape('c', new long[] {bB * m, d}), a2, false, !ta);
                INDArray out = ct.reshape('c', new long[] {bB, m, n}).permute(0, 2, 1).dup('c').reshape('c', withMatrix(batchB, n, m));
                ct.close();
                return out;
            }
            // B[k] stored [d, m]: lay the batch side by side as [d, bB*m], one product, unfold.
            INDArray bWide = b.reshape('c', new long[] {bB, d, m}).permute(1, 0, 2).dup('c').reshape('c', new long[] {d, bB * m});
            INDArray c = gemm(a2, bWide, ta, false);
            bWide.close();
            INDArray out = c.reshape('c', new long[] {n, bB, m}).permute(1, 0, 2).dup('c').reshape('c', withMatrix(batchB, n, m));
            c.close();
            return out;
        }
        long[] batch = broadcastBatch(batchA, batchB);
        long bs = prod(batch);
        INDArray a3 = a.broadcast(withMatrix(batch, a.size(r - 2), a.size(r - 1))).reshape('c', new long[] {bs, a.size(r - 2), a.size(r - 1)});
        INDArray b3 = b.broadcast(withMatrix(batch, b.size(r - 2), b.size(r - 1))).reshape('c', new long[] {bs, b.size(r - 2), b.size(r - 1)});
        INDArray c = Nd4j.matmul(a3.dup('c'), b3.dup('c'), null, ta, tb, false);
        return c.reshape('c', withMatrix(batch, n, m));
    }

    /** 2-D {@code op(a) op(b)} by BLAS GEMM into a fresh C-order result. */
    public static INDArray gemm(INDArray a, INDArray b, boolean ta, boolean tb) {
        long n = ta ? a.size(1) : a.size(0);
        long m = tb ? b.size(0) : b.size(1);
        INDArray c = Nd4j.createUninitialized(a.dataType(), new long[] {n, m}, 'c');
        if (n == 0 || m == 0) {
            return c;
        }
        if ((ta ? a.size(0) : a.size(1)) == 0) {
            return c.assign(0);
        }
        Nd4j.gemm(a, b, c, ta, tb, 1.0, 0.0);
        return c;
    }

    private static long prod(long[] s) {
        long p = 1;
        for (long v : s) {
            p *= v;
        }
        return p;
    }

    private static long[] withMatrix(long[] batch, long rows, long cols) {
        long[] out = Arrays.copyOf(batch, batch.length + 2);
        out[batch.length] = rows;
        out[batch.length + 1] = cols;
        return out;
    }

    private static long[] broadcastBatch(long[] x, long[] y) {
        long[] out = new long[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = Math.max(x[i], y[i]);
        }
        return out;
    }
}
