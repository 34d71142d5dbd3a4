package dev.curvlab.core;

/**
 * Forward mode: each tracer carries a block of K tangents {@code [K, shape...]} (null = zero), and
 * each primitive's JVP rule maps operand tangent blocks to the result's tangent block, so K
 * directional derivatives cost one pass of batched (GEMM-shaped) operations.
 */
final class JvpTrace extends Trace {
    final long k;

    JvpTrace(long k) {
        this.k = k;
    }

    @Override
    Tensor process(Primitive p, Tensor[] args) {
        Tensor[] primals = new Tensor[args.length];
        Tensor[] tangents = new Tensor[args.length];
        boolean any = false;
        for (int i = 0; i < args.length; i++) {
            primals[i] = lower(args[i]);
            if (args[i].trace == this && args[i].tangent != null && p.differentiable(i)) {
                tangents[i] = args[i].tangent;
                any = true;
            }
        }
        Tensor out = p.bind(primals);
        if (!any) {
            return out;
        }
        Tensor t;
        FiniteCheck.enterRule(p, "JVP");
        try {
            t = p.jvp(tangents, primals, out);
        } finally {
            FiniteCheck.exitRule();
        }
        if (t == null) {
            return out;
        }
        long[] expected = Shapes.prepend(k, out.shapeRef());
        if (!java.util.Arrays.equals(t.shapeRef(), expected)) {
            throw new IllegalStateException("JVP rule of '" + p.name() + "' returned tangents of shape "
                    + Shapes.str(t.shapeRef()) + ", expected " + Shapes.str(expected));
        }
        return Tensor.jvpTracer(this, out, t);
    }

    /** Starts tracing {@code x} with tangent block {@code v: [K, x.shape...]}. */
    Tensor seed(Tensor x, Tensor v) {
        return Tensor.jvpTracer(this, x, v);
    }

    /** The tangent block of a result (zeros when it does not depend on the input). */
    Tensor tangentOf(Tensor y) {
        if (y.trace == this) {
            return y.tangent != null ? y.tangent : Ops.zeros(y.concrete().array.dataType(), Shapes.prepend(k, y.shapeRef()));
        }
        return Ops.zeros(y.concrete().array.dataType(), Shapes.prepend(k, y.shapeRef()));
    }
}
