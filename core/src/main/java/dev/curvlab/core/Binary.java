package dev.curvlab.core;

import dev.curvlab.core.kernels.BroadcastKernel;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Broadcasting binary arithmetic on equal-rank operands (Ops pads ranks first). Reverse rules
 * reduce the cotangent back to each operand's shape ({@link Ops#unbroadcast}); forward rules
 * combine operand tangent blocks and broadcast the sum to the result's block shape.
 */
abstract class Binary extends Primitive {
    private Binary(String name) {
        super(name);
    }

    @Override
    protected final long[] outputShape(long[][] shapes) {
        return Shapes.broadcast(name(), shapes[0], shapes[1]);
    }

    // y = a + b:  ga = g,  gb = g;  ty = ta + tb
    static final Binary ADD = new Binary("add") {
        @Override
        protected INDArray compute(INDArray[] x) {
            return BroadcastKernel.apply(BroadcastKernel.Op.ADD, x[0], x[1], Shapes.broadcast("add", x[0].shape(), x[1].shape()));
        }

        @Override
        protected Tensor vjp(int i, Tensor g, Tensor[] x, Tensor y) {
            return Ops.unbroadcast(g, x[i].shapeRef());
        }

        @Override
        protected Tensor jvp(Tensor[] t, Tensor[] x, Tensor y) {
            return Ops.fitTangent(Ops.addOrNull(t[0], t[1]), y);
        }
    };

    // y = a - b:  ga = g,  gb = -g;  ty = ta - tb
    static final Binary SUB = new Binary("sub") {
        @Override
        protected INDArray compute(INDArray[] x) {
            return BroadcastKernel.apply(BroadcastKernel.Op.SUB, x[0], x[1], Shapes.broadcast("sub", x[0].shape(), x[1].shape()));
        }

        @Override
        protected Tensor vjp(int i, Tensor g, Tensor[] x, Tensor y) {
            return Ops.unbroadcast(i == 0 ? g : g.neg(), x[i].shapeRef());
        }

        @Override
        protected Tensor jvp(Tensor[] t, Tensor[] x, Tensor y) {
            Tensor d = t[1] == null ? t[0] : t[0] == null ? t[1].neg() : t[0].sub(t[1]);
            return Ops.fitTangent(d, y);
        }
    };

    // y = a * b:  ga = g b,  gb = g a;  ty = ta b + a tb
    static final Binary MUL = new Binary("mul") {
        @Override
        protected INDArray compute(INDArray[] x) {
            return BroadcastKernel.apply(BroadcastKernel.Op.MUL, x[0], x[1], Shapes.broadcast("mul", x[0].shape(), x[1].shape()));
        }

        @Override
        protected Tensor vjp(int i, Tensor g, Tensor[] x, Tensor y) {
            return Ops.unbroadcast(g.mul(x[1 - i]), x[i].shapeRef());
        }

        @Override
        protected Tensor jvp(Tensor[] t, Tensor[] x, Tensor y) {
            Tensor a = t[0] == null ? null : t[0].mul(Ops.lift(x[1]));
            Tensor b = t[1] == null ? null : Ops.lift(x[0]).mul(t[1]);
            return Ops.fitTangent(Ops.addOrNull(a, b), y);
        }
    };

    // y = a / b:  ga = g / b,  gb = -g y / b;  ty = (ta - tb y) / b
    static final Binary DIV = new Binary("div") {
        @Override
        protected INDArray compute(INDArray[] x) {
            return BroadcastKernel.apply(BroadcastKernel.Op.DIV, x[0], x[1], Shapes.broadcast("div", x[0].shape(), x[1].shape()));
        }

        @Override
        protected Tensor vjp(int i, Tensor g, Tensor[] x, Tensor y) {
            return Ops.unbroadcast(i == 0 ? g.div(x[1]) : g.mul(y).div(x[1]).neg(), x[i].shapeRef());
        }

        @Override
        protected Tensor jvp(Tensor[] t, Tensor[] x, Tensor y) {
            Tensor num = t[1] == null ? t[0] : t[1].mul(Ops.lift(y));
            if (t[1] != null) {
                num = t[0] == null ? num.neg() : t[0].sub(num);
            }
            return Ops.fitTangent(num.div(Ops.lift(x[1])), y);
        }
    };
}
