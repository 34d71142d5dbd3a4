package dev.curvlab.curvature.kfac;

import dev.curvlab.core.kernels.RawAccess;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The elementwise step of the backward pass, {@code columns[s, c, :] *= slopes[s, :]} (the activation
 * slope {@code s'(z)} of sample s applied to each of its C columns), in Java over the arrays' native
 * memory and split over the cores by samples. ND4J's rank-3 broadcast multiply ran at ~8 ns per
 * element on this machine, as slow as the GEMMs around it; this loop runs at ~1-2 ns.
 */
final class SlopeScaling {
    /** Below this many elements one thread does it all (forking costs more than it saves). */
    private static final long PARALLEL_ELEMENTS = 1L << 16;

    private SlopeScaling() {
    }

    /** In place: {@code columns [S, C, w]} (C order, whole) times {@code slopes [S, w]} broadcast over C. */
    static INDArray scale(INDArray columns, INDArray slopes) {
        long s = columns.size(0);
        long w = columns.size(2);
        if (slopes.size(0) != s || slopes.size(1) != w || !RawAccess.isWholeDouble(columns)) {
            return columns.muli(slopes.reshape(s, 1, w));
        }
        INDArray sl = RawAccess.isWholeDouble(slopes) ? slopes : slopes.dup('c');
        RawAccess.Elements b = RawAccess.elements(columns);
        RawAccess.Elements d = RawAccess.elements(sl);
        int c = (int) columns.size(1);
        int parts = columns.length() < PARALLEL_ELEMENTS ? 1 : Runtime.getRuntime().availableProcessors();
        IntStream range = IntStream.range(0, parts);
        (parts > 1 ? range.parallel() : range).forEach(p -> scaleSamples(b, d, s * p / parts, s * (p + 1) / parts, c, (int) w));
        if (sl != slopes) {
            Buffers.free(sl);
        }
        return columns;
    }

    private static void scaleSamples(RawAccess.Elements b, RawAccess.Elements d, long from, long to, int c, int w) {
        for (long i = from; i < to; i++) {
            long so = i * w;
            for (int k = 0; k < c; k++) {
                long bo = (i * c + k) * w;
                for (int j = 0; j < w; j++) {
                    b.set(bo + j, b.get(bo + j) * d.get(so + j));
                }
            }
        }
    }
}
