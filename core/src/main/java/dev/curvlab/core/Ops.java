package dev.curvlab.core;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The differentiable operations, as static functions (the {@link Tensor} methods delegate here).
 * Binary operations broadcast numpy-style: operands of lower rank gain leading axes of size 1, then
 * size-1 axes expand. Every function here is built from primitives, so it can be differentiated to
 * any order.
 */
public final class Ops {
    private Ops() {
    }

    // ---------------------------------------------------------------- constants

    /** Zeros of the given data type and shape (a constant). */
    public static Tensor zeros(DataType dt, long... shape) {
        return Tensor.of(Nd4j.zeros(dt, shape));
    }

    /** Ones with the shape and data type of x (a constant). */
    public static Tensor onesLike(Tensor x) {
        return Tensor.of(Nd4j.ones(x.dataType(), x.shapeRef()));
    }

    /** Zeros of x's data type shaped {@code [1, ..., 1]} with x's rank: a zero that broadcasts against x. */
    static Tensor zerosLike(Tensor x, boolean broadcastable) {
        long[] shape = broadcastable ? ones(x.rank()) : x.shapeRef();
        return zeros(x.dataType(), shape);
    }

    private static long[] ones(int rank) {
        long[] s = new long[rank];
        Arrays.fill(s, 1L);
        return s;
    }

    // ---------------------------------------------------------------- arithmetic

    public static Tensor add(Tensor a, Tensor b) {
        Tensor[] x = align(a, b);
        return Binary.ADD.bind(x[0], x[1]);
    }

    public static Tensor sub(Tensor a, Tensor b) {
        Tensor[] x = align(a, b);
        return Binary.SUB.bind(x[0], x[1]);
    }

    public static Tensor mul(Tensor a, Tensor b) {
        Tensor[] x = align(a, b);
        return Binary.MUL.bind(x[0], x[1]);
    }

    public static Tensor div(Tensor a, Tensor b) {
        Tensor[] x = align(a, b);
        return Binary.DIV.bind(x[0], x[1]);
    }

    /** {@code x + c}. */
    public static Tensor add(Tensor x, double c) {
        return new Affine(1.0, c).bind(x);
    }

    /** {@code c x}. */
    public static Tensor mul(Tensor x, double c) {
        return new Affine(c, 0.0).bind(x);
    }

    /** {@code c - x}. */
    public static Tensor rsub(double c, Tensor x) {
        return new Affine(-1.0, c).bind(x);
    }

    /** {@code c / x}. */
    public static Tensor rdiv(double c, Tensor x) {
        return Elementwise.rdiv(c).bind(x);
    }

    public static Tensor neg(Tensor x) {
        return new Affine(-1.0, 0.0).bind(x);
    }

    /** {@code x^p} elementwise for a constant exponent. */
    public static Tensor pow(Tensor x, double p) {
        return p == 1.0 ? x : Elementwise.pow(p).bind(x);
    }

    // ---------------------------------------------------------------- elementwise functions

    public static Tensor exp(Tensor x) {
        return Elementwise.EXP.bind(x);
    }

    public static Tensor log(Tensor x) {
        return Elementwise.LOG.bind(x);
    }

    public static Tensor log1p(Tensor x) {
        return Elementwise.LOG1P.bind(x);
    }

    public static Tensor sqrt(Tensor x) {
        return Elementwise.SQRT.bind(x);
    }

    public static Tensor sin(Tensor x) {
        return Elementwise.SIN.bind(x);
    }

    public static Tensor cos(Tensor x) {
        return Elementwise.COS.bind(x);
    }

    public static Tensor tanh(Tensor x) {
        return Elementwise.TANH.bind(x);
    }

    public static Tensor sigmoid(Tensor x) {
        return Elementwise.SIGMOID.bind(x);
    }

    /** {@code log(1 + e^x)}, stable for large |x|. */
    public static Tensor softplus(Tensor x) {
        return Elementwise.SOFTPLUS.bind(x);
    }

    public static Tensor relu(Tensor x) {
        return Elementwise.RELU.bind(x);
    }

    /** {@code x > 0 ? x : alpha x}. */
    public static Tensor leakyRelu(Tensor x, double alpha) {
        return Elementwise.leakyRelu(alpha).bind(x);
    }

    /** {@code x > 0 ? x : alpha (e^x - 1)}. */
    public static Tensor elu(Tensor x, double alpha) {
        return Elementwise.elu(alpha).bind(x);
    }

    public static Tensor erf(Tensor x) {
        return Elementwise.ERF.bind(x);
    }

