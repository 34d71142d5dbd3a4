package dev.curvlab.nn.model;

import dev.curvlab.core.Autodiff;
import dev.curvlab.core.Ops;
import dev.curvlab.core.Tensor;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Elementwise activation functions, each written with differentiable core ops (so any order of
 * derivative is exact). {@link #derivative} and {@link #secondDerivative} evaluate {@code s'(z)}
 * and {@code s''(z)} by forward-mode differentiation of {@link #apply}, for code that needs them as
 * arrays (the structured Hessian).
 */
public enum Activation {
    /** {@code z}. */
    IDENTITY("identity", true) {
        @Override
        public Tensor apply(Tensor z) {
            return z;
        }
    },
    /** {@code tanh z}. */
    TANH("tanh", false) {
        @Override
        public Tensor apply(Tensor z) {
            return z.tanh();
        }
    },
    /** {@code 1 / (1 + e^-z)}. */
    SIGMOID("sigmoid", false) {
        @Override
        public Tensor apply(Tensor z) {
            return z.sigmoid();
        }
    },
    /** {@code max(z, 0)}. */
    RELU("relu", true) {
        @Override
        public Tensor apply(Tensor z) {
            return z.relu();
        }
    },
    /** {@code z > 0 ? z : 0.01 z} (PyTorch's default slope). */
    LEAKY_RELU("leaky_relu", true) {
        @Override
        public Tensor apply(Tensor z) {
            return Ops.leakyRelu(z, 0.01);
        }
    },
    /** {@code z > 0 ? z : e^z - 1}. */
    ELU("elu", false) {
        @Override
        public Tensor apply(Tensor z) {
            return Ops.elu(z, 1.0);
        }
    },
    /** {@code log(1 + e^z)}. */
    SOFTPLUS("softplus", false) {
        @Override
        public Tensor apply(Tensor z) {
            return z.softplus();
        }
    },
    /** {@code z Phi(z) = z (1 + erf(z / sqrt 2)) / 2}: the exact form (PyTorch's default). */
    GELU("gelu", false) {
        @Override
        public Tensor apply(Tensor z) {
            return z.mul(z.mul(1.0 / Math.sqrt(2.0)).erf().add(1.0)).mul(0.5);
        }
    },
    /** {@code z sigmoid(z)} (also called swish). */
    SILU("silu", false) {
        @Override
        public Tensor apply(Tensor z) {
            return z.mul(z.sigmoid());
        }
    };

    private final String id;
    private final boolean piecewiseLinear;

    Activation(String id, boolean piecewiseLinear) {
        this.id = id;
        this.piecewiseLinear = piecewiseLinear;
    }

    /** Applies the activation elementwise. */
    public abstract Tensor apply(Tensor z);

    /** The name used in model files ({@code "tanh"}, {@code "leaky_relu"}, ...). */
    public String id() {
        return id;
    }

    /** True when {@code s''(z) = 0} almost everywhere (identity, relu, leaky relu). */
    public boolean isPiecewiseLinear() {
        return piecewiseLinear;
    }

    /** {@code s'(z)} elementwise (a concrete array of z's shape). */
    public INDArray derivative(INDArray z) {
        if (this == IDENTITY) {
            return Nd4j.onesLike(z);
        }
        Tensor zt = Tensor.of(z);
        return Autodiff.jvp(this::apply, zt, Tensor.of(Nd4j.onesLike(z))).tangent().array();
    }

    /** {@code s''(z)} elementwise (a concrete array of z's shape). */
    public INDArray secondDerivative(INDArray z) {
        if (piecewiseLinear) {
            return Nd4j.zerosLike(z);
        }
        Tensor ones = Tensor.of(Nd4j.onesLike(z));
        return Autodiff.jvp(w -> Autodiff.jvp(this::apply, w, ones).tangent(), Tensor.of(z), ones).tangent().array();
    }

    /** The activation named {@code name} (case-insensitive; "swish" = silu, "linear" = identity). */
    public static Activation parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        if (n.equals("linear") || n.equals("none")) {
            return IDENTITY;
        }
        if (n.equals("swish")) {
            return SILU;
        }
        if (n.equals("leakyrelu")) {
            return LEAKY_RELU;
        }
        for (Activation a : values()) {
            if (a.id.equals(n)) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown activation '" + name + "'; known: "
                + Arrays.stream(values()).map(Activation::id).collect(Collectors.joining(", ")));
    }
}
