package dev.curvlab.core;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Per-sample derivatives of a function applied row by row to a batch {@code x: [n, d]}, each
 * computed for the whole batch in one pass (no loop over samples).
 *
 * <p>Requirement: row i of f's output depends only on row i of x (true of any network or function
 * written with row-wise operations; a batch-norm-like mix of rows breaks it). Then seeding the same
 * basis direction in every row yields every sample's derivative column at once.
 *
 * <p>f returns {@code [n]} or {@code [n, 1]} (one value per sample) for {@link #gradient},
 * {@link #hessian} and {@link #hvp}; {@code [n, m]} (or {@code [n]}) for {@link #jacobian}.
 */
public final class Rowwise {
    private Rowwise() {
    }

    /** How {@link #jacobian} propagates derivatives. */
    public enum Mode {
        /** Forward when d &le; m (fewer input than output columns), reverse otherwise. */
        AUTO,
        /** d forward directions, one per input column. */
        FORWARD,
        /** m reverse directions, one per output column. */
        REVERSE
    }

    /** Per-sample gradients {@code [n, d]}: one reverse pass with cotangent 1 in every row. */
    public static Tensor gradient(TensorFunction f, Tensor x) {
        return ArrayScope.run(() -> gradientUnscoped(f, x));
    }

    private static Tensor gradientUnscoped(TensorFunction f, Tensor x) {
        requireBatch("gradient", x);
        VjpResult r = Autodiff.vjp(f, x);
        requireScalarRows("gradient", r.value(), x);
        return r.pullback(Ops.onesLike(r.value()));
    }

    /** Per-sample Jacobians {@code [n, m, d]}, mode chosen by m vs d. */
    public static Tensor jacobian(TensorFunction f, Tensor x) {
        return jacobian(f, x, Mode.AUTO);
    }

    /** Per-sample Jacobians {@code [n, m, d]}: {@code J[i, a, b] = d f_a(x_i) / d x_ib}. */
    public static Tensor jacobian(TensorFunction f, Tensor x, Mode mode) {
        return ArrayScope.run(() -> jacobianUnscoped(f, x, mode));
    }

    private static Tensor jacobianUnscoped(TensorFunction f, Tensor x, Mode mode) {
        requireBatch("jacobian", x);
        long n = x.size(0);
        long d = x.size(1);
        if (mode == Mode.AUTO) {
            long m = outputColumns(f, x);
            mode = d <= m ? Mode.FORWARD : Mode.REVERSE;
        }
        if (mode == Mode.FORWARD) {
            JvpResult r = Autodiff.jvp(f, x, rowBasis(d, n, x.dataType()));
            long m = requireRows("jacobian", r.value(), x);
            Tensor t = Ops.reshape(r.tangent(), d, n, m);   // t[b, i, a] = d f_a(x_i) / d x_ib
            return Ops.permute(t, 1, 2, 0);
        }
        VjpResult r = Autodiff.vjp(f, x);
        long m = requireRows("jacobian", r.value(), x);
        Tensor basis = rowBasis(m, n, x.dataType());
        Tensor g = r.pullbackBlock(Ops.reshape(basis, Shapes.prepend(m, r.value().shapeRef())));  // g[a, i, b]
        return Ops.permute(g, 1, 0, 2);
    }

    /** Per-sample Hessians {@code [n, d, d]}: forward-mode (d directions, all rows at once) over {@link #gradient}. */
    public static Tensor hessian(TensorFunction f, Tensor x) {
        return ArrayScope.run(() -> hessianUnscoped(f, x));
    }

    private static Tensor hessianUnscoped(TensorFunction f, Tensor x) {
        requireBatch("hessian", x);
        long n = x.size(0);
        long d = x.size(1);
        Tensor t = Autodiff.jvp(z -> gradientUnscoped(f, z), x, rowBasis(d, n, x.dataType())).tangent();  // t[b, i, a] = H_i[a, b]
        return Ops.permute(t, 1, 2, 0);
    }

    /**
     * Per-sample Hessian-vector products: {@code v: [n, d]} (one vector per sample) gives
     * {@code [n, d]} with row i = {@code H_i v_i}; {@code v: [k, n, d]} gives {@code [k, n, d]}.
     */
    public static Tensor hvp(TensorFunction f, Tensor x, Tensor v) {
        requireBatch("hvp", x);
        return ArrayScope.run(() -> Autodiff.jvp(z -> gradientUnscoped(f, z), x, v).tangent());
    }

    /** Block of d directions {@code [d, n, d]}: direction b is the basis vector e_b in every row. */
    static Tensor rowBasis(long d, long n, DataType dt) {
        INDArray basis = dev.curvlab.core.kernels.BroadcastKernel.rowBasis(d, n, dt);
        ArrayScope.adopt(basis);
        return Tensor.of(basis);
    }

    private static long outputColumns(TensorFunction f, Tensor x) {
        Tensor y = f.apply(x.stopGradient().rows(0, 1));
        return y.rank() <= 1 ? 1 : y.size(1);
    }

    private static void requireBatch(String op, Tensor x) {
        if (x.rank() != 2) {
            throw new ShapeException("Rowwise." + op + ": x must be a batch [n, d], got shape " + Shapes.str(x.shapeRef()));
        }
    }

    private static long requireRows(String op, Tensor y, Tensor x) {
        long n = x.size(0);
        if (y.rank() == 0 || y.rank() > 2 || y.size(0) != n) {
            throw new ShapeException("Rowwise." + op + ": f must map [n, d] = " + Shapes.str(x.shapeRef())
                    + " row-wise to [n] or [n, m], but returned " + Shapes.str(y.shapeRef()));
        }
        return y.rank() == 1 ? 1 : y.size(1);
    }

    private static void requireScalarRows(String op, Tensor y, Tensor x) {
        long m = requireRows(op, y, x);
        if (m != 1) {
            throw new ShapeException("Rowwise." + op + " needs f: R^d -> R per row (output [n] or [n, 1]), but f returned "
                    + Shapes.str(y.shapeRef()) + "; use Rowwise.jacobian for vector outputs");
        }
    }
}
