package dev.curvlab.core;

/** A function of a point and a direction block, e.g. a Hessian-vector product {@code (x, V) -> H(x) V}. */
@FunctionalInterface
public interface TensorBiFunction {
    Tensor apply(Tensor x, Tensor v);
}
