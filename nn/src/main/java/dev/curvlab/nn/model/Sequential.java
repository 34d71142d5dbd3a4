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
 * A sequential network as a pure function {@code f(theta, x)} of a flat parameter vector
 * {@code theta: [N]} and inputs {@code x}, returning outputs {@code [n, out]}. Inputs are vectors
 * {@code [n, in]}, or images {@code [n, C, H, W]} for a model built with an image input (which also
 * accepts them flattened, {@code [n, C H W]} in (C, H, W) order). Modules are {@link Layer}s: dense,
 * conv2d, max/avg pooling, flatten; shapes are checked when the model is built.
 *
 * <p>Parameters are laid out by {@link #layout()}: per module with parameters, in order, its blocks
 * named {@code layer<l>.W} and {@code layer<l>.b} ({@code l} the module index): a dense layer's
 * {@code W [in, out]} row-major then {@code b [out]}; a conv2d layer's {@code W [filters, C_in, kh, kw]}
 * row-major then {@code b [filters]}. A dense layer computes {@code a_l = s_l(a_{l-1} W_l + b_l)}.
 *
 * <p>Code that handles only chains of dense layers (the structured Hessian) asks
 * {@link #isDenseChain()} and uses {@link #layers()}; everything else uses {@link #modules()}.
 */
public final class Sequential {
    private final long[] inputShape;
    private final List<Layer> modules;
    private final List<long[]> shapes;
    private final int[] firstBlock;
    private final ParamLayout layout;

    private Sequential(long[] inputShape, List<Layer> modules) {
        if (modules.isEmpty()) {
            throw new IllegalArgumentException("a model needs at least one layer");
        }
        this.inputShape = inputShape.clone();
        this.modules = Collections.unmodifiableList(new ArrayList<>(modules));
        List<long[]> s = new ArrayList<>();
        long[] cur = inputShape;
        for (int l = 0; l < modules.size(); l++) {
            try {
                cur = modules.get(l).outputShape(cur);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("layer " + l + " (" + modules.get(l).type() + "): " + e.getMessage(), e);
            }
            s.add(cur);
        }
        if (cur.length != 1) {
            throw new IllegalArgumentException("the model's output " + Arrays.toString(cur) + " is not a vector; end with flatten or dense layers");
        }
        this.shapes = Collections.unmodifiableList(s);
        ParamLayout.Builder b = ParamLayout.builder();
        this.firstBlock = new int[modules.size()];
        int block = 0;
        for (int l = 0; l < modules.size(); l++) {
            firstBlock[l] = block;
            List<long[]> ps = modules.get(l).parameterShapes();
            for (int k = 0; k < ps.size(); k++) {
                b.add("layer" + l + (k == 0 ? ".W" : ".b"), ps.get(k));
                block++;
            }
        }
        this.layout = b.build();
    }

    /** Starts a model with {@code inputs} input features. */
    public static Builder builder(int inputs) {
        if (inputs < 1) {
            throw new IllegalArgumentException("input size must be positive, got " + inputs);
        }
        return new Builder(new long[] {inputs});
    }

    /** Starts a model on images {@code [channels, height, width]}. */
    public static Builder imageBuilder(int channels, int height, int width) {
        if (channels < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException("image input [C, H, W] must have positive sizes, got [" + channels + ", " + height + ", "
                    + width + "]");
        }
        return new Builder(new long[] {channels, height, width});
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

    /** Adds layers one at a time; each is checked against the current shape as it is added. */
    public static final class Builder {
        private final long[] input;
        private final List<Layer> modules = new ArrayList<>();
        private long[] shape;

        private Builder(long[] input) {
            this.input = input;
            this.shape = input;
        }

        /** Adds any layer; the message names the layer index and the shapes when it does not fit. */
        public Builder add(Layer layer) {
            try {
                shape = layer.outputShape(shape);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("layer " + modules.size() + " (" + layer.type() + "): " + e.getMessage(), e);
            }
            modules.add(layer);
            return this;
        }

        public Builder dense(int units, Activation activation) {
            if (shape.length != 1) {
                throw new IllegalArgumentException("layer " + modules.size() + " (dense): needs a vector input, got " + Arrays.toString(shape)
                        + "; add a flatten layer before it");
            }
            return add(new Dense(Math.toIntExact(shape[0]), units, activation));
        }

        public Builder dense(int units, String activation) {
            return dense(units, Activation.parse(activation));
        }

        /** A conv2d layer on the current image shape. */
        public Builder conv2d(int filters, int[] kernel, int[] stride, int[] padding, Activation activation) {
            if (shape.length != 3) {
                throw new IllegalArgumentException("layer " + modules.size() + " (conv2d): needs image input [C, H, W], got "
                        + Arrays.toString(shape));
            }
            return add(new Conv2d(Math.toIntExact(shape[0]), filters, kernel, stride == null ? new int[] {1, 1} : stride,
                    padding == null ? new int[] {0, 0} : padding, activation));
        }

        /** Max pooling; a null stride means the kernel. */
        public Builder maxPool2d(int[] kernel, int[] stride) {
            return add(new Pool2d(Pool2d.Mode.MAX, kernel, stride));
        }

        /** Average pooling; a null stride means the kernel. */
        public Builder avgPool2d(int[] kernel, int[] stride) {
            return add(new Pool2d(Pool2d.Mode.AVG, kernel, stride));
        }

        public Builder flatten() {
            return add(new Flatten());
        }

        /** The per-sample shape after the layers added so far. */
        public long[] currentShape() {
            return shape.clone();
        }

        public Sequential build() {
            return new Sequential(input, modules);
        }
    }

    /** Number of input features per sample (for images {@code C H W}). */
    public int inputSize() {
        return Math.toIntExact(Arrays.stream(inputShape).reduce(1, (a, b) -> a * b));
    }

    /** The per-sample input shape: {@code [in]} or {@code [C, H, W]}. */
    public long[] inputShape() {
        return inputShape.clone();
    }

    /** True when the input is an image {@code [C, H, W]}. */
    public boolean hasImageInput() {
        return inputShape.length == 3;
    }

    public int outputSize() {
        return Math.toIntExact(shapes.get(shapes.size() - 1)[0]);
    }

    /** All modules in order. */
    public List<Layer> modules() {
        return modules;
    }

    /** Per-sample output shape of module {@code l}. */
    public long[] outputShape(int l) {
        return shapes.get(l).clone();
    }

    /** True for a chain of dense layers on vector input (what the structured methods handle). */
    public boolean isDenseChain() {
        return !hasImageInput() && modules.stream().allMatch(m -> m instanceof Dense);
    }

    /**
     * The dense layers of a pure dense chain.
     *
     * @throws IllegalStateException for any other model (check {@link #isDenseChain()}; use {@link #modules()})
     */
    public List<Dense> layers() {
        if (!isDenseChain()) {
            throw new IllegalStateException("model " + describe() + " is not a chain of dense layers; this operation handles only"
                    + " dense chains (use modules() for the general layer list)");
        }
        return modules.stream().map(m -> (Dense) m).toList();
    }

    public ParamLayout layout() {
        return layout;
    }

    /** Dense layer l's weights {@code W [in, out]} in the parameter layout (dense chains; l indexes {@link #layers()}). */
    public ParamLayout.Block weightBlock(int layer) {
        return layout.block(firstBlock[checkLayer(layer)]);
    }

    /** Dense layer l's bias {@code b [out]} in the parameter layout (dense chains). */
    public ParamLayout.Block biasBlock(int layer) {
        return layout.block(firstBlock[checkLayer(layer)] + 1);
    }

    /**
     * Where each module's parameters start in theta, plus N at the end ({@code modules().size() + 1}
     * entries): module l owns {@code [offsets[l], offsets[l + 1])} (its W then its b; empty for pooling
     * and flatten). For a dense chain the modules are {@link #layers()}.
     */
    public long[] layerOffsets() {
        long[] offsets = new long[modules.size() + 1];
        long at = 0;
        for (int l = 0; l < modules.size(); l++) {
            offsets[l] = at;
            for (long[] shape : modules.get(l).parameterShapes()) {
                at += Arrays.stream(shape).reduce(1, (a, b) -> a * b);
            }
        }
        offsets[modules.size()] = at;
        return offsets;
    }

    private int checkLayer(int layer) {
        List<Dense> dense = layers();
        if (layer < 0 || layer >= dense.size()) {
            throw new IndexOutOfBoundsException("layer " + layer + " of model " + describe() + ", which has layers 0.." + (dense.size() - 1));
        }
        return layer;
    }

    /** The parameter range {@code [start, end)} of module {@code l} in the flat vector. */
    public long[] parameterRange(int l) {
        if (l < 0 || l >= modules.size()) {
            throw new IllegalArgumentException("layer " + l + " is out of range: model " + describe() + " has " + modules.size() + " layers (0.."
                    + (modules.size() - 1) + ")");
        }
        int k = modules.get(l).parameterShapes().size();
        if (k == 0) {
            throw new IllegalArgumentException("layer " + l + " (" + modules.get(l).type() + ") of model " + describe() + " has no parameters");
        }
        return new long[] {layout.block(firstBlock[l]).offset(), layout.block(firstBlock[l] + k - 1).end()};
    }

    /** Features per sample after each module ({@code C H W} for images), in order. */
    public long[] activationSizes() {
        return shapes.stream().mapToLong(s -> Arrays.stream(s).reduce(1, (a, b) -> a * b)).toArray();
    }

    /** N, the length of the flat parameter vector. */
    public long parameterCount() {
        return layout.size();
    }

    /** {@code "10-32(tanh)-32(tanh)-1"}; image models {@code "[1, 8, 8]-conv6x3x3(tanh)-maxpool2x2-flatten-10"}. */
    public String describe() {
        String in = hasImageInput() ? Arrays.toString(inputShape) : String.valueOf(inputShape[0]);
        return in + "-" + modules.stream().map(Layer::describe).collect(Collectors.joining("-"));
    }

    /** Checks a parameter vector and inputs against the architecture; the message says what does not fit. */
    public void validate(long[] thetaShape, long[] xShape) {
        if (thetaShape.length != 1 || thetaShape[0] != parameterCount()) {
            throw new IllegalArgumentException("parameter vector of shape " + Arrays.toString(thetaShape) + " does not fit model "
                    + describe() + ", which has N = " + parameterCount() + " parameters");
        }
        boolean flat = xShape.length == 2 && xShape[1] == inputSize();
        boolean image = hasImageInput() && xShape.length == 4 && Arrays.equals(Arrays.copyOfRange(xShape, 1, 4), inputShape);
        if (!flat && !image) {
            throw new IllegalArgumentException("inputs of shape " + Arrays.toString(xShape) + " do not fit model " + describe()
                    + ", which takes " + expectedInput());
        }
    }

    /** {@code [n, 4]} or {@code [n, 1, 8, 8]} as text. */
    public String expectedInput() {
        StringBuilder sb = new StringBuilder("[n");
        for (long s : inputShape) {
            sb.append(", ").append(s);
        }
        return sb.append(']').toString();
    }

    /** Outputs {@code [n, out]} for parameters {@code theta: [N]} and inputs {@code x} (differentiable in both). */
    public Tensor forward(Tensor theta, Tensor x) {
        validate(theta.shape(), x.shape());
        Tensor a = hasImageInput() && x.rank() == 2 ? x.reshape(x.size(0), inputShape[0], inputShape[1], inputShape[2]) : x;
        for (int l = 0; l < modules.size(); l++) {
            Layer m = modules.get(l);
            int k = m.parameterShapes().size();
            List<Tensor> params = new ArrayList<>(k);
            for (int j = 0; j < k; j++) {
                params.add(layout.slice(theta, firstBlock[l] + j));
            }
            a = m.apply(a, params);
        }
        return a;
    }

    /** Concrete outputs for concrete parameters and inputs (intermediates released at once). */
    public INDArray predict(INDArray theta, INDArray x) {
        return ArrayScope.run(() -> forward(Tensor.of(theta), Tensor.of(x))).array();
    }

    /**
     * Seeded initial parameters {@code [N]} float64: weights by {@code init} (Xavier uniform with
     * {@code sqrt(6 / (fanIn + fanOut))}, He normal with {@code sqrt(2 / fanIn)}), biases zero.
     */
    public INDArray initialParameters(Init init, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[] theta = new double[Math.toIntExact(parameterCount())];
        for (int l = 0; l < modules.size(); l++) {
            Layer m = modules.get(l);
            if (m.parameterShapes().isEmpty()) {
                continue;
            }
            ParamLayout.Block w = layout.block(firstBlock[l]);
            double a = Math.sqrt(6.0 / (m.fanIn() + m.fanOut()));
            double sd = Math.sqrt(2.0 / m.fanIn());
            for (long k = w.offset(); k < w.end(); k++) {
                theta[(int) k] = init == Init.XAVIER ? (2 * rng.nextDouble() - 1) * a : gaussian(rng) * sd;
            }
        }
        return Nd4j.create(theta, new long[] {theta.length}, DataType.DOUBLE);
    }

    /** Seeded initial parameters with the scheme suited to the first layer's activation. */
    public INDArray initialParameters(long seed) {
        return initialParameters(Init.forActivation(modules.get(0).activation()), seed);
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
