package dev.curvlab.nn.loss;

import dev.curvlab.core.Tensor;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A loss on network outputs {@code f: [n, out]} and targets. {@link #prepare} validates raw targets
 * once (clear errors for wrong shapes, NaN, out-of-range classes) and converts them to the form
 * {@link #evaluate} uses; evaluate is written with differentiable ops, so it can be differentiated
 * with respect to f (and through f, the parameters) to any order.
 */
public interface Loss {
    /** The name used in model files: {@code mse}, {@code ce}, {@code bce}, {@code gaussian}, {@code poisson}. */
    String name();

    /** Validates targets {@code y} for outputs of width {@code outputs} and returns them prepared for {@link #evaluate}. */
    Tensor prepare(INDArray y, long outputs);

    /** The loss of outputs {@code f: [n, out]} against prepared targets, reduced as asked (rank 0). */
    Tensor evaluate(Tensor f, Tensor preparedTargets, Reduction reduction);

    /**
     * The loss of each sample, {@code [n]}: the per-element terms of a row summed ({@link Reduction#SUM}
     * is the sum of this vector).
     */
    Tensor perSample(Tensor f, Tensor preparedTargets);

    /**
     * The factor c with {@code NLL = c * SUM} (per sample as well): 1 for most losses, 1/2 for mse
     * (whose per-element term {@code (f - y)^2} is twice the unit-variance Gaussian NLL).
     */
    default double nllPerSum() {
        return 1.0;
    }

    /** The divisor that turns {@link Reduction#SUM} into {@link Reduction#MEAN} for n samples of width {@code outputs}. */
    long normalizer(long n, long outputs);

    /**
     * The closed-form gradient and Hessian of {@link #perSample} in the outputs {@code f: [n, out]}
     * (prepared targets), where the loss has them; null otherwise (callers then differentiate
     * perSample). All built-in losses have them.
     */
    default OutputDerivatives outputDerivatives(INDArray f, INDArray preparedTargets) {
        return null;
    }

    /** The number of network outputs this loss needs for targets of the given width (e.g. 2k for a Gaussian with k targets). */
    default long outputsFor(long targetWidth) {
        return targetWidth;
    }
}
