package dev.curvlab.nn.model;

import dev.curvlab.core.ConvGeometry;
import dev.curvlab.core.Ops;
import dev.curvlab.core.ShapeException;
import dev.curvlab.core.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Max or average pooling of images {@code [C, H, W]} over {@code kh x kw} windows with stride
 * {@code [sh, sw]} (no padding; the stride defaults to the kernel); output {@code [C, OH, OW]}, no
 * parameters. Max pooling is a gather of each window's argmax ({@link Ops#maxPool2d}), average pooling
 * a fixed linear map ({@link Ops#avgPool2d}).
 */
public record Pool2d(Mode mode, int[] kernel, int[] stride) implements Layer {
    /** Which pooling: the model file's {@code "maxpool2d"} or {@code "avgpool2d"}. */
    public enum Mode {
        MAX, AVG;

        /** {@code maxpool2d} / {@code avgpool2d}. */
        public String type() {
            return name().toLowerCase(Locale.ROOT) + "pool2d";
        }
    }

    public Pool2d {
        if (mode == null) {
            throw new IllegalArgumentException("pooling needs a mode (MAX or AVG)");
        }
        kernel = Conv2d.pair(mode.type() + " kernel", kernel, 1);
        stride = Conv2d.pair(mode.type() + " stride", stride == null ? kernel : stride, 1);
    }

    @Override
    public String type() {
        return mode.type();
    }

    @Override
    public long[] outputShape(long[] input) {
        Layer.requireImage(type() + " " + describe(), input);
        try {
            ConvGeometry g = new ConvGeometry(input[0], input[1], input[2], kernel[0], kernel[1], stride[0], stride[1], 0, 0);
            return new long[] {input[0], g.outHeight(), g.outWidth()};
        } catch (ShapeException e) {
            throw new IllegalArgumentException(type() + " " + describe() + " on input " + Layer.shape(input) + ": " + e.getMessage(), e);
        }
    }

    @Override
    public List<long[]> parameterShapes() {
        return List.of();
    }

    @Override
    public Tensor apply(Tensor a, List<Tensor> params) {
        return mode == Mode.MAX ? Ops.maxPool2d(a, kernel, stride) : Ops.avgPool2d(a, kernel, stride);
    }

    @Override
    public String toJson() {
        return "{\"type\": \"" + type() + "\", \"kernel\": " + Layer.pair(kernel) + ", \"stride\": " + Layer.pair(stride) + "}";
    }

    /** {@code maxpool2x2}, {@code avgpool3x3s1x1}. */
    @Override
    public String describe() {
        String name = mode.name().toLowerCase(Locale.ROOT) + "pool" + kernel[0] + "x" + kernel[1];
        return stride[0] == kernel[0] && stride[1] == kernel[1] ? name : name + "s" + stride[0] + "x" + stride[1];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Pool2d p && p.mode == mode && Arrays.equals(p.kernel, kernel) && Arrays.equals(p.stride, stride);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * mode.hashCode() + Arrays.hashCode(kernel)) + Arrays.hashCode(stride);
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
