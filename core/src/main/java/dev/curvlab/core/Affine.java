package dev.curvlab.core;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code y = scale * x + shift} elementwise with constant scalars: negation, scalar multiples and
 * scalar offsets. Linear in x, so both rules apply the scale alone: VJP {@code scale * g}, JVP
 * {@code scale * t} (the identity when scale is 1).
 */
final class Affine extends Primitive {
    private final double scale;
    private final double shift;

    Affine(double scale, double shift) {
        super("affine");
        this.scale = scale;
        this.shift = shift;
    }

    @Override
    protected long[] outputShape(long[][] shapes) {
        return shapes[0];
    }

    @Override
    protected INDArray compute(INDArray[] x) {
        INDArray out = scale == 1.0 ? x[0].dup() : x[0].mul(scale);
        return shift == 0.0 ? out : out.addi(shift);
    }

    @Override
    protected Tensor vjp(int i, Tensor g, Tensor[] x, Tensor y) {
        return scaled(g);
    }

    @Override
    protected Tensor jvp(Tensor[] t, Tensor[] x, Tensor y) {
        return scaled(t[0]);
    }

    private Tensor scaled(Tensor v) {
        return scale == 1.0 ? v : new Affine(scale, 0.0).bind(v);
    }
}
