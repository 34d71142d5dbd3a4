package dev.curvlab.core;

/** {@code f(x)} and its directional derivatives from {@link Autodiff#jvp}. */
public final class JvpResult {
    private final Tensor value;
    private final Tensor tangent;

    JvpResult(Tensor value, Tensor tangent) {
        this.value = value;
        this.tangent = tangent;
    }

    /** {@code f(x)}. */
    public Tensor value() {
        return value;
    }

    /** {@code J v} (shape of f's output), or {@code [K, out.shape...]} for a block of K directions. */
    public Tensor tangent() {
        return tangent;
    }
}
