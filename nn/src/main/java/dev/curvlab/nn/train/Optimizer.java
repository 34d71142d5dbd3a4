package dev.curvlab.nn.train;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A first-order optimizer over a flat parameter vector {@code theta: [N]}.
 *
 * <p>{@link #step} updates {@code theta} <b>in place</b> (and returns the same array, for chaining);
 * the gradient is only read. Optimizers keep per-parameter state (momentum buffers, moment
 * estimates, a step counter) sized on the first step; {@link #reset()} discards it so the instance
 * can start a new run. An instance is stateful and not thread-safe: use one per training run.
 *
 * <p>Implementations work on whole vectors with a handful of ND4J operations per step and allocate
 * their buffers once, with the data type of theta (float64 in curvlab).
 */
public interface Optimizer {

    /**
     * One update {@code theta <- theta - (step direction)}, in place.
     *
     * @param theta parameters {@code [N]}, updated in place
     * @param grad gradient of the objective at {@code theta}, same shape; not modified
     * @return {@code theta} (the same instance)
     * @throws IllegalArgumentException if the shapes differ, or differ from those of earlier steps
     *     since the last {@link #reset()}
     */
    INDArray step(INDArray theta, INDArray grad);

    /** Forgets all state (buffers and step count), as if newly constructed. */
    void reset();

    /** Number of steps taken since construction or the last {@link #reset()}. */
    long steps();

    /** The base learning rate. */
    double learningRate();

    /** Checks {@code theta} and {@code grad} against each other and against the state buffer (null before the first step). */
    static void checkShapes(String who, INDArray theta, INDArray grad, INDArray state) {
        if (theta == null || grad == null) {
            throw new IllegalArgumentException(who + ": theta and grad must not be null");
        }
        if (!Arrays.equals(theta.shape(), grad.shape())) {
            throw new IllegalArgumentException(who + ": gradient of shape " + Arrays.toString(grad.shape())
                    + " for parameters of shape " + Arrays.toString(theta.shape()));
        }
        if (state != null && !Arrays.equals(state.shape(), theta.shape())) {
            throw new IllegalArgumentException(who + ": parameters of shape " + Arrays.toString(theta.shape())
                    + " but earlier steps used " + Arrays.toString(state.shape()) + "; call reset() between runs");
        }
    }

    /** Checks a hyperparameter: finite and within {@code [lo, hi)} ({@code hiInclusive}: {@code [lo, hi]}). */
    static double checkRange(String name, double v, double lo, double hi, boolean hiInclusive) {
        boolean ok = Double.isFinite(v) && v >= lo && (hiInclusive ? v <= hi : v < hi);
        if (!ok) {
            throw new IllegalArgumentException(name + " must be in [" + lo + ", " + hi + (hiInclusive ? "]" : ")")
                    + ", got " + v);
        }
        return v;
    }
}
