package dev.curvlab.core.kernels;

import java.util.function.DoubleUnaryOperator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Elementwise kernels that ND4J gets wrong or lacks, evaluated in one Java loop over a copied
 * buffer (one transfer in, one out; never one ND4J call per element): {@code log1p} (ND4J computes
 * {@code log(1+x)}, losing small x), a softplus that does not overflow, and a select with a mask
 * that does not turn {@code 0 * Inf} into NaN.
 */
public final class ElementwiseKernels {
    private ElementwiseKernels() {
    }

    /** Accurate {@code log(1 + x)}. */
    public static INDArray log1p(INDArray x) {
        return map(x, Math::log1p);
    }

    /** {@code log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|))}, finite for all finite x. */
    public static INDArray softplus(INDArray x) {
        return map(x, v -> Math.max(v, 0.0) + Math.log1p(Math.exp(-Math.abs(v))));
    }

    /** {@code x > 0 ? 1 : 0} in x's data type. */
    public static INDArray step(INDArray x) {
        return x.gt(0.0).castTo(x.dataType());
    }

    /** {@code x > 0 ? 1 : (x < 0 ? -1 : 0)} in x's data type. */
    public static INDArray sign(INDArray x) {
        return map(x, Math::signum);
    }

    /** {@code x > 0 ? 1 : slope}. */
    public static INDArray stepOr(INDArray x, double slope) {
        return map(x, v -> v > 0 ? 1.0 : slope);
    }

    /** {@code x > 0 ? x : alpha * x}. */
    public static INDArray leakyRelu(INDArray x, double alpha) {
        return map(x, v -> v > 0 ? v : alpha * v);
    }

    /** {@code x > 0 ? x : alpha * (exp(x) - 1)}. */
    public static INDArray elu(INDArray x, double alpha) {
        return map(x, v -> v > 0 ? v : alpha * Math.expm1(v));
    }

    /**
     * {@code mask != 0 ? a : b}, all three already of the output shape (callers broadcast first).
     */
    public static INDArray select(INDArray mask, INDArray a, INDArray b) {
        double[] m = values(mask);
        double[] va = values(a);
        double[] vb = values(b);
        for (int i = 0; i < vb.length; i++) {
            if (m[i] != 0.0) {
                vb[i] = va[i];
            }
        }
        return create(vb, b.shape(), a.dataType());
    }

    /** Applies {@code f} to every element (a new array of x's shape and data type). */
    public static INDArray map(INDArray x, DoubleUnaryOperator f) {
        double[] v = values(x);
        for (int i = 0; i < v.length; i++) {
            v[i] = f.applyAsDouble(v[i]);
        }
        return create(v, x.shape(), x.dataType());
    }

    /** A fresh Java copy of the elements in C order. */
    public static double[] values(INDArray x) {
        INDArray c = x;
        if (x.isView() || x.ordering() != 'c' || x.data().length() != x.length() || x.offset() != 0) {
            c = x.dup('c');
        }
        if (c.dataType() != DataType.DOUBLE) {
            c = c.castTo(DataType.DOUBLE);
        }
        return c.data().asDouble();
    }

    private static INDArray create(double[] v, long[] shape, DataType dt) {
        INDArray out = Nd4j.create(v, shape, DataType.DOUBLE);
        return dt == DataType.DOUBLE ? out : out.castTo(dt);
    }
}
