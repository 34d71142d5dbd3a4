package dev.curvlab.curvature.operator;

import dev.curvlab.core.Autodiff;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.VjpResult;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Sequential;
import dev.curvlab.nn.products.LayerProducts;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The generalized Gauss-Newton matrix of the mean loss, {@code G = (1/Z) sum_i J_i^T H_i J_i}, with
 * {@code J_i = d f(x_i) / d theta} the network Jacobian and {@code H_i = d2 loss_i / d f2} the
 * Hessian of the loss in the outputs. Per batch: {@code J V} by forward mode, then {@code H (J V)}
 * by forward-over-reverse on the loss alone, then {@code J^T (H J V)} by a block pullback. Positive
 * semi-definite for convex losses; equal to the Hessian when the network is linear in theta.
 */
public final class GgnOperator extends CurvatureOperator {
    public GgnOperator(Sequential model, Loss loss, Dataset data, INDArray theta, int batchSize) {
        super(model, loss, data, theta, batchSize, Reduction.SUM);
    }

    @Override
    protected CurvatureKind kind() {
        return CurvatureKind.GGN;
    }

    @Override
    protected double scale() {
        return meanScale();
    }

    @Override
    protected INDArray layerProduct(LayerProducts engine, ModelObjective batch, INDArray vt) {
        return engine.ggnProduct(batch, theta, vt);
    }

    @Override
    protected Tensor batchProduct(ModelObjective batch, Tensor theta, Tensor vt) {
        Tensor x = batch.x();
        Tensor y = batch.preparedTargets();
        VjpResult network = Autodiff.vjp(t -> model.forward(t, x), theta);
        Tensor jv = Autodiff.jvp(t -> model.forward(t, x), theta, vt).tangent();                         // [k, n, out]
        Tensor hjv = Autodiff.hvp(f -> loss.evaluate(f, y, Reduction.SUM)).apply(network.value(), jv);   // [k, n, out]
        return network.pullbackBlock(hjv);                                                                // [k, N]
    }
}
