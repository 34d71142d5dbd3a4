package dev.curvlab.core;

import dev.curvlab.core.kernels.MatMulKernel;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code C = op(A) op(B)} over the last two axes, op = transpose when flagged; leading axes broadcast.
 * Reverse rules (written for all four flag combinations with the same primitive, no explicit
 * transposes): for {@code C = A B}: {@code gA = g B^T}, {@code gB = A^T g}. Forward rule: the
 * product rule {@code tC = op(tA) op(B) + op(A) op(tB)}, each term one folded GEMM.
 */
final class MatMul extends Primitive {
    private final boolean ta;
    private final boolean tb;

    MatMul(boolean ta, boolean tb) {
        super("matmul");
        this.ta = ta;
        this.tb = tb;
    }

    @Override
    protected long[] outputShape(long[][] s) {
        long[] a = s[0];
        long[] b = s[1];
        if (a.length < 2 || a.length != b.length) {
            throw new ShapeException("matmul: operands of shapes " + Shapes.describe(a, b) + " (need rank >= 2, equal ranks)");
        }
        int r = a.length;
        long n = ta ? a[r - 1] : a[r - 2];
        long da = ta ? a[r - 2] : a[r - 1];
        long db = tb ? b[r - 1] : b[r - 2];
        long m = tb ? b[r - 2] : b[r - 1];
        if (da != db) {
            throw new ShapeException("matmul: inner dimensions differ: " + Shapes.str(a) + (ta ? "^T" : "") + " x "
                    + Shapes.str(b) + (tb ? "^T" : "") + " (" + da + " vs " + db + ")");
        }
        long[] batch = Shapes.broadcast("matmul (batch axes)", java.util.Arrays.copyOf(a, r - 2), java.util.Arrays.copyOf(b, r - 2));
        return Shapes.concat(batch, new long[] {n, m});
    }

    @Override
    protected INDArray compute(INDArray[] x) {
        return MatMulKernel.matmul(x[0], x[1], ta, tb);
    }

    private static Tensor mm(Tensor a, Tensor b, boolean ta, boolean tb) {
        return Ops.matmul(a, b, ta, tb);
    }

    @Override
    protected Tensor vjp(int i, Tensor g, Tensor[] x, Tensor y) {
        Tensor a = x[0];
        Tensor b = x[1];
        Tensor out;
        if (i == 0) {
            // C = A B: gA = g B^T | C = A^T B: gA = B g^T | C = A B^T: gA = g B | C = A^T B^T: gA = B^T g^T
            out = !ta ? mm(g, b, false, !tb) : mm(b, g, tb, true);
        } else {
            // C = A B: gB = A^T g | C = A^T B: gB = A g | C = A B^T: gB = g^T A | C = A^T B^T: gB = g^T A^T
            out = !tb ? mm(a, g, !ta, false) : mm(g, a, true, ta);
        }
        return Ops.unbroadcast(out, x[i].shapeRef());
    }

    @Override
    protected Tensor jvp(Tensor[] t, Tensor[] x, Tensor y) {
        Tensor first = t[0] == null ? null : mm(t[0], Ops.lift(x[1]), ta, tb);
        Tensor second = t[1] == null ? null : mm(Ops.lift(x[0]), t[1], ta, tb);
        return Ops.fitTangent(Ops.addOrNull(first, second), y);
    }
}
