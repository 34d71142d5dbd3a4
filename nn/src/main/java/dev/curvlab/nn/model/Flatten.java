package dev.curvlab.nn.model;

import dev.curvlab.core.Tensor;
import java.util.List;

/** Flattens each sample to a vector in row-major order: {@code [C, H, W] -> [C H W]} in (C, H, W) order. No parameters. */
public record Flatten() implements Layer {
    @Override
    public String type() {
        return "flatten";
    }

    @Override
    public long[] outputShape(long[] input) {
        long n = 1;
        for (long s : input) {
            n *= s;
        }
        return new long[] {n};
    }

    @Override
    public List<long[]> parameterShapes() {
        return List.of();
    }

    @Override
    public Tensor apply(Tensor a, List<Tensor> params) {
        return a.rank() == 2 ? a : a.reshape(a.size(0), -1);
    }

    @Override
    public String toJson() {
        return "{\"type\": \"flatten\"}";
    }

    @Override
    public String describe() {
        return "flatten";
    }
}
