package dev.curvlab.core;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Per-sample transforms, named and shaped like {@link Autodiff}'s (function in, function out, as
 * JAX's {@code vmap(grad(f))}, {@code vmap(jacrev(f))}, ...): for a function f applied row by row
 * to a batch {@code x: [n, d]}, each returned function computes every sample's derivative in one
 * pass over the whole batch (no loop over samples).
 * <pre>
 *   Rowwise.grad(f).apply(x)        [n, d]      row i = grad f(x_i)            (f: [n, d] -> [n] or [n, 1])
 *   Rowwise.jacrev(f).apply(x)      [n, m, d]   J_i by m reverse directions     (f: [n, d] -> [n, m] or [n])
 *   Rowwise.jacfwd(f).apply(x)      [n, m, d]   J_i by d forward directions
 *   Rowwise.jacobian(f).apply(x)    [n, m, d]   jacfwd when d <= m, else jacrev
 *   Rowwise.hessian(f).apply(x)     [n, d, d]   jacfwd over grad
 *   Rowwise.hvp(f).apply(x, v)      [n, d]      row i = H_i v_i;  v [k, n, d] gives [k, n, d]
 * </pre>
 *
 * <p>Requirement: row i of f's output depends only on row i of x (true of any network or function
 * written with row-wise operations; a batch-norm-like mix of rows breaks it). Then seeding the same
 * basis direction in every row yields every sample's derivative column at once.
 *
 * <p>Native memory, one rule for every transform here and in {@link Autodiff} that returns a
 * function of tensors: the function's intermediates are released when it returns
 * ({@link ArrayScope#run}); only the result survives, and nothing is released when the call runs
 * under an outer transform (its tape may still need them).
 */
public final class Rowwise {
    private Rowwise() {
    }

    /** Per-sample gradients {@code [n, d]}: one reverse pass with cotangent 1 in every row. */
    public static TensorFunction grad(TensorFunction f) {
        return x -> ArrayScope.run(() -> gradUnscoped(f, x));
    }

    /** Per-sample Jacobians {@code [n, m, d]}: forward when {@code d <= m} (fewer input than output columns), reverse otherwise. */
    public static TensorFunction jacobian(TensorFunction f) {
        return x -> ArrayScope.run(() -> {
            requireBatch("jacobian", x);
            return x.size(1) <= outputColumns(f, x) ? jacfwdUnscoped(f, x) : jacrevUnscoped(f, x);
        });
    }

    /** Per-sample Jacobians {@code [n, m, d]}, {@code J[i, a, b] = d f_a(x_i) / d x_ib}, by m reverse directions. */
    public static TensorFunction jacrev(TensorFunction f) {
        return x -> ArrayScope.run(() -> jacrevUnscoped(f, x));
    }

    /** Per-sample Jacobians {@code [n, m, d]} by d forward directions (basis e_b in every row). */
    public static TensorFunction jacfwd(TensorFunction f) {
        return x -> ArrayScope.run(() -> jacfwdUnscoped(f, x));
    }

    /** Per-sample Hessians {@code [n, d, d]}: forward mode (d directions, all rows at once) over {@link #grad}. */
    public static TensorFunction hessian(TensorFunction f) {
        return x -> ArrayScope.run(() -> {
            requireBatch("hessian", x);
            Tensor t = Autodiff.jvp(z -> gradUnscoped(f, z), x, rowBasis(x.size(1), x.size(0), x.dataType())).tangent();
            return Ops.permute(t, 1, 2, 0);   // t[b, i, a] = H_i[a, b]
        });
    }

    /**
     * Per-sample Hessian-vector products: {@code (x, v)} with {@code v: [n, d]} (one vector per
     * sample) gives {@code [n, d]} with row i = {@code H_i v_i}; {@code v: [k, n, d]} gives {@code [k, n, d]}.
     */
    public static TensorBiFunction hvp(TensorFunction f) {
        return (x, v) -> ArrayScope.run(() -> {
            requireBatch("hvp", x);
            return Autodiff.jvp(z -> gradUnscoped(f, z), x, v).tangent();
        });
    }

    private static Tensor gradUnscoped(TensorFunction f, Tensor x) {
        requireBatch("grad", x);
        VjpResult r = Autodiff.vjp(f, x);
        requireScalarRows("grad", r.value(), x);
        return r.pullback(Ops.onesLike(r.value()));
    }

    private static Tensor jacfwdUnscoped(TensorFunction f, Tensor x) {
        requireBatch("jacfwd", x);
        long n = x.size(0);
        long d = x.size(1);
        JvpResult r = Autodiff.jvp(f, x, rowBasis(d, n, x.dataType()));
        long m = requireRows("jacfwd", r.value(), x);
        Tensor t = Ops.reshape(r.tangent(), d, n, m);   // t[b, i, a] = d f_a(x_i) / d x_ib
        return Ops.permute(t, 1, 2, 0);
    }

    private static Tensor jacrevUnscoped(TensorFunction f, Tensor x) {
        requireBatch("jacrev", x);
        long n = x.size(0);
        VjpResult r = Autodiff.vjp(f, x);
        long m = requireRows("jacrev", r.value(), x);
        Tensor basis = rowBasis(m, n, x.dataType());
        Tensor g = r.pullbackBlock(Ops.reshape(basis, Shapes.prepend(m, r.value().shapeRef())));  // g[a, i, b]
        return Ops.permute(g, 1, 0, 2);
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
