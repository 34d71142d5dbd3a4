package dev.curvlab.nn.model;

import dev.curvlab.core.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * One module of a {@link Sequential} network, as a pure function of its input activations and its
 * parameter blocks. Shapes are per sample (the batch axis is not included): {@code [d]} for
 * vectors, {@code [C, H, W]} for images.
 */
public sealed interface Layer permits Dense, Conv2d, Pool2d, Flatten {
    /** The model-file type name: dense, conv2d, maxpool2d, avgpool2d, flatten. */
    String type();

    /**
     * The per-sample output shape for a per-sample input shape.
     *
     * @throws IllegalArgumentException naming the layer and both shapes when the input does not fit
     */
    long[] outputShape(long[] input);

    /** Shapes of the parameter blocks in layout order (weights, then bias); empty without parameters. */
    List<long[]> parameterShapes();

    /** Outputs {@code [n, out...]} for inputs {@code a: [n, in...]} and this layer's parameter blocks, shaped as {@link #parameterShapes}. */
    Tensor apply(Tensor a, List<Tensor> params);

    /** This layer as a model-file JSON object, e.g. {@code {"type": "dense", "units": 32, "activation": "tanh"}}. */
    String toJson();

    /** {@code [a, b]}. */
    static String pair(int[] v) {
        return "[" + v[0] + ", " + v[1] + "]";
    }

    /** Short text such as {@code 32(tanh)} or {@code conv6x3x3(tanh)}. */
    String describe();

    /** The activation applied to the output (identity for layers without one). */
    default Activation activation() {
        return Activation.IDENTITY;
    }

    /** Inputs feeding one output unit (for initialisation); 0 without parameters. */
    default long fanIn() {
        return 0;
    }

    /** Outputs one input unit feeds (for initialisation); 0 without parameters. */
    default long fanOut() {
        return 0;
    }

    /** Number of parameters. */
    default long parameterCount() {
        long n = 0;
        for (long[] s : parameterShapes()) {
            n += Arrays.stream(s).reduce(1, (a, b) -> a * b);
        }
        return n;
    }

    /** {@code [2, 3]} style text of a shape. */
    static String shape(long[] s) {
        return Arrays.toString(s);
    }

    /** Checks a per-sample input is an image {@code [C, H, W]}. */
    static void requireImage(String layer, long[] input) {
        if (input.length != 3) {
            throw new IllegalArgumentException(layer + " needs image input [C, H, W], got " + shape(input));
        }
    }
}
