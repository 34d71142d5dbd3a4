package dev.curvlab.nn.model;

import dev.curvlab.core.Tensor;
import java.util.List;

/**
 * A fully connected layer {@code a_out = s(a_in W + b)} with {@code W: [in, out]}, {@code b: [out]}.
 */
public record Dense(int in, int out, Activation activation) implements Layer {
    public Dense {
        if (in < 1 || out < 1) {
            throw new IllegalArgumentException("dense layer needs positive sizes, got in=" + in + ", out=" + out);
        }
        if (activation == null) {
            throw new IllegalArgumentException("dense layer needs an activation (use IDENTITY for none)");
        }
    }

    /** Number of parameters: {@code in * out + out}. */
    @Override
    public long parameterCount() {
        return (long) in * out + out;
    }

    @Override
    public String type() {
        return "dense";
    }

    @Override
    public long[] outputShape(long[] input) {
        if (input.length != 1 || input[0] != in) {
            throw new IllegalArgumentException("dense layer " + describe() + " takes [" + in + "], got " + Layer.shape(input)
                    + (input.length == 3 ? " (add a flatten layer before it)" : ""));
        }
        return new long[] {out};
    }

    @Override
    public List<long[]> parameterShapes() {
        return List.of(new long[] {in, out}, new long[] {out});
    }

    @Override
    public Tensor apply(Tensor a, List<Tensor> params) {
        return activation.apply(a.matmul(params.get(0)).add(params.get(1)));
    }

    @Override
    public String toJson() {
        return "{\"type\": \"dense\", \"units\": " + out + ", \"activation\": \"" + activation.id() + "\"}";
    }

    @Override
    public String describe() {
        return out + (activation == Activation.IDENTITY ? "" : "(" + activation.id() + ")");
    }

    @Override
    public long fanIn() {
        return in;
    }

    @Override
    public long fanOut() {
        return out;
    }
}
