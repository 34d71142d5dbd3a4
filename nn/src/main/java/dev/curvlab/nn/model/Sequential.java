package dev.curvlab.nn.model;

import dev.curvlab.core.ArrayScope;
import dev.curvlab.core.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A sequential network of dense layers as a pure function {@code f(theta, x)} of a flat parameter
 * vector {@code theta: [N]} and inputs {@code x: [n, in]}, returning outputs {@code [n, out]}.
 * Parameters are laid out by {@link #layout()}: per layer {@code W [in, out]} row-major, then
 * {@code b [out]}; layer l computes {@code a_l = s_l(a_{l-1} W_l + b_l)}. Every derivative with
 * respect to theta or x comes from the core engine.
 */
public final class Sequential {
    private final int inputs;
    private final List<Dense> layers;
    private final ParamLayout layout;

    private Sequential(int inputs, List<Dense> layers) {
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("a model needs at least one layer");
        }
        this.inputs = inputs;
        this.layers = Collections.unmodifiableList(new ArrayList<>(layers));
        ParamLayout.Builder b = ParamLayout.builder();
        for (int l = 0; l < layers.size(); l++) {
            Dense d = layers.get(l);
            b.add("layer" + l + ".W", d.in(), d.out()).add("layer" + l + ".b", d.out());
        }
        this.layout = b.build();
    }

    /** Starts a model with {@code inputs} input features. */
    public static Builder builder(int inputs) {
        return new Builder(inputs);
    }

    /**
     * An MLP with the given widths ({@code sizes[0]} inputs, {@code sizes[last]} outputs), activation
     * {@code hidden} on hidden layers and identity on the output layer.
     */
    public static Sequential mlp(int[] sizes, Activation hidden) {
        if (sizes.length < 2) {
            throw new IllegalArgumentException("an MLP needs at least input and output sizes, got " + Arrays.toString(sizes));
        }
        Builder b = builder(sizes[0]);
        for (int i = 1; i < sizes.length; i++) {
            b.dense(sizes[i], i == sizes.length - 1 ? Activation.IDENTITY : hidden);
        }
        return b.build();
    }

    /** Adds layers one at a time. */
    public static final class Builder {
        private final int inputs;
        private final List<Dense> layers = new ArrayList<>();

        private Builder(int inputs) {
            if (inputs < 1) {
                throw new IllegalArgumentException("input size must be positive, got " + inputs);
            }
            this.inputs = inputs;
        }

        public Builder dense(int units, Activation activation) {
            int in = layers.isEmpty() ? inputs : layers.get(layers.size() - 1).out();
            layers.add(new Dense(in, units, activation));
            return this;
        }

        public Builder dense(int units, String activation) {
            return dense(units, Activation.parse(activation));
        }

        public Sequential build() {
            return new Sequential(inputs, layers);
        }
    }

    public int inputSize() {
        return inputs;
    }

    public int outputSize() {
        return layers.get(layers.size() - 1).out();
    }

    public List<Dense> layers() {
        return layers;
    }

    public ParamLayout layout() {
        return layout;
    }

    /** Layer l's weights {@code W [in, out]} in the parameter layout. */
    public ParamLayout.Block weightBlock(int layer) {
        return layout.block(2 * checkLayer(layer));
    }

    /** Layer l's bias {@code b [out]} in the parameter layout. */
    public ParamLayout.Block biasBlock(int layer) {
        return layout.block(2 * checkLayer(layer) + 1);
    }

    /**
     * Where each layer's parameters start in theta, plus N at the end ({@code layers().size() + 1}
     * entries): layer l owns {@code [offsets[l], offsets[l + 1])}, its W then its b.
     */
    public long[] layerOffsets() {
        long[] offsets = new long[layers.size() + 1];
        for (int l = 0; l < layers.size(); l++) {
            offsets[l] = weightBlock(l).offset();
        }
        offsets[layers.size()] = parameterCount();
        return offsets;
    }

    private int checkLayer(int layer) {
        if (layer < 0 || layer >= layers.size()) {
            throw new IndexOutOfBoundsException("layer " + layer + " of model " + describe() + ", which has layers 0.." + (layers.size() - 1));
        }
        return layer;
    }

    /** N, the length of the flat parameter vector. */
    public long parameterCount() {
        return layout.size();
    }

    /** {@code "10-32(tanh)-32(tanh)-1"}. */
    public String describe() {
        return inputs + "-" + layers.stream().map(d -> d.out() + (d.activation() == Activation.IDENTITY ? "" : "(" + d.activation().id() + ")"))
                .collect(Collectors.joining("-"));
    }

    /** Checks a parameter vector and inputs against the architecture; the message says what does not fit. */
    public void validate(long[] thetaShape, long[] xShape) {
        if (thetaShape.length != 1 || thetaShape[0] != parameterCount()) {
            throw new IllegalArgumentException("parameter vector of shape " + Arrays.toString(thetaShape) + " does not fit model "
                    + describe() + ", which has N = " + parameterCount() + " parameters");
        }
        if (xShape.length != 2 || xShape[1] != inputs) {
            throw new IllegalArgumentException("inputs of shape " + Arrays.toString(xShape) + " do not fit model " + describe()
                    + ", which takes [n, " + inputs + "]");
        }
    }

    /** Outputs {@code [n, out]} for parameters {@code theta: [N]} and inputs {@code x: [n, in]} (differentiable in both). */
    public Tensor forward(Tensor theta, Tensor x) {
        validate(theta.shape(), x.shape());
        Tensor a = x;
        for (int l = 0; l < layers.size(); l++) {
            a = layers.get(l).activation().apply(a.matmul(layout.slice(theta, 2 * l)).add(layout.slice(theta, 2 * l + 1)));   // W_l, b_l
        }
        return a;
    }

    /** Concrete outputs for concrete parameters and inputs (intermediates released at once). */
    public INDArray predict(INDArray theta, INDArray x) {
        return ArrayScope.run(() -> forward(Tensor.of(theta), Tensor.of(x))).array();
    }

    /** Seeded initial parameters {@code [N]} float64: weights by {@code init}, biases zero. */
    public INDArray initialParameters(Init init, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[] theta = new double[Math.toIntExact(parameterCount())];
        for (int l = 0; l < layers.size(); l++) {
            Dense d = layers.get(l);
            ParamLayout.Block w = weightBlock(l);
            double a = Math.sqrt(6.0 / (d.in() + d.out()));
            double sd = Math.sqrt(2.0 / d.in());
            for (long k = w.offset(); k < w.end(); k++) {
                theta[(int) k] = init == Init.XAVIER ? (2 * rng.nextDouble() - 1) * a : gaussian(rng) * sd;
            }
        }
        return Nd4j.create(theta, new long[] {theta.length}, DataType.DOUBLE);
    }

    /** Seeded initial parameters with the scheme suited to the hidden activation. */
    public INDArray initialParameters(long seed) {
        return initialParameters(Init.forActivation(layers.get(0).activation()), seed);
    }

    private static double gaussian(SplittableRandom rng) {
        double u = rng.nextDouble();
        double v = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
    }

    @Override
    public String toString() {
        return "Sequential(" + describe() + ", N=" + parameterCount() + ")";
    }
}
