package dev.curvlab.core;

import static dev.curvlab.core.Arrays2.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.check.Tolerances;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Convolution and pooling against closed forms and a second path: a naive loop over output
 * positions, a 1x1 convolution as a dense layer per pixel, a one-hot kernel as a shift, average
 * pooling of a constant image, fold as unfold's transpose.
 */
class ConvolutionTest {
    private static INDArray rand(long seed, long... shape) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.rand(DataType.DOUBLE, shape).subi(0.5);
    }

    /** y[n, f, oh, ow] by six nested loops straight from the definition. */
    private static INDArray naiveConv(INDArray x, INDArray w, INDArray b, int[] s, int[] p) {
        long n = x.size(0), c = x.size(1), h = x.size(2), wd = x.size(3);
        long f = w.size(0), kh = w.size(2), kw = w.size(3);
        long oh = (h + 2 * p[0] - kh) / s[0] + 1, ow = (wd + 2 * p[1] - kw) / s[1] + 1;
        INDArray y = Nd4j.zeros(DataType.DOUBLE, n, f, oh, ow);
        for (long a = 0; a < n; a++) {
            for (long o = 0; o < f; o++) {
                for (long r = 0; r < oh; r++) {
                    for (long q = 0; q < ow; q++) {
                        double acc = b.getDouble(o);
                        for (long ch = 0; ch < c; ch++) {
                            for (long i = 0; i < kh; i++) {
                                for (long j = 0; j < kw; j++) {
                                    long ih = r * s[0] + i - p[0], iw = q * s[1] + j - p[1];
                                    if (ih >= 0 && ih < h && iw >= 0 && iw < wd) {
                                        acc += w.getDouble(o, ch, i, j) * x.getDouble(a, ch, ih, iw);
                                    }
                                }
                            }
                        }
                        y.putScalar(new long[] {a, o, r, q}, acc);
                    }
                }
            }
        }
        return y;
    }

    @Test
    void im2colConvolutionMatchesTheNaiveLoopForStridesAndPadding() {
        INDArray x = rand(1, 3, 2, 7, 6);
        INDArray w = rand(2, 4, 2, 3, 2);
        INDArray b = rand(3, 4);
        for (int[][] sp : new int[][][] {{{1, 1}, {0, 0}}, {{2, 1}, {1, 0}}, {{2, 3}, {1, 2}}}) {
            Tensor y = Ops.conv2d(Tensor.of(x), Tensor.of(w), Tensor.of(b), sp[0], sp[1]);
            assertClose("conv2d stride " + java.util.Arrays.toString(sp[0]), y, naiveConv(x, w, b, sp[0], sp[1]), Tolerances.EXACT);
        }
    }

    @Test
    void oneByOneConvolutionIsADenseLayerAppliedToEveryPixel() {
        INDArray x = rand(4, 2, 3, 4, 5);
        INDArray w = rand(5, 6, 3, 1, 1);
        INDArray b = rand(6, 6);
        Tensor y = Ops.conv2d(Tensor.of(x), Tensor.of(w), Tensor.of(b), new int[] {1, 1}, new int[] {0, 0});
        // pixels as rows [n*H*W, C] times W^T [C, F] + b, back to [n, F, H, W]
        INDArray pixels = x.permute(0, 2, 3, 1).dup('c').reshape(2 * 4 * 5, 3);
        INDArray dense = pixels.mmul(w.reshape(6, 3).transpose()).addRowVector(b);
        INDArray expected = dense.reshape(2, 4, 5, 6).permute(0, 3, 1, 2);
        assertClose("1x1 conv vs dense per pixel", y, expected, Tolerances.CLOSED_FORM);
    }

    @Test
    void aOneHotKernelShiftsTheImage() {
        INDArray x = rand(7, 1, 1, 5, 5);
        INDArray w = Nd4j.zeros(DataType.DOUBLE, 1, 1, 3, 3);
        w.putScalar(new long[] {0, 0, 2, 0}, 1.0);    // reads pixel (r + 1, q - 1) with padding 1
        Tensor y = Ops.conv2d(Tensor.of(x), Tensor.of(w), null, new int[] {1, 1}, new int[] {1, 1});
        for (int r = 0; r < 5; r++) {
            for (int q = 0; q < 5; q++) {
                double expected = r + 1 < 5 && q - 1 >= 0 ? x.getDouble(0, 0, r + 1, q - 1) : 0.0;
                assertEquals(expected, y.array().getDouble(0, 0, r, q), 0.0, "pixel " + r + ", " + q);
            }
        }
    }

    @Test
    void averagePoolingOfAConstantImageIsThatConstant() {
        Tensor x = Tensor.of(Nd4j.valueArrayOf(new long[] {2, 3, 6, 4}, 1.75, DataType.DOUBLE));
        Tensor y = Ops.avgPool2d(x, new int[] {3, 2}, new int[] {3, 2});
        assertEquals(java.util.List.of(2L, 3L, 2L, 2L), java.util.Arrays.stream(y.shape()).boxed().toList());
        assertClose("avgpool of constant", y, Nd4j.valueArrayOf(new long[] {2, 3, 2, 2}, 1.75, DataType.DOUBLE), Tolerances.CLOSED_FORM);
    }

    @Test
    void maxPoolingPicksTheWindowMaximumAndRoutesTheGradientThere() {
        INDArray x = rand(8, 1, 2, 4, 4);
        Tensor y = Ops.maxPool2d(Tensor.of(x), new int[] {2, 2}, new int[] {2, 2});
        for (int c = 0; c < 2; c++) {
            for (int r = 0; r < 2; r++) {
                for (int q = 0; q < 2; q++) {
                    double m = Double.NEGATIVE_INFINITY;
                    for (int i = 0; i < 2; i++) {
                        for (int j = 0; j < 2; j++) {
                            m = Math.max(m, x.getDouble(0, c, 2 * r + i, 2 * q + j));
                        }
                    }
                    assertEquals(m, y.array().getDouble(0, c, r, q), 0.0);
                }
            }
        }
        Tensor grad = Autodiff.grad(v -> Ops.maxPool2d(v, new int[] {2, 2}, new int[] {2, 2}).sum()).apply(Tensor.of(x));
        assertEquals(8.0, grad.array().sumNumber().doubleValue(), 0.0, "one unit of gradient per window");
        assertTrue(grad.array().eq(1.0).castTo(DataType.DOUBLE).mul(x).sumNumber().doubleValue()
                == y.array().sumNumber().doubleValue(), "the gradient marks the maxima");
    }

    @Test
    void foldIsTheTransposeOfUnfold() {
        ConvGeometry g = new ConvGeometry(2, 5, 4, 3, 2, 2, 1, 1, 1);
        INDArray x = rand(9, 3, 2, 5, 4);
        INDArray cols = rand(10, 3, g.positions(), g.patchSize());
        double left = Ops.unfold(Tensor.of(x), g).array().mul(cols).sumNumber().doubleValue();
        double right = x.mul(Ops.fold(Tensor.of(cols), g).array()).sumNumber().doubleValue();
        assertEquals(left, right, Tolerances.EXACT * Math.abs(left), "<unfold x, c> = <x, fold c>");
    }

    @Test
    void badGeometryIsOneClearError() {
        ShapeException e = assertThrows(ShapeException.class, () -> new ConvGeometry(1, 4, 4, 5, 3, 1, 1, 0, 0));
        assertTrue(e.getMessage().contains("larger than the padded input"), e.getMessage());
        assertThrows(ShapeException.class, () -> new ConvGeometry(1, 4, 4, 0, 3, 1, 1, 0, 0));
        assertThrows(ShapeException.class, () -> Ops.conv2d(Tensor.zeros(1, 3, 4, 4), Tensor.zeros(2, 2, 3, 3), null,
                new int[] {1, 1}, new int[] {0, 0}));
    }
}
