package dev.curvlab.curvature.operator;

import dev.curvlab.core.Autodiff;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.TensorFunction;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Sequential;
import dev.curvlab.nn.products.LayerProducts;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Observed Fisher information {@code I(theta) = -d2 log L / d theta2 = d2 NLL / d theta2}: the
 * Hessian of the negative log-likelihood summed over the data (no averaging), the seed's
 * {@code observed_fisher_info}. At a maximum-likelihood estimate its inverse estimates the
 * covariance of theta. Per batch it is the Hessian of the summed loss, scaled by the loss's
 * {@code NLL = nllPerSum * sum} ({@link dev.curvlab.nn.loss.Loss#scale}: one definition of NLL).
 * For a likelihood that is not a built-in loss, use {@link #of}.
 */
public final class ObservedFisherOperator extends CurvatureOperator {
    public ObservedFisherOperator(Sequential model, Loss loss, Dataset data, INDArray theta, int batchSize) {
        super(model, loss, data, theta, batchSize, Reduction.SUM);
    }

    @Override
    protected CurvatureKind kind() {
        return CurvatureKind.OBSERVED_FISHER;
    }

    @Override
    protected double scale() {
        return loss.scale(Reduction.NLL, samples, model.outputSize());   // NLL = nllPerSum * summed loss
    }

    @Override
    protected INDArray layerProduct(LayerProducts engine, ModelObjective batch, INDArray vt) {
        return engine.hessianProduct(batch, theta, vt);
    }

    @Override
    protected Tensor batchProduct(ModelObjective batch, Tensor theta, Tensor vt) {
        return Autodiff.hvp(batch).apply(theta, vt);
    }

    /** {@code -Hessian(logLikelihood)} at theta for any log-likelihood written with core ops. */
    public static LinearOperator of(TensorFunction logLikelihood, INDArray theta) {
        return new FunctionHessianOperator(logLikelihood, theta, -1.0);
    }
}
