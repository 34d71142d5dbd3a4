package dev.curvlab.core;

import dev.curvlab.core.kernels.ElementwiseKernels;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code y = mask ? a : b} with a constant mask (non-zero = true), all three broadcast to one shape.
 * VJP: {@code ga = mask ? g : 0}, {@code gb = mask ? 0 : g}; JVP: {@code mask ? ta : tb}. The kernel
 * never multiplies by the mask, so an Inf in the unselected branch stays out of the result.
 */
final class Select extends Primitive {
    private final INDArray mask;

    Select(INDArray mask) {
        super("where");
        this.mask = mask;
    }

    @Override
    protected long[] outputShape(long[][] shapes) {
        if (mask.rank() != shapes[0].length) {
            throw new ShapeException("where: mask of rank " + mask.rank() + " for operands of rank " + shapes[0].length);
        }
        return Shapes.broadcast("where", mask.shape(), shapes[0], shapes[1]);
    }

    @Override
    protected INDArray compute(INDArray[] x) {
        long[] shape = Shapes.broadcast("where", mask.shape(), x[0].shape(), x[1].shape());
        return ElementwiseKernels.select(full(mask, shape), full(x[0], shape), full(x[1], shape));
    }

    private static INDArray full(INDArray a, long[] shape) {
        return java.util.Arrays.equals(a.shape(), shape) ? a : dev.curvlab.core.kernels.BroadcastKernel.broadcastTo(a, shape);
    }

    @Override
    protected Tensor vjp(int i, Tensor g, Tensor[] x, Tensor y) {
        Tensor zero = Ops.zerosLike(g, true);
        Tensor picked = i == 0 ? new Select(mask).bind(g, zero) : new Select(mask).bind(zero, g);
        return Ops.unbroadcast(picked, x[i].shapeRef());
    }

    @Override
    protected Tensor jvp(Tensor[] t, Tensor[] x, Tensor y) {
        Tensor some = t[0] != null ? t[0] : t[1];
        Tensor ta = t[0] != null ? t[0] : Ops.zerosLike(some, true);
        Tensor tb = t[1] != null ? t[1] : Ops.zerosLike(some, true);
        INDArray lifted = mask.reshape(Shapes.prepend(1, mask.shape()));
        return Ops.fitTangent(new Select(lifted).bind(ta, tb), y);
    }
}
