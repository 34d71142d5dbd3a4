package dev.curvlab.spark.data;

import dev.curvlab.nn.data.Dataset;
import java.io.Serializable;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A block of samples as plain Java arrays, so Spark can ship and cache it without ND4J: inputs
 * {@code x [rows, inputs]} and targets {@code y [rows, targetWidth]}, both row-major float64, or class
 * indices {@code y [rows]} ({@code targetWidth == 0}). A shard may have 0 rows (an empty partition).
 */
public final class Shard implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int rows;
    private final int inputs;
    private final int targetWidth;
    private final double[] x;
    private final double[] y;

    /** @param targetWidth columns of y, or 0 for class indices (one per row) */
    public Shard(int rows, int inputs, int targetWidth, double[] x, double[] y) {
        if (x.length != (long) rows * inputs || y.length != (long) rows * Math.max(1, targetWidth)) {
            throw new IllegalArgumentException("shard of " + rows + " rows: x has " + x.length + " values for " + inputs
                    + " inputs, y has " + y.length + " for target width " + targetWidth);
        }
        this.rows = rows;
        this.inputs = inputs;
        this.targetWidth = targetWidth;
        this.x = x;
        this.y = y;
    }

    /** The samples of x {@code [n, d]} and y {@code [n, k]} or {@code [n]}. */
    public static Shard of(INDArray x, INDArray y) {
        int rows = (int) x.size(0);
        int width = y.rank() == 1 ? 0 : (int) y.size(1);
        return new Shard(rows, (int) x.size(1), width, doubles(x), doubles(y));
    }

    /** The samples of a data set. */
    public static Shard of(Dataset d) {
        return of(d.x(), d.y());
    }

    /** An empty shard of the given widths. */
    public static Shard empty(int inputs, int targetWidth) {
        return new Shard(0, inputs, targetWidth, new double[0], new double[0]);
    }

    /** The shards' rows one after another (all must have the same widths); {@code parts} must not be empty. */
    public static Shard concat(List<Shard> parts) {
        if (parts.size() == 1) {
            return parts.get(0);
        }
        Shard first = parts.get(0);
        int rows = 0;
        for (Shard s : parts) {
            if (s.inputs != first.inputs || s.targetWidth != first.targetWidth) {
                throw new IllegalArgumentException("shards of different widths: x " + first.inputs + " vs " + s.inputs + ", y "
                        + first.targetWidth + " vs " + s.targetWidth);
            }
            rows = Math.addExact(rows, s.rows);
        }
        double[] x = new double[Math.multiplyExact(rows, first.inputs)];
        double[] y = new double[Math.multiplyExact(rows, Math.max(1, first.targetWidth))];
        int px = 0;
        int py = 0;
        for (Shard s : parts) {
            System.arraycopy(s.x, 0, x, px, s.x.length);
            System.arraycopy(s.y, 0, y, py, s.y.length);
            px += s.x.length;
            py += s.y.length;
        }
        return new Shard(rows, first.inputs, first.targetWidth, x, y);
    }

    /** Rows {@code [from, to)} as a new shard. */
    public Shard rows(int from, int to) {
        int w = Math.max(1, targetWidth);
        return new Shard(to - from, inputs, targetWidth, java.util.Arrays.copyOfRange(x, from * inputs, to * inputs),
                java.util.Arrays.copyOfRange(y, from * w, to * w));
    }

    /** As a curvlab data set (validated: finite values, class indices); needs at least one row. */
    public Dataset toDataset() {
        INDArray xa = Nd4j.create(x, new long[] {rows, inputs}, DataType.DOUBLE);
        INDArray ya = targetWidth == 0 ? Nd4j.create(y, new long[] {rows}, DataType.DOUBLE)
                : Nd4j.create(y, new long[] {rows, targetWidth}, DataType.DOUBLE);
        return new Dataset(xa, ya);
    }

    /**
     * The first problem with the values, or null: a non-finite input or target, or a class index
     * that is not a non-negative integer ({@code row} counts from {@code firstRow}).
     */
    public String firstInvalid(long firstRow) {
        for (int i = 0; i < x.length; i++) {
            if (!Double.isFinite(x[i])) {
                return "input row " + (firstRow + i / inputs) + ", column " + i % inputs + " is " + x[i] + " (inputs must be finite)";
            }
        }
        for (int i = 0; i < y.length; i++) {
            double v = y[i];
            if (!Double.isFinite(v)) {
                return "target row " + (firstRow + i / Math.max(1, targetWidth)) + " is " + v + " (targets must be finite)";
            }
            if (targetWidth == 0 && (v < 0 || v != Math.rint(v))) {
                return "target row " + (firstRow + i) + " is " + v + " (class indices must be non-negative integers)";
            }
        }
        return null;
    }

    public int rows() {
        return rows;
    }

    public int inputs() {
        return inputs;
    }

    /** Columns of y, or 0 for class indices. */
    public int targetWidth() {
        return targetWidth;
    }

    /** The inputs, row-major (shared: do not modify). */
    public double[] xValues() {
        return x;
    }

    /** The targets, row-major (shared: do not modify). */
    public double[] yValues() {
        return y;
    }

    private static double[] doubles(INDArray a) {
        if (a.length() == 0) {
            return new double[0];
        }
        INDArray c = (a.dataType() == DataType.DOUBLE ? a : a.castTo(DataType.DOUBLE)).dup('c');
        return c.data().asDouble();
    }
}
