package dev.curvlab.core;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An immutable array value that derivatives can flow through.
 *
 * <p>A tensor is either <em>concrete</em> (it holds an ND4J {@link INDArray}) or a <em>tracer</em>
 * of one active transform (level &ge; 1). A tracer of a forward-mode ({@code jvp}) transform carries
 * its primal value one level down and a block of K tangents {@code [K, shape...]} (null = zero); a
 * tracer of a reverse-mode ({@code vjp}) transform carries its primal value and its node on that
 * transform's tape. Nesting transforms nests tracers, so {@code jacfwd(jacrev(f))} works without
 * perturbation confusion: every operation is handled by the innermost (highest-level) transform
 * among its operands, which delegates the primal computation one level down.
 *
 * <p>All operations are differentiable to any order. Arrays handed to {@link #of(INDArray)} are not
 * copied and must not be modified while tensors refer to them; no operation modifies its inputs.
 * Loading this class sets ND4J's default data type to float64.
 */
public final class Tensor {
    static {
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    }

    final INDArray array;
    final Trace trace;
    final Tensor primal;
    final Tensor tangent;
    final int node;
    private final long[] shape;

    private Tensor(INDArray array, Trace trace, Tensor primal, Tensor tangent, int node, long[] shape) {
        this.array = array;
        this.trace = trace;
        this.primal = primal;
        this.tangent = tangent;
        this.node = node;
        this.shape = shape;
    }

    /** Wraps an array (not copied). float64 and float32 arrays are accepted. */
    public static Tensor of(INDArray array) {
        if (array == null) {
            throw new IllegalArgumentException("Tensor.of: array is null");
        }
        DataType dt = array.dataType();
        if (dt != DataType.DOUBLE && dt != DataType.FLOAT) {
            throw new IllegalArgumentException("Tensor.of: data type " + dt
                    + " is not supported; convert with array.castTo(DataType.DOUBLE)");
        }
        return new Tensor(array, null, null, null, -1, array.shape());
    }

    /** A float64 rank-0 tensor. */
    public static Tensor scalar(double value) {
        return of(Nd4j.scalar(DataType.DOUBLE, value));
    }

    /** A float64 vector {@code [n]}. */
    public static Tensor vector(double... values) {
        return of(Nd4j.create(values, new long[] {values.length}, DataType.DOUBLE));
    }

    /** A float64 matrix {@code [rows, cols]} from row arrays. */
    public static Tensor matrix(double[][] rows) {
        return of(Nd4j.create(rows).castTo(DataType.DOUBLE));
    }

    /** float64 zeros of the given shape. */
    public static Tensor zeros(long... shape) {
        return of(Nd4j.zeros(DataType.DOUBLE, shape));
    }

    /** float64 ones of the given shape. */
    public static Tensor ones(long... shape) {
        return of(Nd4j.ones(DataType.DOUBLE, shape));
    }

    static Tensor jvpTracer(Trace trace, Tensor primal, Tensor tangent) {
        return new Tensor(null, trace, primal, tangent, -1, primal.shape);
    }

    static Tensor reverseTracer(Trace trace, Tensor primal, int node) {
        return new Tensor(null, trace, primal, null, node, primal.shape);
    }

    // ---------------------------------------------------------------- inspection

    /** The shape (a copy). */
    public long[] shape() {
        return shape.clone();
    }

    long[] shapeRef() {
        return shape;
    }

    public int rank() {
        return shape.length;
    }

    /** Size of one axis (negative axes count from the end). */
    public long size(int axis) {
        return shape[Shapes.axis("size", axis, shape.length)];
    }

    /** Number of elements. */
    public long length() {
        return Shapes.length(shape);
    }

    public DataType dataType() {
        return concrete().array.dataType();
    }

    /** True when this tensor is being differentiated by an active transform. */
    public boolean isTracer() {
        return trace != null;
    }

    /**
     * The numeric value as an array, without derivative information (for a tracer: its innermost
     * primal value). Do not modify the returned array.
     */
    public INDArray array() {
        return concrete().array;
    }

    /** The value of a single-element tensor. */
    public double item() {
        if (length() != 1) {
            throw new ShapeException("item: tensor of shape " + Shapes.str(shape) + " has " + length() + " elements, not 1");
        }
        return array().getDouble(0);
    }

    /** The concrete value at the bottom of the tracer chain. */
    Tensor concrete() {
        Tensor t = this;
        while (t.trace != null) {
            t = t.primal;
        }
        return t;
    }

    /** This value as a constant: derivatives do not flow through the result. */
    public Tensor stopGradient() {
        return concrete();
    }

    @Override
    public String toString() {
        if (trace != null) {
            return "Tensor(tracer level " + trace.level + ", shape " + Arrays.toString(shape) + ")";
        }
        return "Tensor(" + array.dataType() + " " + Arrays.toString(shape) + (length() <= 64 ? ", " + array : "") + ")";
    }

    // ---------------------------------------------------------------- elementwise arithmetic

    public Tensor add(Tensor o) {
        return Ops.add(this, o);
    }

    public Tensor sub(Tensor o) {
        return Ops.sub(this, o);
    }

    public Tensor mul(Tensor o) {
        return Ops.mul(this, o);
    }

    public Tensor div(Tensor o) {
        return Ops.div(this, o);
    }

    public Tensor add(double c) {
        return Ops.add(this, c);
    }

    public Tensor sub(double c) {
        return Ops.add(this, -c);
    }

    public Tensor mul(double c) {
        return Ops.mul(this, c);
    }

    public Tensor div(double c) {
        return Ops.mul(this, 1.0 / c);
    }

    /** {@code c - this}. */
    public Tensor rsub(double c) {
        return Ops.rsub(c, this);
    }

    /** {@code c / this}. */
    public Tensor rdiv(double c) {
        return Ops.rdiv(c, this);
    }

    public Tensor neg() {
        return Ops.neg(this);
    }

    public Tensor pow(double p) {
        return Ops.pow(this, p);
    }

    public Tensor square() {
        return Ops.pow(this, 2.0);
    }

    // ---------------------------------------------------------------- elementwise functions

    public Tensor exp() {
        return Ops.exp(this);
    }

    public Tensor log() {
        return Ops.log(this);
    }

    public Tensor log1p() {
        return Ops.log1p(this);
    }

    public Tensor sqrt() {
        return Ops.sqrt(this);
    }

    public Tensor sin() {
        return Ops.sin(this);
    }

    public Tensor cos() {
        return Ops.cos(this);
    }

    public Tensor tanh() {
        return Ops.tanh(this);
    }

    public Tensor sigmoid() {
        return Ops.sigmoid(this);
    }

    public Tensor softplus() {
        return Ops.softplus(this);
    }

    public Tensor relu() {
        return Ops.relu(this);
    }

    public Tensor erf() {
        return Ops.erf(this);
    }

    public Tensor abs() {
        return Ops.abs(this);
    }

    // ---------------------------------------------------------------- linear algebra and reductions

    /** Matrix product over the last two axes (leading axes broadcast). */
    public Tensor matmul(Tensor o) {
        return Ops.matmul(this, o);
    }

    /** Swaps the last two axes. */
    public Tensor transpose() {
        return Ops.transpose(this);
    }

    public Tensor permute(int... axes) {
        return Ops.permute(this, axes);
    }

    public Tensor reshape(long... newShape) {
        return Ops.reshape(this, newShape);
    }

    /** Sum of all elements (rank 0). */
    public Tensor sum() {
        return Ops.sum(this);
    }

    /** Sum over one axis, which is removed. */
    public Tensor sum(int axis) {
        return Ops.sum(this, axis, false);
    }

    /** Sum over one axis; {@code keepDims} keeps it with size 1. */
    public Tensor sum(int axis, boolean keepDims) {
        return Ops.sum(this, axis, keepDims);
    }

    /** Mean of all elements (rank 0). */
    public Tensor mean() {
        return Ops.mean(this);
    }

    /** Mean over one axis, which is removed. */
    public Tensor mean(int axis) {
        return Ops.mean(this, axis, false);
    }

    /** {@code log(sum(exp(x), axis))}, computed stably. */
    public Tensor logSumExp(int axis, boolean keepDims) {
        return Ops.logSumExp(this, axis, keepDims);
    }

    /** {@code x - logSumExp(x, axis, keepDims=true)}. */
    public Tensor logSoftmax(int axis) {
        return Ops.logSoftmax(this, axis);
    }

    // ---------------------------------------------------------------- slicing

    /** Elements {@code [start, end)} along {@code axis} (rank kept). */
    public Tensor slice(int axis, long start, long end) {
        return Ops.slice(this, axis, start, end);
    }

    /** Column {@code j} of a matrix as {@code [n, 1]}. */
    public Tensor col(long j) {
        return Ops.slice(this, -1, j, j + 1);
    }

    /** Columns {@code [start, end)} of a matrix. */
    public Tensor cols(long start, long end) {
        return Ops.slice(this, -1, start, end);
    }

    /** Rows {@code [start, end)}. */
    public Tensor rows(long start, long end) {
        return Ops.slice(this, 0, start, end);
    }

    /** Broadcast to a larger shape of the same rank (or fewer axes, padded on the left). */
    public Tensor broadcastTo(long... target) {
        return Ops.broadcastTo(this, target);
    }
}
