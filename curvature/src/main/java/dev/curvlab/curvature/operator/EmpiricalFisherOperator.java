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
import org.nd4j.linalg.factory.Nd4j;

/**
 * The empirical Fisher {@code F_emp = (1/Z) sum_i g_i g_i^T}: the uncentred second moment of the
 * per-sample gradients {@code g_i = d loss_i / d theta} ({@code loss_i} the sample's summed
 * per-element loss, Z the mean-loss normaliser). It is not the Fisher information (which takes the
 * expectation over the model's predictive distribution, not the observed targets), only an
 * approximation of it that is cheap when per-sample gradients are at hand. Per batch:
 * {@code G = jacrev(per-sample losses)} {@code [n_b, N]} by one block pullback, then
 * {@code V^T G^T G}.
 */
public final class EmpiricalFisherOperator extends CurvatureOperator {
    public EmpiricalFisherOperator(Sequential model, Loss loss, Dataset data, INDArray theta, int batchSize) {
        super(model, loss, data, theta, batchSize, Reduction.SUM);
    }

    @Override
    protected CurvatureKind kind() {
        return CurvatureKind.EMPIRICAL_FISHER;
    }

    @Override
    protected double scale() {
        return meanScale();
    }

    @Override
    protected INDArray layerProduct(LayerProducts engine, ModelObjective batch, INDArray vt) {
        return engine.empiricalFisherProduct(batch, theta, vt);
    }

    @Override
    protected Tensor batchProduct(ModelObjective batch, Tensor theta, Tensor vt) {
        Tensor g = perSampleGradients(batch, theta);   // [n_b, N]
        return vt.matmul(g.transpose()).matmul(g);
    }

    /** Per-sample gradients {@code [n_b, N]} of one batch. */
    public Tensor perSampleGradients(ModelObjective batch, Tensor theta) {
        Tensor x = batch.x();
        Tensor y = batch.preparedTargets();
        long n = x.size(0);
        return Autodiff.vjp(t -> loss.perSample(model.forward(t, x), y), theta)
                .pullbackBlock(Tensor.of(Nd4j.eye(n).castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE)));
    }
}
