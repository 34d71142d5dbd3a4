package dev.curvlab.core;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/** Reductions over axes: sum and log-sum-exp. */
final class AxisReduction {
    private AxisReduction() {
    }

    private static long[] reducedShape(long[] in, int[] axes, boolean keepDims) {
        boolean[] drop = new boolean[in.length];
        for (int a : axes) {
            drop[a] = true;
        }
        long[] out = new long[keepDims ? in.length : in.length - axes.length];
        int j = 0;
        for (int i = 0; i < in.length; i++) {
            if (!drop[i]) {
                out[j++] = in[i];
            } else if (keepDims) {
                out[j++] = 1;
            }
        }
        return out;
    }

    /**
     * {@code y = sum(x, axes)}. VJP: g (axes restored as size 1) broadcast back to x's shape;
     * JVP: the same sum over the tangent block (axes shifted by one).
     */
    static final class Sum extends Primitive {
        private final int[] axes;
        private final boolean keepDims;

        Sum(int[] axes, boolean keepDims) {
            super("sum");
            this.axes = axes;
            this.keepDims = keepDims;
        }

        @Override
        protected long[] outputShape(long[][] shapes) {
            for (int a : axes) {
                if (a < 0 || a >= shapes[0].length) {
                    throw new ShapeException("sum: axis " + a + " out of range for shape " + Shapes.str(shapes[0]));
                }
            }
            return reducedShape(shapes[0], axes, keepDims);
        }

        @Override
        protected INDArray compute(INDArray[] x) {
            if (axes.length == 0) {
                return x[0].dup();
            }
            INDArray out = x[0].sum(keepDims, axes);
            long[] expected = reducedShape(x[0].shape(), axes, keepDims);
            return Arrays.equals(out.shape(), expected) ? out : out.reshape(expected);
        }

        @Override
        protected Tensor vjp(int i, Tensor g, Tensor[] x, Tensor y) {
            Tensor kept = keepDims ? g : g.reshape(reducedShape(x[0].shapeRef(), axes, true));
            return kept.broadcastTo(x[0].shapeRef());
        }

        @Override
        protected Tensor jvp(Tensor[] t, Tensor[] x, Tensor y) {
            return new Sum(Shapes.shift(axes, 1), keepDims).bind(t[0]);
        }
    }

    /**
     * {@code y = log(sum(exp(x), axis))} computed as {@code m + log(sum(exp(x - m)))} with m the max.
     * With {@code s = exp(x - y)} (the softmax): VJP {@code g s}; JVP {@code sum(t s, axis)}.
     */
    static final class LogSumExp extends Primitive {
        private final int axis;
        private final boolean keepDims;

        LogSumExp(int axis, boolean keepDims) {
            super("logsumexp");
            this.axis = axis;
            this.keepDims = keepDims;
        }

        @Override
        protected long[] outputShape(long[][] shapes) {
            if (axis < 0 || axis >= shapes[0].length) {
                throw new ShapeException("logsumexp: axis " + axis + " out of range for shape " + Shapes.str(shapes[0]));
            }
            return reducedShape(shapes[0], new int[] {axis}, keepDims);
        }

        @Override
        protected INDArray compute(INDArray[] x) {
            INDArray m = x[0].max(true, axis);
            // an all -Inf row gives m = -Inf; shift by 0 there so the result is -Inf, not NaN
            m = Transforms.max(m, -Double.MAX_VALUE, false);
            INDArray s = Transforms.exp(x[0].sub(m), false).sum(true, axis);
            INDArray out = Transforms.log(s, false).addi(m);
            return out.reshape(reducedShape(x[0].shape(), new int[] {axis}, keepDims));
        }

        private Tensor softmax(Tensor x, Tensor y) {
            Tensor yk = keepDims ? y : y.reshape(reducedShape(x.shapeRef(), new int[] {axis}, true));
            return x.sub(yk).exp();
        }

        @Override
        protected Tensor vjp(int i, Tensor g, Tensor[] x, Tensor y) {
            Tensor gk = keepDims ? g : g.reshape(reducedShape(x[0].shapeRef(), new int[] {axis}, true));
            return gk.mul(softmax(x[0], y));
        }

        @Override
        protected Tensor jvp(Tensor[] t, Tensor[] x, Tensor y) {
            return new Sum(new int[] {axis + 1}, keepDims).bind(t[0].mul(Ops.lift(softmax(x[0], y))));
        }
    }
}
