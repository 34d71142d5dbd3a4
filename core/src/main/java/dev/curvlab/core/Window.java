package dev.curvlab.core;

import dev.curvlab.core.kernels.WindowKernels;
import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Linear primitives for convolution and pooling, in adjoint pairs. {@code unfold} (im2col, laid
 * out as im2row) copies every window of an image into a row of a patch matrix; {@code fold}
 * (col2im) sums rows back into the image and is unfold's transpose, so each one's VJP is the other. {@code gather} picks elements by a
 * constant flat index (max pooling gathers each window's argmax); {@code scatter_add} is its
 * transpose. All four are linear, so each JVP is the primitive itself applied to the tangent block
 * {@code [K, ...]}: the leading axes of every operand are batch axes, and the rules hold at every
 * order.
 */
final class Window {
    private Window() {
    }

    private static long[] lead(String op, long[] shape, long[] trailing) {
        int r = shape.length - trailing.length;
        if (r < 0 || !Arrays.equals(Arrays.copyOfRange(shape, r, shape.length), trailing)) {
            throw new ShapeException(op + ": operand of shape " + Shapes.str(shape) + " does not end with " + Shapes.str(trailing));
        }
        return Arrays.copyOf(shape, r);
    }

    /** {@code [..., C, H, W] -> [..., OH OW, C kh kw]}. VJP: fold; JVP: unfold the block. */
    static final class Unfold extends Primitive {
        private final ConvGeometry g;

        Unfold(ConvGeometry g) {
            super("unfold");
            this.g = g;
        }

        @Override
        protected long[] outputShape(long[][] shapes) {
            return Shapes.concat(lead("unfold (" + g.describe() + ")", shapes[0], g.imageShape()), g.patchesShape());
        }

        @Override
        protected INDArray compute(INDArray[] x) {
            return WindowKernels.unfold(x[0], g, outputShape(new long[][] {x[0].shape()}));
        }

        @Override
        protected Tensor vjp(int i, Tensor g0, Tensor[] x, Tensor y) {
            return new Fold(g).bind(g0);
        }

        @Override
        protected Tensor jvp(Tensor[] t, Tensor[] x, Tensor y) {
            return bind(t[0]);
        }
    }

    /** {@code [..., OH OW, C kh kw] -> [..., C, H, W]}, overlaps summed. VJP: unfold; JVP: fold the block. */
    static final class Fold extends Primitive {
        private final ConvGeometry g;

        Fold(ConvGeometry g) {
            super("fold");
            this.g = g;
        }

        @Override
        protected long[] outputShape(long[][] shapes) {
            return Shapes.concat(lead("fold (" + g.describe() + ")", shapes[0], g.patchesShape()), g.imageShape());
        }

        @Override
        protected INDArray compute(INDArray[] x) {
            return WindowKernels.fold(x[0], g, outputShape(new long[][] {x[0].shape()}));
        }

        @Override
        protected Tensor vjp(int i, Tensor g0, Tensor[] x, Tensor y) {
            return new Unfold(g).bind(g0);
        }

        @Override
        protected Tensor jvp(Tensor[] t, Tensor[] x, Tensor y) {
            return bind(t[0]);
        }
    }

    /**
     * {@code y[..., k] = x[..., index[k]]} where x's trailing axes {@code inShape} are addressed by a
     * flat C-order index and y's trailing axes are {@code outShape}. VJP: scatter-add; JVP: gather the block.
     */
    static final class Gather extends Primitive {
        private final int[] index;
        private final long[] inShape;
        private final long[] outShape;

        Gather(int[] index, long[] inShape, long[] outShape) {
            super("gather");
            if (Shapes.length(outShape) != index.length) {
                throw new ShapeException("gather: " + index.length + " indices for an output block " + Shapes.str(outShape));
            }
            this.index = index;
            this.inShape = inShape;
            this.outShape = outShape;
        }

        @Override
        protected long[] outputShape(long[][] shapes) {
            return Shapes.concat(lead("gather", shapes[0], inShape), outShape);
        }

        @Override
        protected INDArray compute(INDArray[] x) {
            return WindowKernels.gather(x[0], index, Shapes.length(inShape), outputShape(new long[][] {x[0].shape()}));
        }

        @Override
        protected Tensor vjp(int i, Tensor g, Tensor[] x, Tensor y) {
            return new ScatterAdd(index, outShape, inShape).bind(g);
        }

        @Override
        protected Tensor jvp(Tensor[] t, Tensor[] x, Tensor y) {
            return bind(t[0]);
        }
    }

    /** {@code y[..., index[k]] += x[..., k]}, zeros elsewhere: gather's transpose. VJP: gather; JVP: scatter the block. */
    static final class ScatterAdd extends Primitive {
        private final int[] index;
        private final long[] inShape;
        private final long[] outShape;

        ScatterAdd(int[] index, long[] inShape, long[] outShape) {
            super("scatter_add");
            if (Shapes.length(inShape) != index.length) {
                throw new ShapeException("scatter_add: " + index.length + " indices for an input block " + Shapes.str(inShape));
            }
            this.index = index;
            this.inShape = inShape;
            this.outShape = outShape;
        }

        @Override
        protected long[] outputShape(long[][] shapes) {
            return Shapes.concat(lead("scatter_add", shapes[0], inShape), outShape);
        }

        @Override
        protected INDArray compute(INDArray[] x) {
            return WindowKernels.scatterAdd(x[0], index, Shapes.length(outShape), outputShape(new long[][] {x[0].shape()}));
        }

        @Override
        protected Tensor vjp(int i, Tensor g, Tensor[] x, Tensor y) {
            return new Gather(index, outShape, inShape).bind(g);
        }

        @Override
        protected Tensor jvp(Tensor[] t, Tensor[] x, Tensor y) {
            return bind(t[0]);
        }
    }
}
