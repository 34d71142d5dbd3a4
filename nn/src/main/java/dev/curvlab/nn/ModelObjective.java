package dev.curvlab.nn;

import dev.curvlab.core.ArrayScope;
import dev.curvlab.core.Autodiff;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.TensorFunction;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Sequential;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The loss of a model on a data set as a function of the flat parameters:
 * {@code L(theta) = loss(f(theta, X), Y)} reduced as asked. It is a {@link TensorFunction}, so every
 * core transform applies: {@code Autodiff.grad(objective)}, {@code Autodiff.hessian(objective)}.
 * Inputs and targets are validated once, here.
 */
public final class ModelObjective implements TensorFunction {
    private final Sequential model;
    private final Loss loss;
    private final Tensor x;
    private final Tensor y;
    private final Reduction reduction;

    public ModelObjective(Sequential model, Loss loss, INDArray x, INDArray y, Reduction reduction) {
        model.validate(new long[] {model.parameterCount()}, x.shape());
        this.model = model;
        this.loss = loss;
        this.x = Tensor.of(x);
        this.y = loss.prepare(y, model.outputSize());
        if (this.y.size(0) != x.size(0)) {
            throw new IllegalArgumentException("x has " + x.size(0) + " rows but y has " + this.y.size(0));
        }
        this.reduction = reduction;
    }

    public ModelObjective(Sequential model, Loss loss, Dataset data, Reduction reduction) {
        this(model, loss, data.x(), data.y(), reduction);
    }

    @Override
    public Tensor apply(Tensor theta) {
        return loss.evaluate(model.forward(theta, x), y, reduction);
    }

    /** The value at concrete parameters. */
    public double value(INDArray theta) {
        return ArrayScope.run(() -> apply(Tensor.of(theta))).item();
    }

    /** The gradient {@code [N]} at concrete parameters. */
    public INDArray gradient(INDArray theta) {
        return Autodiff.grad(this).apply(Tensor.of(theta)).array();
    }

    public Sequential model() {
        return model;
    }

    public Loss loss() {
        return loss;
    }

    public Reduction reduction() {
        return reduction;
    }

    /** Inputs {@code [n, in]}. */
    public Tensor x() {
        return x;
    }

    /** Targets as prepared by the loss. */
    public Tensor preparedTargets() {
        return y;
    }

    /** Number of samples n. */
    public long samples() {
        return x.size(0);
    }
}
