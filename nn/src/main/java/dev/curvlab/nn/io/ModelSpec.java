package dev.curvlab.nn.io;

import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Sequential;
import java.util.Objects;

/**
 * What a model {@code .json} file describes (see {@link ModelFile}): the architecture, the loss it
 * is trained with (if any) and an optional name.
 *
 * <p>Equality compares the architecture (input size and every layer's sizes and activation), the
 * loss and the name, so a spec read back from a file equals the one written even though
 * {@link Sequential} itself has identity equality.
 *
 * @param model the network; never {@code null}
 * @param loss the loss, or {@code null} when the file has no {@code "loss"}
 * @param name a free-form label, or {@code null}
 */
public record ModelSpec(Sequential model, Loss loss, String name) {

    /**
     * @throws IllegalArgumentException if {@code model} is null or the loss does not fit the
     *     output width ({@code gaussian} needs an even width, {@code ce} at least 2)
     */
    public ModelSpec {
        if (model == null) {
            throw new IllegalArgumentException("a model spec needs a model");
        }
        String problem = lossMismatch(model, loss);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
    }

    /** A spec without a name. */
    public ModelSpec(Sequential model, Loss loss) {
        this(model, loss, null);
    }

    /** A spec with neither loss nor name. */
    public ModelSpec(Sequential model) {
        this(model, null, null);
    }

    /** This spec with another name ({@code null} for none). */
    public ModelSpec withName(String newName) {
        return new ModelSpec(model, loss, newName);
    }

    /**
     * Why {@code loss} cannot be used with {@code model}'s output width, or {@code null} if it can
     * (also when {@code loss} is null).
     */
    static String lossMismatch(Sequential model, Loss loss) {
        if (loss == null) {
            return null;
        }
        int out = model.outputSize();
        if (loss == Losses.GAUSSIAN && out % 2 != 0) {
            return "gaussian loss needs an even number of outputs [mean | log variance], but model " + model.describe()
                    + " has " + out;
        }
        if (loss == Losses.CROSS_ENTROPY && out < 2) {
            return "ce loss needs at least 2 outputs (one logit per class), but model " + model.describe() + " has " + out
                    + " (use bce for a single logit)";
        }
        return null;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelSpec s && java.util.Arrays.equals(model.inputShape(), s.model.inputShape())
                && model.modules().equals(s.model.modules())
                && Objects.equals(loss, s.loss) && Objects.equals(name, s.name);
    }

    @Override
    public int hashCode() {
        return Objects.hash(java.util.Arrays.hashCode(model.inputShape()), model.modules(), loss, name);
    }

    @Override
    public String toString() {
        return "ModelSpec(" + (name == null ? "" : name + ": ") + model.describe() + ", N=" + model.parameterCount()
                + ", loss=" + (loss == null ? "none" : loss.name()) + ")";
    }
}
