package dev.curvlab.curvature.operator;

import dev.curvlab.core.ArrayScope;
import dev.curvlab.core.Autodiff;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.TensorBiFunction;
import dev.curvlab.core.TensorFunction;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code scale * Hessian of f at theta} for any scalar function written with core ops, by
 * forward-over-reverse: one pass pushes all k columns of V through the gradient of f. With
 * {@code scale = -1} and f a log-likelihood this is the observed Fisher information.
 */
public final class FunctionHessianOperator extends LinearOperator {
    private final TensorBiFunction hvp;
    private final Tensor theta;
    private final double scale;

    /** @param theta the point, {@code [N]} */
    public FunctionHessianOperator(TensorFunction f, INDArray theta, double scale) {
        if (theta.rank() != 1) {
            throw new IllegalArgumentException("the point theta must be a vector [N], got " + java.util.Arrays.toString(theta.shape()));
        }
        this.hvp = Autodiff.hvp(f);
        this.theta = Tensor.of(theta.castTo(DataType.DOUBLE));
        this.scale = scale;
    }

    @Override
    public long size() {
        return theta.length();
    }

    @Override
    protected INDArray apply(INDArray v) {
        INDArray block = v.transpose().dup('c');
        INDArray hv = ArrayScope.run(() -> hvp.apply(theta, Tensor.of(block))).array();
        INDArray out = hv.transpose().dup('c');
        return scale == 1.0 ? out : out.muli(scale);
    }
}
