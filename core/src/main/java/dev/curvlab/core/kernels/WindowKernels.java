package dev.curvlab.core.kernels;

import dev.curvlab.core.ConvGeometry;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Sliding-window kernels as Java loops over native memory (one pass, no ND4J call per window):
 * unfold (im2row: one row per output position), its adjoint fold, and gather / scatter-add by a
 * flat index. Operands carry any number of leading batch axes; the trailing axes are one image
 * {@code [C, H, W]}, one patch matrix {@code [OH OW, C kh kw]}, or one block of {@code in} /
 * {@code out} elements.
 * float32 operands are computed in float64 and cast back.
 */
public final class WindowKernels {
    private WindowKernels() {
    }

    /** {@code [..., C, H, W] -> [..., OH OW, C kh kw]}: row p holds the window of output position p, ordered (c, i, j). */
    public static INDArray unfold(INDArray x, ConvGeometry g, long[] outShape) {
        INDArray in = float64(x);
        INDArray out = Nd4j.createUninitialized(DataType.DOUBLE, outShape, 'c');
        RawAccess.Elements src = RawAccess.elements(in);
        RawAccess.Elements dst = RawAccess.elements(out);
        long images = in.length() / g.imageSize();
        long oh = g.outHeight();
        long ow = g.outWidth();
        long p = oh * ow;
        for (long b = 0; b < images; b++) {
            long inBase = b * g.imageSize();
            long outBase = b * g.patchSize() * p;
            for (long c = 0; c < g.channels(); c++) {
                for (int i = 0; i < g.kh(); i++) {
                    for (int j = 0; j < g.kw(); j++) {
                        long col = outBase + (c * g.kh() + i) * g.kw() + j;
                        long patch = g.patchSize();
                        for (long y = 0; y < oh; y++) {
                            long ih = y * g.sh() + i - g.ph();
                            boolean rowInside = ih >= 0 && ih < g.height();
                            long pixelRow = inBase + (c * g.height() + ih) * g.width();
                            for (long xq = 0; xq < ow; xq++) {
                                long iw = xq * g.sw() + j - g.pw();
                                double v = rowInside && iw >= 0 && iw < g.width() ? src.get(pixelRow + iw) : 0.0;
                                dst.set(col + (y * ow + xq) * patch, v);
                            }
                        }
                    }
                }
            }
        }
        return like(x, out);
    }

    /** {@code [..., OH OW, C kh kw] -> [..., C, H, W]}, overlapping windows summed (the adjoint of unfold). */
    public static INDArray fold(INDArray cols, ConvGeometry g, long[] outShape) {
        INDArray in = float64(cols);
        INDArray out = Nd4j.zeros(DataType.DOUBLE, outShape);
        RawAccess.Elements src = RawAccess.elements(in);
        RawAccess.Elements dst = RawAccess.elements(out);
        long images = out.length() / g.imageSize();
        long oh = g.outHeight();
        long ow = g.outWidth();
        long p = oh * ow;
        for (long b = 0; b < images; b++) {
            long outBase = b * g.imageSize();
            long inBase = b * g.patchSize() * p;
            for (long c = 0; c < g.channels(); c++) {
                for (int i = 0; i < g.kh(); i++) {
                    for (int j = 0; j < g.kw(); j++) {
                        long col = inBase + (c * g.kh() + i) * g.kw() + j;
                        long patch = g.patchSize();
                        for (long y = 0; y < oh; y++) {
                            long ih = y * g.sh() + i - g.ph();
                            if (ih < 0 || ih >= g.height()) {
                                continue;
                            }
                            long pixelRow = outBase + (c * g.height() + ih) * g.width();
                            for (long xq = 0; xq < ow; xq++) {
                                long iw = xq * g.sw() + j - g.pw();
                                if (iw >= 0 && iw < g.width()) {
                                    dst.add(pixelRow + iw, src.get(col + (y * ow + xq) * patch));
                                }
                            }
                        }
                    }
                }
            }
        }
        return like(cols, out);
    }

    /** {@code y[b, k] = x[b, index[k]]} for each leading batch b; x's trailing block has {@code inSize} elements. */
    public static INDArray gather(INDArray x, int[] index, long inSize, long[] outShape) {
        INDArray in = float64(x);
        INDArray out = Nd4j.createUninitialized(DataType.DOUBLE, outShape, 'c');
        RawAccess.Elements src = RawAccess.elements(in);
        RawAccess.Elements dst = RawAccess.elements(out);
        long batches = in.length() / inSize;
        for (long b = 0; b < batches; b++) {
            long si = b * inSize;
            long so = b * index.length;
            for (int k = 0; k < index.length; k++) {
                dst.set(so + k, src.get(si + index[k]));
            }
        }
        return like(x, out);
    }

    /** {@code y[b, index[k]] += x[b, k]}, zeros elsewhere: the adjoint of {@link #gather}. */
    public static INDArray scatterAdd(INDArray x, int[] index, long outSize, long[] outShape) {
        INDArray in = float64(x);
        INDArray out = Nd4j.zeros(DataType.DOUBLE, outShape);
        RawAccess.Elements src = RawAccess.elements(in);
        RawAccess.Elements dst = RawAccess.elements(out);
        long batches = out.length() / outSize;
        for (long b = 0; b < batches; b++) {
            long si = b * index.length;
            long so = b * outSize;
            for (int k = 0; k < index.length; k++) {
                dst.add(so + index[k], src.get(si + k));
            }
        }
        return like(x, out);
    }

    /**
     * Flat indices (into {@code x}, C order) of the maximum of each {@code kh x kw} window with stride
     * {@code [sh, sw]} (no padding) over x {@code [..., C, H, W]}; the first maximum wins ties.
     */
    public static int[] argmaxWindows(INDArray x, ConvGeometry g) {
        INDArray in = float64(x);
        if (in.length() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("max pooling: input of " + in.length() + " elements is too large");
        }
        RawAccess.Elements src = RawAccess.elements(in);
        long planes = in.length() / (g.height() * g.width());
        long oh = g.outHeight();
        long ow = g.outWidth();
        int[] index = new int[Math.toIntExact(planes * oh * ow)];
        int k = 0;
        for (long pl = 0; pl < planes; pl++) {
            long base = pl * g.height() * g.width();
            for (long y = 0; y < oh; y++) {
                for (long xq = 0; xq < ow; xq++) {
                    long best = base + y * g.sh() * g.width() + xq * g.sw();
                    double bestValue = src.get(best);
                    for (int i = 0; i < g.kh(); i++) {
                        for (int j = 0; j < g.kw(); j++) {
                            long at = base + (y * g.sh() + i) * g.width() + xq * g.sw() + j;
                            double v = src.get(at);
                            if (v > bestValue) {
                                bestValue = v;
                                best = at;
                            }
                        }
                    }
                    index[k++] = (int) best;
                }
            }
        }
        return index;
    }

    private static INDArray float64(INDArray a) {
        if (a.dataType() == DataType.DOUBLE && a.ordering() == 'c' && a.offset() == 0 && !a.isView() && a.data().length() >= a.length()) {
            return a;
        }
        return a.castTo(DataType.DOUBLE).dup('c');
    }

    private static INDArray like(INDArray operand, INDArray result) {
        return operand.dataType() == DataType.DOUBLE ? result : result.castTo(operand.dataType());
    }
}
