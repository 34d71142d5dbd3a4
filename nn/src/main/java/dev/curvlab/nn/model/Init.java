package dev.curvlab.nn.model;

/** Weight initialisation schemes (biases start at zero). */
public enum Init {
    /** Glorot/Xavier uniform: {@code W ~ U(-a, a)}, {@code a = sqrt(6 / (in + out))}; for tanh/sigmoid nets. */
    XAVIER,
    /** He/Kaiming normal: {@code W ~ N(0, 2 / in)}; for relu-family nets. */
    HE;

    /** The scheme that suits an activation: He for the relu family, Xavier otherwise. */
    public static Init forActivation(Activation a) {
        return switch (a) {
            case RELU, LEAKY_RELU, ELU, GELU, SILU -> HE;
            default -> XAVIER;
        };
    }
}
