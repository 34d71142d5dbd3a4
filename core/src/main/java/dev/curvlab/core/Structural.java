package dev.curvlab.core;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Linear primitives that move elements without arithmetic: reshape, permute, slice and its
 * adjoint pad, concatenation and broadcasting. Each rule is another structural op: the VJP is the
 * adjoint (inverse permutation, pad for slice, slices for concat, sum for broadcast), the JVP is
 * the same op on the tangent block with axes shifted past the leading K axis.
 */
final class Structural {
    private Structural() {
    }

    /** {@code y = reshape(x, shape)} (C order). VJP: reshape back; JVP: reshape to {@code [K, shape]}. */
    static final class Reshape extends Primitive {
        private final long[] shape;

        Reshape(long[] shape) {
            super("reshape");
            this.shape = shape;
        }

        @Override
        protected long[] outputShape(long[][] shapes) {
            if (Shapes.length(shapes[0]) != Shapes.length(shape)) {
                throw new ShapeException("reshape: cannot reshape " + Shapes.str(shapes[0]) + " (" + Shapes.length(shapes[0])
                        + " elements) to " + Shapes.str(shape) + " (" + Shapes.length(shape) + " elements)");
            }
            return shape;
        }

        @Override
        protected INDArray compute(INDArray[] x) {
            return x[0].reshape('c', shape);
        }

        @Override
        protected Tensor vjp(int i, Tensor g, Tensor[] x, Tensor y) {
            return g.reshape(x[0].shapeRef());
        }

        @Override
        protected Tensor jvp(Tensor[] t, Tensor[] x, Tensor y) {
            return t[0].reshape(Shapes.prepend(t[0].size(0), shape));
        }
    }

    /** {@code y = permute(x, perm)}. VJP: inverse permutation; JVP: {@code [0, perm + 1]}. */
    static final class Permute extends Primitive {
        private final int[] perm;

        Permute(int[] perm) {
            super("permute");
            this.perm = perm;
        }

        @Override
        protected long[] outputShape(long[][] shapes) {
            long[] in = shapes[0];
            boolean[] seen = new boolean[in.length];
            if (perm.length != in.length) {
                throw new ShapeException("permute: " + Arrays.toString(perm) + " is not a permutation of the axes of " + Shapes.str(in));
            }
            long[] out = new long[in.length];
            for (int i = 0; i < perm.length; i++) {
                if (perm[i] < 0 || perm[i] >= in.length || seen[perm[i]]) {
                    throw new ShapeException("permute: " + Arrays.toString(perm) + " is not a permutation of the axes of " + Shapes.str(in));
                }
                seen[perm[i]] = true;
                out[i] = in[perm[i]];
            }
            return out;
        }

        @Override
        protected INDArray compute(INDArray[] x) {
            return x[0].permute(perm);
        }

        @Override
        protected Tensor vjp(int i, Tensor g, Tensor[] x, Tensor y) {
            int[] inverse = new int[perm.length];
            for (int k = 0; k < perm.length; k++) {
                inverse[perm[k]] = k;
            }
            return new Permute(inverse).bind(g);
        }

        @Override
        protected Tensor jvp(Tensor[] t, Tensor[] x, Tensor y) {
            int[] p = new int[perm.length + 1];
            for (int k = 0; k < perm.length; k++) {
                p[k + 1] = perm[k] + 1;
            }
            return new Permute(p).bind(t[0]);
        }
    }

    private static INDArrayIndex[] range(int rank, int axis, long start, long end) {
        INDArrayIndex[] idx = new INDArrayIndex[rank];
        for (int i = 0; i < rank; i++) {
            idx[i] = i == axis ? NDArrayIndex.interval(start, end) : NDArrayIndex.all();
        }
        return idx;
    }

    /** {@code y = x[..., start:end, ...]} along one axis. VJP: pad g back with zeros; JVP: slice the block. */
    static final class Slice extends Primitive {
        private final int axis;
        private final long start;
        private final long end;

        Slice(int axis, long start, long end) {
            super("slice");
            this.axis = axis;
            this.start = start;
            this.end = end;
        }

        @Override
        protected long[] outputShape(long[][] shapes) {
            long[] in = shapes[0];
            if (axis < 0 || axis >= in.length || start < 0 || end > in[axis] || start >= end) {
                throw new ShapeException("slice: range [" + start + ", " + end + ") on axis " + axis
                        + " is empty or outside shape " + Shapes.str(in));
            }
            long[] out = in.clone();
            out[axis] = end - start;
            return out;
        }

        @Override
        protected INDArray compute(INDArray[] x) {
            return x[0].get(range(x[0].rank(), axis, start, end));
        }

        @Override
        protected Tensor vjp(int i, Tensor g, Tensor[] x, Tensor y) {
            return new Pad(axis, start, x[0].shapeRef()[axis]).bind(g);
        }

        @Override
        protected Tensor jvp(Tensor[] t, Tensor[] x, Tensor y) {
            return new Slice(axis + 1, start, end).bind(t[0]);
        }
    }

