package dev.curvlab.nn.loss;

import dev.curvlab.core.Tensor;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A loss on network outputs {@code f: [n, out]} and targets. {@link #prepare} validates raw targets
 * once (clear errors for wrong shapes, NaN, out-of-range classes) and converts them to the form
 * {@link #evaluate} uses. A loss is one summed per-sample loss ({@link #perSample}), written with
 * differentiable ops, so it can be differentiated with respect to f (and through f, the parameters)
 * to any order; MEAN, SUM and NLL are that sum times {@link #scale}.
 */
public interface Loss {
    /** The name used in model files: {@code mse}, {@code ce}, {@code bce}, {@code gaussian}, {@code poisson}. */
    String name();

    /** Validates targets {@code y} for outputs of width {@code outputs} and returns them prepared for {@link #evaluate}. */
    Tensor prepare(INDArray y, long outputs);

    /**
     * The loss of outputs {@code f: [n, out]} against prepared targets, reduced as asked (rank 0):
     * {@code scale(reduction, n, out) * summed(f, y)}. Every reduction is derived here from the one
     * summed loss; losses do not override this.
     */
    default Tensor evaluate(Tensor f, Tensor preparedTargets, Reduction reduction) {
        double c = scale(reduction, f.size(0), f.size(1));
        Tensor s = summed(f, preparedTargets);
        return c == 1.0 ? s : s.mul(c);
    }

    /** The summed loss {@code sum_s perSample(f, y)[s]} (rank 0); override only for a faster equal form. */
    default Tensor summed(Tensor f, Tensor preparedTargets) {
        return perSample(f, preparedTargets).sum();
    }

    /**
     * The factor c with {@code reduced = c * summed} for n samples of width {@code outputs}: 1 for
     * {@link Reduction#SUM}, {@code 1 / normalizer(n, outputs)} for {@link Reduction#MEAN},
     * {@link #nllPerSum()} for {@link Reduction#NLL}. The one place the reductions are defined (the
     * operators and the structured method use it too).
     */
    default double scale(Reduction reduction, long n, long outputs) {
        return switch (reduction) {
            case SUM -> 1.0;
            case MEAN -> 1.0 / normalizer(n, outputs);
            case NLL -> nllPerSum();
        };
    }

    /**
     * The loss of each sample, {@code [n]}: the per-element terms of a row summed ({@link #summed} is
     * the sum of this vector). The one loss every reduction derives from.
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
