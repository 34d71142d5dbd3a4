package dev.curvlab.core;

/** A function of one tensor, written with {@link Ops} / {@link Tensor} operations so it can be differentiated. */
@FunctionalInterface
public interface TensorFunction {
    Tensor apply(Tensor x);
}
