package dev.curvlab.core;

import java.util.Arrays;
import java.util.function.Function;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Function transforms. Two are primitive: {@link #vjp} (reverse mode, records a tape) and
 * {@link #jvp} (forward mode, pushes a block of K tangents); the rest are compositions of these,
 * and every result is again differentiable, so transforms nest to any order.
 *
 * <p>Shapes: for {@code f: [in...] -> [out...]}, {@code jacrev(f)(x)} and {@code jacfwd(f)(x)} are
 * {@code [out..., in...]}; {@code hessian(f)(x)} is {@code [out..., in..., in...]}; a block of K
 * directions is {@code V: [K, in...]}.
 *
 * <p>Native memory, one rule (shared with {@link Rowwise}): every transform that returns a function
 * of tensors ({@link #grad}, {@link #valueAndGrad}, {@link #jacrev}, {@link #jacfwd},
 * {@link #hessian}, {@link #hvp}) releases its intermediates when that function returns
 * ({@link ArrayScope}); only the result survives, and nothing is released when the call runs under
 * an outer transform, whose tape may still need it. {@link #vjp} and {@link #jvp} keep their tape
 * for later pullbacks and release nothing.
 */
public final class Autodiff {
    private Autodiff() {
    }

    // ---------------------------------------------------------------- the two primitive transforms

    /** Evaluates f at x, recording a tape for pullbacks ({@code u -> u^T J_f(x)}). */
    public static VjpResult vjp(TensorFunction f, Tensor x) {
        ReverseTrace trace = new ReverseTrace();
        Tensor y;
        try {
            y = f.apply(trace.seed(x));
        } finally {
            trace.close();
        }
        checkOutput(y, trace);
        return new VjpResult(trace, x, y, trace.lower(y));
    }

    /**
     * {@code f(x)} and {@code J_f(x) v}. {@code v} has x's shape (one direction) or
     * {@code [K, x.shape...]} (a block of K directions, pushed through f in one pass).
     */
    public static JvpResult jvp(TensorFunction f, Tensor x, Tensor v) {
        boolean block = v.rank() == x.rank() + 1;
        long[] dir = block ? Shapes.tail(v.shapeRef()) : v.shapeRef();
        if (!Arrays.equals(dir, x.shapeRef())) {
            throw new ShapeException("jvp: direction of shape " + Shapes.str(v.shapeRef()) + " for x of shape "
                    + Shapes.str(x.shapeRef()) + " (expected " + Shapes.str(x.shapeRef()) + " or [K, "
                    + Shapes.str(x.shapeRef()) + "...])");
        }
        Tensor vb = block ? v : Ops.lift(v);
        JvpTrace trace = new JvpTrace(vb.shapeRef()[0]);
        Tensor y;
        try {
            y = f.apply(trace.seed(x, vb));
        } finally {
            trace.close();
        }
        checkOutput(y, trace);
        Tensor value = trace.lower(y);
        Tensor t = trace.tangentOf(y);
        return new JvpResult(value, block ? t : Ops.reshape(t, value.shapeRef()));
    }

    private static void checkOutput(Tensor y, Trace trace) {
        if (y == null) {
            throw new IllegalArgumentException("the function returned null");
        }
        if (y.trace != null && y.trace.level > trace.level) {
            throw new IllegalStateException("the function returned a tracer of an inner transform that has finished");
        }
    }

    // ---------------------------------------------------------------- compositions

    /** {@code grad f(x) = vjp(f, x).pullback(1)}; f must return a single element. */
    public static TensorFunction grad(TensorFunction f) {
        return x -> ArrayScope.run(() -> {
            VjpResult r = vjp(f, x);
            requireScalar("grad", r.value());
            return r.pullback(Ops.onesLike(r.value()));
        });
    }

    /** Value and gradient in one reverse pass: {@code x -> (f(x), grad f(x))}, as {@link #grad} with the value kept. */
    public static Function<Tensor, ValueAndGrad> valueAndGrad(TensorFunction f) {
        return x -> {
            ArrayScope scope = ArrayScope.open();
            ValueAndGrad result = null;
            try {
                VjpResult r = vjp(f, x);
                requireScalar("valueAndGrad", r.value());
                result = new ValueAndGrad(r.value(), r.pullback(Ops.onesLike(r.value())));
                return result;
            } finally {
                if (result == null || result.value().isTracer() || result.grad().isTracer()) {
                    scope.keepAll();
                } else {
                    scope.keep(result.value().array());
                    scope.keep(result.grad().array());
                }
                scope.close();
            }
        };
    }

    /** The value of f and its gradient at a point. */
    public record ValueAndGrad(Tensor value, Tensor grad) {
    }

    /** Reverse-mode Jacobian {@code [out..., in...]}: row block {@code I J} pulled back in one pass. */
    public static TensorFunction jacrev(TensorFunction f) {
        return x -> ArrayScope.run(() -> {
            VjpResult r = vjp(f, x);
            long[] out = r.value().shapeRef();
            long m = Shapes.length(out);
            Tensor rows = m == 1 ? r.pullback(Ops.onesLike(r.value()))
                    : r.pullbackBlock(Tensor.of(Nd4j.eye(m).castTo(x.dataType()).reshape(Shapes.prepend(m, out))));
            return Ops.reshape(rows, Shapes.concat(out, x.shapeRef()));
        });
    }

    /** Forward-mode Jacobian {@code [out..., in...]}: column block {@code J I} pushed forward in one pass. */
    public static TensorFunction jacfwd(TensorFunction f) {
        return x -> ArrayScope.run(() -> {
            long n = x.length();
            Tensor basis = Tensor.of(Nd4j.eye(n).castTo(x.dataType()).reshape(Shapes.prepend(n, x.shapeRef())));
            JvpResult r = jvp(f, x, basis);
            Tensor cols = r.tangent();
            int rank = cols.rank();
            int[] perm = new int[rank];
            for (int i = 0; i < rank - 1; i++) {
                perm[i] = i + 1;
            }
            perm[rank - 1] = 0;
            return Ops.reshape(Ops.permute(cols, perm), Shapes.concat(r.value().shapeRef(), x.shapeRef()));
        });
    }

    /** {@code H = jacfwd(jacrev(f))}: forward-over-reverse. */
    public static TensorFunction hessian(TensorFunction f) {
        return jacfwd(jacrev(f));
    }

    /** {@code (x, V) -> H(x) V = jvp(grad f, x, V)}: forward-over-reverse, V one direction or a block {@code [K, x.shape...]}. */
    public static TensorBiFunction hvp(TensorFunction f) {
        TensorFunction g = grad(f);
        return (x, v) -> ArrayScope.run(() -> jvp(g, x, v).tangent());
    }

    // ---------------------------------------------------------------- several arguments

    /** Gradient with respect to argument {@code argnum}. */
    public static MultiTensorFunction grad(MultiTensorFunction f, int argnum) {
        return args -> grad(f.of(argnum, args)).apply(args[argnum]);
    }

    /** Reverse-mode Jacobian with respect to argument {@code argnum}. */
    public static MultiTensorFunction jacrev(MultiTensorFunction f, int argnum) {
        return args -> jacrev(f.of(argnum, args)).apply(args[argnum]);
    }

    /** Forward-mode Jacobian with respect to argument {@code argnum}. */
    public static MultiTensorFunction jacfwd(MultiTensorFunction f, int argnum) {
        return args -> jacfwd(f.of(argnum, args)).apply(args[argnum]);
    }

    /** Hessian with respect to argument {@code argnum}. */
    public static MultiTensorFunction hessian(MultiTensorFunction f, int argnum) {
        return args -> hessian(f.of(argnum, args)).apply(args[argnum]);
    }

    static void requireScalar(String op, Tensor y) {
        if (y.length() != 1) {
            throw new ShapeException(op + " needs a function with a single-element output, but it returned shape "
                    + Shapes.str(y.shapeRef()) + "; use jacrev/jacfwd for vector outputs, or Rowwise for per-sample gradients");
        }
    }
}
