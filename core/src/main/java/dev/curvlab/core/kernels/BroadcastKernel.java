package dev.curvlab.core.kernels;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastAddOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastDivOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastRDivOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastRSubOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastSubOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.AddOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.DivOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.SubOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Elementwise {@code a (op) b} for equal-rank operands with numpy broadcasting, routed to ND4J's
 * fastest form. Adjacent axes with the same broadcast pattern are merged, so the common cases
 * (a block of tangents {@code [K, ...]} against a lifted primal {@code [1, ...]}, a matrix against a
 * row or column) become one 2-D broadcast op along a single dimension, about 3x faster than ND4J's
 * general broadcasting path. Anything else falls back to ND4J's general path.
 */
public final class BroadcastKernel {
    private BroadcastKernel() {
    }

    /** The four arithmetic operations. */
    public enum Op {
        ADD, SUB, MUL, DIV
    }

    /** {@code a (op) b} as a new C-order array of the broadcast shape. */
    public static INDArray apply(Op op, INDArray a, INDArray b, long[] outShape) {
        if (Arrays.equals(a.shape(), b.shape())) {
            INDArray out = Nd4j.createUninitialized(a.dataType(), outShape, 'c');
            return Nd4j.exec(switch (op) {
                case ADD -> new AddOp(a, b, out);
                case SUB -> new SubOp(a, b, out);
                case MUL -> new MulOp(a, b, out);
                case DIV -> new DivOp(a, b, out);
            })[0];
        }
        // merge runs of axes with the same pattern: 0 = both full, 1 = a broadcast, 2 = b broadcast
        long[] as = a.shape();
        long[] bs = b.shape();
        long[] merged = new long[as.length];
        int[] pattern = new int[as.length];
        int k = 0;
        for (int i = 0; i < as.length; i++) {
            if (as[i] == 1 && bs[i] == 1) {
                continue;
            }
            int p = as[i] == bs[i] ? 0 : as[i] == 1 ? 1 : 2;
            long size = Math.max(as[i], bs[i]);
            if (k > 0 && pattern[k - 1] == p) {
                merged[k - 1] *= size;
            } else {
                pattern[k] = p;
                merged[k++] = size;
            }
        }
        if (k == 2 && pattern[0] != pattern[1] && (pattern[0] == 0 || pattern[1] == 0)) {
            int dim = pattern[0] == 0 ? 0 : 1;            // the axis both operands have in full
            boolean bIsSmall = pattern[0] == 2 || pattern[1] == 2;
            INDArray big = (bIsSmall ? a : b).reshape('c', new long[] {merged[0], merged[1]});
            INDArray small = (bIsSmall ? b : a).reshape('c', new long[] {merged[dim]});
            INDArray out = Nd4j.createUninitialized(a.dataType(), new long[] {merged[0], merged[1]}, 'c');
            Nd4j.exec(switch (op) {
                case ADD -> new BroadcastAddOp(big, small, out, dim);
                case MUL -> new BroadcastMulOp(big, small, out, dim);
                case SUB -> bIsSmall ? new BroadcastSubOp(big, small, out, dim) : new BroadcastRSubOp(big, small, out, dim);
                case DIV -> bIsSmall ? new BroadcastDivOp(big, small, out, dim) : new BroadcastRDivOp(big, small, out, dim);
            });
            return out.reshape('c', outShape);
        }
        return switch (op) {
            case ADD -> a.add(b);
            case SUB -> a.sub(b);
            case MUL -> a.mul(b);
            case DIV -> a.div(b);
        };
    }

    /** {@code x} broadcast to {@code shape} (equal rank, size-1 axes expand) as a new C-order array. */
    public static INDArray broadcastTo(INDArray x, long[] shape) {
        long[] xs = x.shape();
        if (Arrays.equals(xs, shape)) {
            return x.dup('c');
        }
        // merge runs of axes: true = x has the axis in full, false = x broadcasts along it
        long[] merged = new long[xs.length];
        boolean[] full = new boolean[xs.length];
        int k = 0;
        for (int i = 0; i < xs.length; i++) {
            if (shape[i] == 1) {
                continue;
            }
            boolean f = xs[i] == shape[i];
            if (k > 0 && full[k - 1] == f) {
                merged[k - 1] *= shape[i];
            } else {
                full[k] = f;
                merged[k++] = shape[i];
            }
        }
        INDArray out = Nd4j.createUninitialized(x.dataType(), shape, 'c');
        if (k == 1) {
            return out.assign(x.reshape('c', new long[] {1}).getDouble(0));
        }
        if (k == 2) {
            int dim = full[0] ? 0 : 1;
            INDArray o2 = out.reshape('c', new long[] {merged[0], merged[1]});
            Nd4j.exec(new org.nd4j.linalg.api.ops.impl.broadcast.BroadcastCopyOp(o2, x.reshape('c', new long[] {merged[dim]}), o2, dim));
            return out;
        }
        out.close();
        return x.broadcast(shape);
    }

    /**
     * {@code [d, n, d]} with {@code out[b, i, b] = 1}: basis direction b in every one of n rows.
     */
    public static INDArray rowBasis(long d, long n, org.nd4j.linalg.api.buffer.DataType dt) {
        INDArray out = Nd4j.zeros(dt, d, n, d);
        for (long b = 0; b < d; b++) {
            out.get(org.nd4j.linalg.indexing.NDArrayIndex.point(b), org.nd4j.linalg.indexing.NDArrayIndex.all(),
                    org.nd4j.linalg.indexing.NDArrayIndex.point(b)).assign(1.0);
        }
        return out;
    }

    /**
     * Concatenation along {@code axis} into one preallocated array (ND4J's own concat is several
     * times slower along inner axes).
     */
    public static INDArray concat(int axis, INDArray[] parts) {
        long[] shape = parts[0].shape().clone();
        for (int i = 1; i < parts.length; i++) {
            shape[axis] += parts[i].size(axis);
        }
        INDArray out = Nd4j.createUninitialized(parts[0].dataType(), shape, 'c');
        org.nd4j.linalg.indexing.INDArrayIndex[] idx = new org.nd4j.linalg.indexing.INDArrayIndex[shape.length];
        Arrays.fill(idx, org.nd4j.linalg.indexing.NDArrayIndex.all());
        long offset = 0;
        for (INDArray p : parts) {
            long len = p.size(axis);
            idx[axis] = org.nd4j.linalg.indexing.NDArrayIndex.interval(offset, offset + len);
            out.get(idx).assign(p);
            offset += len;
        }
        return out;
    }
}