    public static Tensor abs(Tensor x) {
        return Elementwise.ABS.bind(x);
    }

    /**
     * {@code mask ? a : b} elementwise; the mask is a constant array (non-zero = true; boolean
     * arrays accepted), broadcast with a and b.
     */
    public static Tensor where(INDArray mask, Tensor a, Tensor b) {
        int rank = Math.max(mask.rank(), Math.max(a.rank(), b.rank()));
        INDArray m = mask.dataType() == a.dataType() ? mask : mask.castTo(a.dataType());
        if (m.rank() < rank) {
            m = m.reshape(Shapes.padLeft(m.shape(), rank));
        }
        return new Select(m).bind(padRank(a, rank), padRank(b, rank));
    }

    // ---------------------------------------------------------------- reductions

    /** Sum of all elements, rank 0. */
    public static Tensor sum(Tensor x) {
        int[] all = new int[x.rank()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        return new AxisReduction.Sum(all, false).bind(x);
    }

    public static Tensor sum(Tensor x, int axis, boolean keepDims) {
        return new AxisReduction.Sum(new int[] {Shapes.axis("sum", axis, x.rank())}, keepDims).bind(x);
    }

    /** Sum over several axes. */
    public static Tensor sum(Tensor x, int[] axes, boolean keepDims) {
        int[] a = new int[axes.length];
        for (int i = 0; i < a.length; i++) {
            a[i] = Shapes.axis("sum", axes[i], x.rank());
        }
        return new AxisReduction.Sum(a, keepDims).bind(x);
    }

    /** Mean of all elements, rank 0. */
    public static Tensor mean(Tensor x) {
        return mul(sum(x), 1.0 / x.length());
    }

    public static Tensor mean(Tensor x, int axis, boolean keepDims) {
        return mul(sum(x, axis, keepDims), 1.0 / x.size(axis));
    }

    /** {@code log(sum(exp(x), axis))}, stable. */
    public static Tensor logSumExp(Tensor x, int axis, boolean keepDims) {
        return new AxisReduction.LogSumExp(Shapes.axis("logsumexp", axis, x.rank()), keepDims).bind(x);
    }

    /** {@code x - logSumExp(x, axis)}: log-probabilities of a softmax. */
    public static Tensor logSoftmax(Tensor x, int axis) {
        return sub(x, logSumExp(x, axis, true));
    }

    /** {@code exp(logSoftmax(x, axis))}. */
    public static Tensor softmax(Tensor x, int axis) {
        return exp(logSoftmax(x, axis));
    }

    // ---------------------------------------------------------------- shapes

    public static Tensor reshape(Tensor x, long... shape) {
        long[] s = shape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) {
                    throw new ShapeException("reshape of " + Arrays.toString(x.shapeRef()) + " to " + Arrays.toString(shape)
                            + ": at most one size may be -1 (inferred), got -1 at axes " + infer + " and " + i);
                }
                infer = i;
            } else if (s[i] < 0) {
                throw new ShapeException("reshape of " + Arrays.toString(x.shapeRef()) + " to " + Arrays.toString(shape)
                        + ": size " + s[i] + " at axis " + i + " (sizes are >= 0, or -1 for one inferred size)");
            } else {
                known *= s[i];
            }
        }
        if (infer >= 0) {
            if (known == 0 || x.length() % known != 0) {
                throw new ShapeException("reshape of " + Arrays.toString(x.shapeRef()) + " (" + x.length() + " elements) to "
                        + Arrays.toString(shape) + ": the other sizes (product " + known + ") do not divide the length");
            }
            s[infer] = x.length() / known;
        }
        if (Arrays.equals(s, x.shapeRef())) {
            return x;
        }
        return new Structural.Reshape(s).bind(x);
    }

    public static Tensor permute(Tensor x, int... axes) {
        return new Structural.Permute(axes.clone()).bind(x);
    }

    /** Swaps the last two axes. */
    public static Tensor transpose(Tensor x) {
        int r = x.rank();
        if (r < 2) {
            throw new ShapeException("transpose: needs rank >= 2, got shape " + Shapes.str(x.shapeRef()));
        }
        int[] p = new int[r];
        for (int i = 0; i < r; i++) {
            p[i] = i;
        }
        p[r - 2] = r - 1;
        p[r - 1] = r - 2;
        return permute(x, p);
    }

    /** Elements {@code [start, end)} along {@code axis}. */
    public static Tensor slice(Tensor x, int axis, long start, long end) {
        int a = Shapes.axis("slice", axis, x.rank());
        if (start == 0 && end == x.shapeRef()[a]) {
            return x;
        }
        return new Structural.Slice(a, start, end).bind(x);
    }

    /** Concatenation along an axis (all operands of equal rank). */
    public static Tensor concat(int axis, Tensor... xs) {
        if (xs.length == 0) {
            throw new IllegalArgumentException("concat: no operands");
        }
        if (xs.length == 1) {
            return xs[0];
        }
        return new Structural.Concat(Shapes.axis("concat", axis, xs[0].rank())).bind(xs);
    }

    /** Side by side along the last axis (columns of matrices). */
    public static Tensor hstack(Tensor... xs) {
        return concat(-1, xs);
    }

    /** One above the other along the first axis (rows). */
    public static Tensor vstack(Tensor... xs) {
        return concat(0, xs);
    }

    /** Broadcast to a shape of equal or higher rank. */
    public static Tensor broadcastTo(Tensor x, long... shape) {
        Tensor p = padRank(x, shape.length);
        if (Arrays.equals(p.shapeRef(), shape)) {
            return p;
        }
        return new Structural.BroadcastTo(shape.clone()).bind(p);
    }

    // ---------------------------------------------------------------- linear algebra

    /** Matrix product over the last two axes; a rank-1 operand is treated as a row (left) or column (right). */
    public static Tensor matmul(Tensor a, Tensor b) {
        if (a.rank() == 1 || b.rank() == 1) {
            Tensor a2 = a.rank() == 1 ? reshape(a, 1, a.length()) : a;
            Tensor b2 = b.rank() == 1 ? reshape(b, b.length(), 1) : b;
            Tensor c = matmul(a2, b2, false, false);
            long[] s = c.shapeRef();
            if (a.rank() == 1 && b.rank() == 1) {
                return reshape(c);
            }
            return a.rank() == 1 ? reshape(c, Shapes.concat(Arrays.copyOf(s, s.length - 2), new long[] {s[s.length - 1]}))
                    : reshape(c, Arrays.copyOf(s, s.length - 1));
        }
        return matmul(a, b, false, false);
    }

    /** {@code op(a) op(b)} over the last two axes, op transposing when its flag is set. */
    public static Tensor matmul(Tensor a, Tensor b, boolean transA, boolean transB) {
        Tensor[] x = align(a, b);
        return new MatMul(transA, transB).bind(x[0], x[1]);
    }

    // ---------------------------------------------------------------- convolution and pooling

    /** im2col as im2row: {@code [..., C, H, W] -> [..., OH OW, C kh kw]}, the window of each output position as a row (linear). */
    public static Tensor unfold(Tensor x, ConvGeometry g) {
        return new Window.Unfold(g).bind(x);
    }

    /** col2im: {@code [..., OH OW, C kh kw] -> [..., C, H, W]}, overlapping windows summed; the transpose of {@link #unfold}. */
    public static Tensor fold(Tensor cols, ConvGeometry g) {
        return new Window.Fold(g).bind(cols);
    }

    /**
     * 2-D convolution (cross-correlation, as PyTorch and DL4J): x {@code [..., C, H, W]}, weights
     * {@code w [F, C, kh, kw]}, bias {@code b [F]} or null; returns {@code [..., F, OH, OW]}:
     * {@code y[f, p] = sum_{c,i,j} w[f, c, i, j] unfold(x)[p, (c, i, j)] + b[f]}. The patches of all
     * images are stacked into one matrix {@code [n OH OW, C kh kw]}, so the product, the weight
     * gradient (a sum over images and positions) and their tangent blocks are each one GEMM; one
     * permute brings {@code [n, P, F]} to {@code [n, F, P]}.
     */
    public static Tensor conv2d(Tensor x, Tensor w, Tensor b, int[] stride, int[] padding) {
        long[] ws = w.shapeRef();
        if (ws.length != 4 || x.rank() < 3 || x.size(-3) != ws[1]) {
            throw new ShapeException("conv2d: input " + Shapes.str(x.shapeRef()) + " and weights " + Shapes.str(ws)
                    + " do not fit (need input [..., C, H, W] and weights [F, C, kh, kw])");
        }
        if (b != null && (b.rank() != 1 || b.size(0) != ws[0])) {
            throw new ShapeException("conv2d: bias " + Shapes.str(b.shapeRef()) + " does not fit " + ws[0] + " filters");
        }
        ConvGeometry g = new ConvGeometry(ws[1], x.size(-2), x.size(-1), (int) ws[2], (int) ws[3], stride[0], stride[1], padding[0],
                padding[1]);
        long[] lead = Arrays.copyOf(x.shapeRef(), x.rank() - 3);
        long images = Shapes.length(lead);
        Tensor patches = reshape(unfold(x, g), images * g.positions(), g.patchSize());
        Tensor y = matmul(patches, reshape(w, ws[0], g.patchSize()), false, true);              // [n P, F]
        if (b != null) {
            y = add(y, b);
        }
        Tensor nchw = permute(reshape(y, images, g.positions(), ws[0]), 0, 2, 1);               // [n, F, P]
        return reshape(nchw, Shapes.concat(lead, new long[] {ws[0], g.outHeight(), g.outWidth()}));
    }

    /** Average pooling of {@code [..., C, H, W]} over {@code kh x kw} windows with stride {@code [sh, sw]} (no padding): a fixed linear map. */
    public static Tensor avgPool2d(Tensor x, int[] kernel, int[] stride) {
        ConvGeometry g = poolGeometry("avgpool2d", x, kernel, stride);
        long[] lead = Arrays.copyOf(x.shapeRef(), x.rank() - 3);
        Tensor windows = unfold(reshape(x, Shapes.concat(lead, new long[] {g.channels(), 1, g.height(), g.width()})),
                new ConvGeometry(1, g.height(), g.width(), g.kh(), g.kw(), g.sh(), g.sw(), 0, 0));     // [..., C, P, kh kw]
        Tensor mean = mul(sum(windows, windows.rank() - 1, false), 1.0 / (g.kh() * g.kw()));
        return reshape(mean, Shapes.concat(lead, new long[] {g.channels(), g.outHeight(), g.outWidth()}));
    }

    /**
     * Max pooling of {@code [..., C, H, W]} (no padding): a gather of each window's argmax, which
     * is a constant of the derivative (piecewise linear, as in every framework); ties pick the
     * first maximum in row-major window order.
     */
    public static Tensor maxPool2d(Tensor x, int[] kernel, int[] stride) {
        ConvGeometry g = poolGeometry("maxpool2d", x, kernel, stride);
        long[] out = x.shape();
        out[out.length - 2] = g.outHeight();
        out[out.length - 1] = g.outWidth();
        int[] index = dev.curvlab.core.kernels.WindowKernels.argmaxWindows(x.array(), g);
        return new Window.Gather(index, x.shape(), out).bind(x);
    }

    private static ConvGeometry poolGeometry(String op, Tensor x, int[] kernel, int[] stride) {
        if (x.rank() < 3) {
            throw new ShapeException(op + ": input " + Shapes.str(x.shapeRef()) + " is not [..., C, H, W]");
        }
        return new ConvGeometry(x.size(-3), x.size(-2), x.size(-1), kernel[0], kernel[1], stride[0], stride[1], 0, 0);
    }

    // ---------------------------------------------------------------- helpers for rules

    /** {@code [1, x.shape...]}: a primal lifted to broadcast against a block of K tangents. */
    public static Tensor lift(Tensor x) {
        return new Structural.Reshape(Shapes.prepend(1, x.shapeRef())).bind(x);
    }

    /** Sums g over the axes where {@code shape} has size 1 and g does not (the adjoint of broadcasting). */
    public static Tensor unbroadcast(Tensor g, long[] shape) {
        if (Arrays.equals(g.shapeRef(), shape)) {
            return g;
        }
        int[] axes = Shapes.expandedAxes(shape, g.shapeRef());
        Tensor s = new AxisReduction.Sum(axes, true).bind(g);
        return Arrays.equals(s.shapeRef(), shape) ? s : reshape(s, shape);
    }

    /** Broadcasts a tangent block to {@code [K, y.shape...]} when a rule produced a smaller one. */
    static Tensor fitTangent(Tensor t, Tensor y) {
        if (t == null) {
            return null;
        }
        long[] want = Shapes.prepend(t.size(0), y.shapeRef());
        return Arrays.equals(t.shapeRef(), want) ? t : new Structural.BroadcastTo(want).bind(t);
    }

    /** {@code a + b} where null stands for zero. */
    static Tensor addOrNull(Tensor a, Tensor b) {
        return a == null ? b : b == null ? a : add(a, b);
    }

    static Tensor padRank(Tensor x, int rank) {
        return x.rank() >= rank ? x : new Structural.Reshape(Shapes.padLeft(x.shapeRef(), rank)).bind(x);
    }

    private static Tensor[] align(Tensor a, Tensor b) {
        int r = Math.max(a.rank(), b.rank());
        return new Tensor[] {padRank(a, r), padRank(b, r)};
    }
}
