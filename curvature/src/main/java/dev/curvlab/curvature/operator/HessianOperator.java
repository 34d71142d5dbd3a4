package dev.curvlab.curvature.operator;

import dev.curvlab.core.Autodiff;
import dev.curvlab.core.Tensor;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Sequential;
import dev.curvlab.nn.products.LayerProducts;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The Hessian of the mean loss, {@code H = d2 L / d theta2} with {@code L = (1/Z) sum_i loss_i}:
 * per batch, {@code H_b V = jvp(grad L_b, theta, V)} (forward-over-reverse, k columns per pass).
 */
public final class HessianOperator extends CurvatureOperator {
    public HessianOperator(Sequential model, Loss loss, Dataset data, INDArray theta, int batchSize) {
        super(model, loss, data, theta, batchSize, Reduction.SUM);
    }

    @Override
    protected CurvatureKind kind() {
        return CurvatureKind.HESSIAN;
    }

    @Override
    protected double scale() {
        return meanScale();
    }

    @Override
    protected INDArray layerProduct(LayerProducts engine, ModelObjective batch, INDArray vt) {
        return engine.hessianProduct(batch, theta, vt);
    }

    @Override
    protected Tensor batchProduct(ModelObjective batch, Tensor theta, Tensor vt) {
        return Autodiff.hvp(batch).apply(theta, vt);
    }
}
