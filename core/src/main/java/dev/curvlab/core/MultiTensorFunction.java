package dev.curvlab.core;

/** A function of several tensors; transforms differentiate it with respect to one chosen argument. */
@FunctionalInterface
public interface MultiTensorFunction {
    Tensor apply(Tensor... args);

    /** This function of argument {@code argnum} alone, the others fixed at {@code args}. */
    default TensorFunction of(int argnum, Tensor... args) {
        if (argnum < 0 || argnum >= args.length) {
            throw new IllegalArgumentException("argnum " + argnum + " out of range for " + args.length + " arguments");
        }
        return x -> {
            Tensor[] a = args.clone();
            a[argnum] = x;
            return apply(a);
        };
    }
}
