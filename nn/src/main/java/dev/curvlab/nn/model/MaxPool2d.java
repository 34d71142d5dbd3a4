package dev.curvlab.nn.model;

import dev.curvlab.core.ConvGeometry;
import dev.curvlab.core.Ops;
import dev.curvlab.core.ShapeException;
import dev.curvlab.core.Tensor;
import java.util.List;

/**
 * Max pooling of images {@code [C, H, W]} over {@code kh x kw} windows with stride {@code [sh, sw]}
 * (no padding; the stride defaults to the kernel); output {@code [C, OH, OW]}, no parameters.
 */
public record MaxPool2d(int[] kernel, int[] stride) implements Layer {
    public MaxPool2d {
        kernel = Conv2d.pair("maxpool2d kernel", kernel, 1);
        stride = Conv2d.pair("maxpool2d stride", stride == null ? kernel : stride, 1);
    }

    /** Stride equal to the kernel. */
    public MaxPool2d(int[] kernel) {
        this(kernel, null);
    }

    @Override
    public String type() {
        return "maxpool2d";
    }

    @Override
    public long[] outputShape(long[] input) {
        Layer.requireImage("maxpool2d " + describe(), input);
        try {
            ConvGeometry g = new ConvGeometry(input[0], input[1], input[2], kernel[0], kernel[1], stride[0], stride[1], 0, 0);
            return new long[] {input[0], g.outHeight(), g.outWidth()};
        } catch (ShapeException e) {
            throw new IllegalArgumentException("maxpool2d " + describe() + " on input " + Layer.shape(input) + ": " + e.getMessage(), e);
        }
    }

    @Override
    public List<long[]> parameterShapes() {
        return List.of();
    }

    @Override
    public Tensor apply(Tensor a, List<Tensor> params) {
        return Ops.maxPool2d(a, kernel, stride);
    }

    @Override
    public String toJson() {
        return "{\"type\": \"" + type() + "\", \"kernel\": " + Layer.pair(kernel) + ", \"stride\": " + Layer.pair(stride) + "}";
    }

    @Override
    public String describe() {
        return "maxpool" + kernel[0] + "x" + kernel[1] + (stride[0] == kernel[0] && stride[1] == kernel[1] ? "" : "s" + stride[0] + "x" + stride[1]);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MaxPool2d p && java.util.Arrays.equals(p.kernel, kernel) && java.util.Arrays.equals(p.stride, stride);
    }

    @Override
    public int hashCode() {
        return 31 * java.util.Arrays.hashCode(kernel) + java.util.Arrays.hashCode(stride);
    }

    @Override
    public int[] kernel() {
        return kernel.clone();
    }

    @Override
    public int[] stride() {
        return stride.clone();
    }
}