    /**
     * Adjoint of slice: places x at {@code [start, start + len)} along an axis of length {@code full},
     * zeros elsewhere. VJP: slice g; JVP: pad the block.
     */
    static final class Pad extends Primitive {
        private final int axis;
        private final long start;
        private final long full;

        Pad(int axis, long start, long full) {
            super("pad");
            this.axis = axis;
            this.start = start;
            this.full = full;
        }

        @Override
        protected long[] outputShape(long[][] shapes) {
            long[] in = shapes[0];
            if (axis < 0 || axis >= in.length || start < 0 || start + in[axis] > full) {
                throw new ShapeException("pad: cannot place " + Shapes.str(in) + " at " + start + " in an axis of length " + full);
            }
            long[] out = in.clone();
            out[axis] = full;
            return out;
        }

        @Override
        protected INDArray compute(INDArray[] x) {
            long[] shape = x[0].shape().clone();
            shape[axis] = full;
            INDArray out = Nd4j.zeros(x[0].dataType(), shape);
            out.get(range(shape.length, axis, start, start + x[0].size(axis))).assign(x[0]);
            return out;
        }

        @Override
        protected Tensor vjp(int i, Tensor g, Tensor[] x, Tensor y) {
            return new Slice(axis, start, start + x[0].shapeRef()[axis]).bind(g);
        }

        @Override
        protected Tensor jvp(Tensor[] t, Tensor[] x, Tensor y) {
            return new Pad(axis + 1, start, full).bind(t[0]);
        }
    }

    /** {@code y = concat(x_0, ..., x_n-1; axis)}. VJP: the matching slice of g; JVP: concat of blocks (zeros for null). */
    static final class Concat extends Primitive {
        private final int axis;

        Concat(int axis) {
            super("concat");
            this.axis = axis;
        }

        @Override
        protected long[] outputShape(long[][] shapes) {
            long[] out = shapes[0].clone();
            if (axis < 0 || axis >= out.length) {
                throw new ShapeException("concat: axis " + axis + " out of range for " + Shapes.str(out));
            }
            for (int i = 1; i < shapes.length; i++) {
                long[] s = shapes[i];
                boolean ok = s.length == out.length;
                for (int a = 0; ok && a < s.length; a++) {
                    ok = a == axis || s[a] == shapes[0][a];
                }
                if (!ok) {
                    throw new ShapeException("concat along axis " + axis + ": shapes " + Shapes.describe(shapes)
                            + " differ outside that axis");
                }
                out[axis] += s[axis];
            }
            return out;
        }

        @Override
        protected INDArray compute(INDArray[] x) {
            return x.length == 1 ? x[0].dup() : dev.curvlab.core.kernels.BroadcastKernel.concat(axis, x);
        }

        @Override
        protected Tensor vjp(int i, Tensor g, Tensor[] x, Tensor y) {
            long offset = 0;
            for (int k = 0; k < i; k++) {
                offset += x[k].shapeRef()[axis];
            }
            return new Slice(axis, offset, offset + x[i].shapeRef()[axis]).bind(g);
        }

        @Override
        protected Tensor jvp(Tensor[] t, Tensor[] x, Tensor y) {
            long k = -1;
            for (Tensor ti : t) {
                if (ti != null) {
                    k = ti.size(0);
                }
            }
            Tensor[] blocks = new Tensor[t.length];
            for (int i = 0; i < t.length; i++) {
                blocks[i] = t[i] != null ? t[i] : Ops.zeros(x[i].dataType(), Shapes.prepend(k, x[i].shapeRef()));
            }
            return new Concat(axis + 1).bind(blocks);
        }
    }

    /** {@code y = broadcast(x, shape)} (equal rank, size-1 axes expand). VJP: sum over expanded axes; JVP: broadcast the block. */
    static final class BroadcastTo extends Primitive {
        private final long[] shape;

        BroadcastTo(long[] shape) {
            super("broadcast_to");
            this.shape = shape;
        }

        @Override
        protected long[] outputShape(long[][] shapes) {
            long[] in = shapes[0];
            boolean ok = in.length == shape.length;
            for (int a = 0; ok && a < in.length; a++) {
                ok = in[a] == shape[a] || in[a] == 1;
            }
            if (!ok) {
                throw new ShapeException("broadcast_to: cannot broadcast " + Shapes.str(in) + " to " + Shapes.str(shape));
            }
            return shape;
        }

        @Override
        protected INDArray compute(INDArray[] x) {
            return Arrays.equals(x[0].shape(), shape) ? x[0] : dev.curvlab.core.kernels.BroadcastKernel.broadcastTo(x[0], shape);
        }

        @Override
        protected Tensor vjp(int i, Tensor g, Tensor[] x, Tensor y) {
            return Ops.unbroadcast(g, x[0].shapeRef());
        }

        @Override
        protected Tensor jvp(Tensor[] t, Tensor[] x, Tensor y) {
            return new BroadcastTo(Shapes.prepend(t[0].size(0), shape)).bind(t[0]);
        }
    }
}
