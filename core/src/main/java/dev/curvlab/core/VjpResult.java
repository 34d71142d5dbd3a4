package dev.curvlab.core;

import java.util.Arrays;

/**
 * The value of {@code f(x)} with its recorded tape, from {@link Autodiff#vjp}: pull back any number
 * of cotangents without re-running f.
 */
public final class VjpResult {
    private final ReverseTrace trace;
    private final Tensor x;
    private final Tensor output;
    private final Tensor value;

    VjpResult(ReverseTrace trace, Tensor x, Tensor output, Tensor value) {
        this.trace = trace;
        this.x = x;
        this.output = output;
        this.value = value;
    }

    /** {@code f(x)}. */
    public Tensor value() {
        return value;
    }

    /** {@code u^T J}: the cotangent of x for a cotangent {@code u} of f's output (same shape as the output). */
    public Tensor pullback(Tensor u) {
        if (!Arrays.equals(u.shapeRef(), value.shapeRef())) {
            throw new ShapeException("pullback: cotangent of shape " + Shapes.str(u.shapeRef())
                    + " for an output of shape " + Shapes.str(value.shapeRef()));
        }
        Tensor g = trace.backward(output, u);
        return g != null ? g : Ops.zeros(x.dataType(), x.shapeRef());
    }

    /**
     * {@code U J} for a block of M cotangents {@code U: [M, out.shape...]}, returning {@code [M, x.shape...]}.
     * The pullback is linear in u, so the block is the forward-mode derivative of u -> pullback(u) in
     * the directions U: one forward-over-reverse pass instead of M backward passes.
     */
    public Tensor pullbackBlock(Tensor u) {
        long[] want = Shapes.prepend(u.rank() > 0 ? u.shapeRef()[0] : 0, value.shapeRef());
        if (!Arrays.equals(u.shapeRef(), want)) {
            throw new ShapeException("pullbackBlock: cotangent block of shape " + Shapes.str(u.shapeRef())
                    + " for an output of shape " + Shapes.str(value.shapeRef()) + " (expected [M, " + Shapes.str(value.shapeRef()) + "...])");
        }
        if (want[0] == 1) {
            return Ops.lift(pullback(Ops.reshape(u, value.shapeRef())));
        }
        Tensor zero = Ops.zeros(value.dataType(), value.shapeRef());
        return Autodiff.jvp(this::pullback, zero, u).tangent();
    }
}
