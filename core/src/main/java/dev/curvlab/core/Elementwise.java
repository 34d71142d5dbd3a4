package dev.curvlab.core;

import dev.curvlab.core.kernels.ElementwiseKernels;
import java.util.function.UnaryOperator;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Unary elementwise primitives, one line each: name, forward kernel, and the derivative
 * {@code dy/dx} written with differentiable ops. The two rules follow from the derivative d:
 * VJP {@code g * d}, JVP {@code t * d} (d broadcast over the tangent axis). Derivatives that are
 * piecewise constant (relu, abs, leaky relu) are constants computed from x's value.
 */
final class Elementwise extends Primitive {
    /** The derivative of the primitive: elementwise dy/dx from the operand x and result y. */
    interface Derivative {
        Tensor of(Tensor x, Tensor y);
    }

    private final UnaryOperator<INDArray> kernel;
    private final Derivative derivative;

    private Elementwise(String name, UnaryOperator<INDArray> kernel, Derivative derivative) {
        super(name);
        this.kernel = kernel;
        this.derivative = derivative;
    }

    // ---------------------------------------------------------------- the table
    static final double TWO_OVER_SQRT_PI = 2.0 / Math.sqrt(Math.PI);

    static final Elementwise EXP = new Elementwise("exp", a -> Transforms.exp(a, true), (x, y) -> y);
    static final Elementwise LOG = new Elementwise("log", a -> Transforms.log(a, true), (x, y) -> x.rdiv(1.0));
    static final Elementwise LOG1P = new Elementwise("log1p", ElementwiseKernels::log1p, (x, y) -> x.add(1.0).rdiv(1.0));
    static final Elementwise SQRT = new Elementwise("sqrt", a -> Transforms.sqrt(a, true), (x, y) -> y.rdiv(0.5));
    static final Elementwise SIN = new Elementwise("sin", a -> Transforms.sin(a, true), (x, y) -> x.cos());
    static final Elementwise COS = new Elementwise("cos", a -> Transforms.cos(a, true), (x, y) -> x.sin().neg());
    static final Elementwise TANH = new Elementwise("tanh", a -> Transforms.tanh(a, true), (x, y) -> y.square().rsub(1.0));
    static final Elementwise SIGMOID = new Elementwise("sigmoid", a -> Transforms.sigmoid(a, true), (x, y) -> y.mul(y.rsub(1.0)));
    static final Elementwise SOFTPLUS = new Elementwise("softplus", ElementwiseKernels::softplus, (x, y) -> x.sigmoid());
    static final Elementwise RELU = new Elementwise("relu", a -> Transforms.relu(a, true),
            (x, y) -> Tensor.of(ElementwiseKernels.step(x.array())));
    static final Elementwise ERF = new Elementwise("erf", Elementwise::erfKernel,
            (x, y) -> x.square().neg().exp().mul(TWO_OVER_SQRT_PI));
    static final Elementwise ABS = new Elementwise("abs", a -> Transforms.abs(a, true),
            (x, y) -> Tensor.of(ElementwiseKernels.sign(x.array())));

    /** {@code x^p}; derivative {@code p x^(p-1)}. */
    static Elementwise pow(double p) {
        return new Elementwise("pow", a -> p == 2.0 ? a.mul(a) : Transforms.pow(a, p, true),
                (x, y) -> p == 2.0 ? x.mul(2.0) : x.pow(p - 1.0).mul(p));   // (Ops.pow never binds p = 1)
    }

    /** {@code c / x}; derivative {@code -c / x^2 = -y / x}. */
    static Elementwise rdiv(double c) {
        return new Elementwise("rdiv", a -> a.rdiv(c), (x, y) -> y.div(x).neg());
    }

    /** {@code x > 0 ? x : alpha x}; derivative {@code x > 0 ? 1 : alpha} (constant). */
    static Elementwise leakyRelu(double alpha) {
        return new Elementwise("leaky_relu", a -> ElementwiseKernels.leakyRelu(a, alpha),
                (x, y) -> Tensor.of(ElementwiseKernels.stepOr(x.array(), alpha)));
    }

    /** {@code x > 0 ? x : alpha (e^x - 1)}; derivative {@code x > 0 ? 1 : y + alpha}. */
    static Elementwise elu(double alpha) {
        return new Elementwise("elu", a -> ElementwiseKernels.elu(a, alpha),
                (x, y) -> Ops.where(ElementwiseKernels.step(x.array()), Ops.onesLike(y), y.add(alpha)));
    }

    private static INDArray erfKernel(INDArray a) {
        return org.nd4j.linalg.factory.Nd4j.exec(new org.nd4j.linalg.api.ops.impl.transforms.strict.Erf(a, a.ulike()));
    }

    // ---------------------------------------------------------------- rules
    @Override
    protected long[] outputShape(long[][] shapes) {
        return shapes[0];
    }

    @Override
    protected INDArray compute(INDArray[] x) {
        return kernel.apply(x[0]);
    }

    @Override
    protected Tensor vjp(int i, Tensor g, Tensor[] x, Tensor y) {
        return g.mul(derivative.of(x[0], y));
    }

    @Override
    protected Tensor jvp(Tensor[] t, Tensor[] x, Tensor y) {
        return t[0].mul(Ops.lift(derivative.of(x[0], y)));
    }
}
