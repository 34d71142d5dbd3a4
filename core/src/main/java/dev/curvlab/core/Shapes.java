package dev.curvlab.core;

import java.util.Arrays;

/**
 * Shape arithmetic shared by primitives and transforms: products, broadcasting of equal-rank
 * shapes, formatting for error messages. Pure Java; no ND4J calls.
 */
public final class Shapes {
    private Shapes() {
    }

    /** Number of elements of {@code shape} (1 for a scalar, shape {@code []}). */
    public static long length(long[] shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return n;
    }

    /** {@code [k, shape...]}: the shape of a block of k tangents or cotangents. */
    public static long[] prepend(long k, long[] shape) {
        long[] out = new long[shape.length + 1];
        out[0] = k;
        System.arraycopy(shape, 0, out, 1, shape.length);
        return out;
    }

    /** {@code shape} without its first axis. */
    public static long[] tail(long[] shape) {
        return Arrays.copyOfRange(shape, 1, shape.length);
    }

    /** Concatenation of two shapes. */
    public static long[] concat(long[] a, long[] b) {
        long[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** {@code shape} with {@code rank - shape.length} leading ones, so that ranks agree. */
    public static long[] padLeft(long[] shape, int rank) {
        long[] out = new long[rank];
        Arrays.fill(out, 1L);
        System.arraycopy(shape, 0, out, rank - shape.length, shape.length);
        return out;
    }

    /**
     * Broadcast shape of equal-rank shapes (each axis: equal sizes or size 1).
     *
     * @throws ShapeException naming the operation and all shapes when they do not broadcast
     */
    public static long[] broadcast(String op, long[]... shapes) {
        int rank = shapes[0].length;
        for (long[] s : shapes) {
            if (s.length != rank) {
                throw new ShapeException(op + ": operands of different rank " + describe(shapes)
                        + " (ranks are aligned by Ops before binding a primitive)");
            }
        }
        long[] out = new long[rank];
        for (int ax = 0; ax < rank; ax++) {
            long size = 1;
            for (long[] s : shapes) {
                if (s[ax] != 1) {
                    if (size != 1 && size != s[ax]) {
                        throw new ShapeException(op + ": shapes " + describe(shapes)
                                + " cannot be broadcast together (axis " + ax + ": " + size + " vs " + s[ax] + ")");
                    }
                    size = s[ax];
                }
            }
            out[ax] = size;
        }
        return out;
    }

    /** Axes where {@code in} has size 1 but {@code out} does not: the axes a broadcast expanded. */
    public static int[] expandedAxes(long[] in, long[] out) {
        int count = 0;
        for (int i = 0; i < in.length; i++) {
            if (in[i] == 1 && out[i] != 1) {
                count++;
            }
        }
        int[] axes = new int[count];
        int j = 0;
        for (int i = 0; i < in.length; i++) {
            if (in[i] == 1 && out[i] != 1) {
                axes[j++] = i;
            }
        }
        return axes;
    }

    /** Normalises a possibly negative axis and checks it against {@code rank}. */
    public static int axis(String op, int axis, int rank) {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw new ShapeException(op + ": axis " + axis + " out of range for rank " + rank);
        }
        return a;
    }

    /** {@code [2, 3]} style text of one shape. */
    public static String str(long[] shape) {
        return Arrays.toString(shape);
    }

    /** {@code [2, 3] and [4, 3]} style text of several shapes. */
    public static String describe(long[]... shapes) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < shapes.length; i++) {
            if (i > 0) {
                sb.append(i == shapes.length - 1 ? " and " : ", ");
            }
            sb.append(Arrays.toString(shapes[i]));
        }
        return sb.toString();
    }

    /** Axes {@code 0..rank-1} shifted by {@code by} (used to apply an op to a [K, ...] tangent block). */
    public static int[] shift(int[] axes, int by) {
        int[] out = new int[axes.length];
        for (int i = 0; i < axes.length; i++) {
            out[i] = axes[i] + by;
        }
        return out;
    }
}
