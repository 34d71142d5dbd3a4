package dev.curvlab.nn.model;

import dev.curvlab.core.ConvGeometry;
import dev.curvlab.core.Ops;
import dev.curvlab.core.ShapeException;
import dev.curvlab.core.Tensor;
import java.util.List;

/**
 * A 2-D convolution {@code a_out = s(conv(a_in, W) + b)} over images {@code [C_in, H, W]} with
 * {@code W: [filters, C_in, kh, kw]} (the PyTorch and DL4J shape) and {@code b: [filters]}, stride
 * {@code [sh, sw]} and zero padding {@code [ph, pw]}; output {@code [filters, OH, OW]}.
 */
public record Conv2d(int inChannels, int filters, int[] kernel, int[] stride, int[] padding, Activation activation) implements Layer {
    public Conv2d {
        kernel = pair("kernel", kernel, 1);
        stride = pair("stride", stride, 1);
        padding = pair("padding", padding, 0);
        if (inChannels < 1 || filters < 1) {
            throw new IllegalArgumentException("conv2d needs positive channels and filters, got " + inChannels + " and " + filters);
        }
        if (activation == null) {
            throw new IllegalArgumentException("conv2d needs an activation (use IDENTITY for none)");
        }
    }

    static int[] pair(String what, int[] v, int min) {
        if (v == null || v.length != 2 || v[0] < min || v[1] < min) {
            throw new IllegalArgumentException(what + " must be two integers >= " + min + ", got " + (v == null ? "none" : java.util.Arrays.toString(v)));
        }
        return v.clone();
    }

    /** The window geometry over a per-sample input {@code [C, H, W]}; errors name the layer and shapes. */
    public ConvGeometry geometry(long[] input) {
        Layer.requireImage("conv2d " + describe(), input);
        if (input[0] != inChannels) {
            throw new IllegalArgumentException("conv2d " + describe() + " takes " + inChannels + " channels, got input " + Layer.shape(input));
        }
        try {
            return new ConvGeometry(input[0], input[1], input[2], kernel[0], kernel[1], stride[0], stride[1], padding[0], padding[1]);
        } catch (ShapeException e) {
            throw new IllegalArgumentException("conv2d " + describe() + " on input " + Layer.shape(input) + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String type() {
        return "conv2d";
    }

    @Override
    public long[] outputShape(long[] input) {
        ConvGeometry g = geometry(input);
        return new long[] {filters, g.outHeight(), g.outWidth()};
    }

    @Override
    public List<long[]> parameterShapes() {
        return List.of(new long[] {filters, inChannels, kernel[0], kernel[1]}, new long[] {filters});
    }

    @Override
    public Tensor apply(Tensor a, List<Tensor> params) {
        return activation.apply(Ops.conv2d(a, params.get(0), params.get(1), stride, padding));
    }

    @Override
    public String toJson() {
        return "{\"type\": \"conv2d\", \"filters\": " + filters + ", \"kernel\": " + Layer.pair(kernel) + ", \"stride\": " + Layer.pair(stride)
                + ", \"padding\": " + Layer.pair(padding) + ", \"activation\": \"" + activation.id() + "\"}";
    }

    @Override
    public String describe() {
        String s = "conv" + filters + "x" + kernel[0] + "x" + kernel[1] + (stride[0] == 1 && stride[1] == 1 ? "" : "s" + stride[0] + "x" + stride[1])
                + (padding[0] == 0 && padding[1] == 0 ? "" : "p" + padding[0] + "x" + padding[1]);
        return s + (activation == Activation.IDENTITY ? "" : "(" + activation.id() + ")");
    }

    @Override
    public long fanIn() {
        return (long) inChannels * kernel[0] * kernel[1];
    }

    @Override
    public long fanOut() {
        return (long) filters * kernel[0] * kernel[1];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Conv2d c && c.inChannels == inChannels && c.filters == filters && java.util.Arrays.equals(c.kernel, kernel)
                && java.util.Arrays.equals(c.stride, stride) && java.util.Arrays.equals(c.padding, padding) && c.activation == activation;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(inChannels, filters, java.util.Arrays.hashCode(kernel), java.util.Arrays.hashCode(stride),
                java.util.Arrays.hashCode(padding), activation);
    }

    @Override
    public int[] kernel() {
        return kernel.clone();
    }

    @Override
    public int[] stride() {
        return stride.clone();
    }

    @Override
    public int[] padding() {
        return padding.clone();
    }
}
