package dev.curvlab.core;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One differentiable operation: a forward kernel on ND4J arrays, a reverse rule (VJP) and a forward
 * rule (JVP), written side by side in the subclasses. Both rules are written with differentiable
 * {@link Ops}, so derivatives of derivatives come for free.
 *
 * <p>Rule conventions. {@code vjp(i, g, x, y)}: cotangent of operand i given the cotangent g of the
 * result y (same shape as y); returns x[i]'s shape. {@code jvp(t, x, y)}: tangent block of y, shape
 * {@code [K, y.shape...]}, given operand tangent blocks {@code t[i]: [K, x[i].shape...]} (null =
 * zero, at least one non-null); may return null for a zero tangent. Operands of broadcasting
 * primitives have equal rank, so rules lift a primal to the block's rank with {@link Ops#lift}.
 */
public abstract class Primitive {
    private final String name;

    protected Primitive(String name) {
        if (!PrimitiveTable.NAMES.contains(name)) {
            throw new IllegalStateException("primitive '" + name + "' is not listed in PrimitiveTable");
        }
        this.name = name;
    }

    /** The name used in error messages and the primitive table. */
    public final String name() {
        return name;
    }

    /** Validates operand shapes and returns the result's shape; throws {@link ShapeException}. */
    protected abstract long[] outputShape(long[][] shapes);

    /** Forward kernel on concrete arrays. Must not modify its inputs. */
    protected abstract INDArray compute(INDArray[] x);

    /** Reverse rule: cotangent of operand {@code i}. */
    protected abstract Tensor vjp(int i, Tensor g, Tensor[] x, Tensor y);

    /** Forward rule: tangent block of the result. */
    protected abstract Tensor jvp(Tensor[] t, Tensor[] x, Tensor y);

    /** False for operands that are constants of the operation (e.g. a mask). */
    protected boolean differentiable(int i) {
        return true;
    }

    /**
     * Applies the primitive: validates shapes, then hands the operation to the innermost transform
     * among the operands, or runs the kernel when all operands are concrete.
     */
    public final Tensor bind(Tensor... args) {
        long[][] shapes = new long[args.length][];
        Trace top = null;
        for (int i = 0; i < args.length; i++) {
            shapes[i] = args[i].shapeRef();
            Trace tr = args[i].trace;
            if (tr != null) {
                if (top == null || tr.level > top.level) {
                    top = tr;
                } else if (tr.level == top.level && tr != top) {
                    top.checkActive(this);
                    tr.checkActive(this);
                    throw new IllegalStateException("operation '" + name + "' mixes tracers of two transforms at level "
                            + tr.level);
                }
            }
        }
        long[] outShape = outputShape(shapes);
        if (top != null) {
            top.checkActive(this);
            return top.process(this, args);
        }
        INDArray[] arrays = new INDArray[args.length];
        for (int i = 0; i < args.length; i++) {
            arrays[i] = args[i].array;
        }
        checkDataTypes(arrays);
        long t0 = OpProfile.ENABLED ? System.nanoTime() : 0;
        INDArray out = compute(arrays);
        if (OpProfile.ENABLED) {
            OpProfile.record(name, arrays, System.nanoTime() - t0);
        }
        if (!java.util.Arrays.equals(out.shape(), outShape)) {
            throw new IllegalStateException("kernel of '" + name + "' returned shape " + Shapes.str(out.shape())
                    + ", expected " + Shapes.str(outShape));
        }
        ArrayScope.register(out, arrays);
        FiniteCheck.check(this, out);
        return Tensor.of(out);
    }

    private void checkDataTypes(INDArray[] arrays) {
        for (int i = 1; i < arrays.length; i++) {
            if (arrays[i].dataType() != arrays[0].dataType() && differentiable(i)) {
                throw new IllegalArgumentException(name + ": operands have different data types "
                        + arrays[0].dataType() + " and " + arrays[i].dataType() + "; convert one with castTo");
            }
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
