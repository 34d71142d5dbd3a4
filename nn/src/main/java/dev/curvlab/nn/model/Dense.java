package dev.curvlab.nn.model;

/**
 * A fully connected layer {@code a_out = s(a_in W + b)} with {@code W: [in, out]}, {@code b: [out]}.
 */
public record Dense(int in, int out, Activation activation) {
    public Dense {
        if (in < 1 || out < 1) {
            throw new IllegalArgumentException("dense layer needs positive sizes, got in=" + in + ", out=" + out);
        }
        if (activation == null) {
            throw new IllegalArgumentException("dense layer needs an activation (use IDENTITY for none)");
        }
    }

    /** Number of parameters: {@code in * out + out}. */
    public long parameterCount() {
        return (long) in * out + out;
    }
}
