package dev.curvlab.core.kernels;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.indexer.DoubleRawIndexer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Bulk transfers between a float64 C-order ND4J array and Java arrays by flat element offset: one
 * memcpy per contiguous run, for access patterns ND4J's strided ops handle slowly (on this machine
 * a strided N-d assign costs ~30 ns per element; a run copy moves ~6 GB/s). The array must be a
 * C-order float64 array that starts at its buffer (a whole array, not a view); offsets are in
 * elements from its first element.
 */
public final class RawAccess {
    private RawAccess() {
    }

    private static DoublePointer pointer(INDArray a) {
        if (a.dataType() != DataType.DOUBLE || a.ordering() != 'c' || a.offset() != 0 || a.data().length() < a.length()) {
            throw new IllegalArgumentException("RawAccess needs a C-order float64 array starting at its buffer, got " + a.dataType() + " "
                    + a.ordering() + " at offset " + a.offset());
        }
        return new DoublePointer(a.data().addressPointer());
    }

    /** True for a C-order float64 array that starts at its buffer (what this class accepts). */
    public static boolean isWholeDouble(INDArray a) {
        return a.dataType() == DataType.DOUBLE && a.ordering() == 'c' && a.offset() == 0 && a.data().length() >= a.length()
                && a.elementWiseStride() == 1;
    }

    /** Copies {@code len} elements starting at {@code flat} into {@code dst[off..]}. */
    public static void read(INDArray a, long flat, double[] dst, int off, int len) {
        check(a, flat, len);
        pointer(a).position(flat).get(dst, off, len);
    }

    /** Copies {@code src[off..off+len)} to the elements starting at {@code flat}. */
    public static void write(INDArray a, long flat, double[] src, int off, int len) {
        check(a, flat, len);
        pointer(a).position(flat).put(src, off, len);
    }

    /**
     * Element access to the array's native memory without copies or per-call JNI, for gathers and
     * scatters with irregular patterns (plain loads and stores once JIT-compiled). Valid while the
     * array is alive.
     */
    public static Elements elements(INDArray a) {
        return new Elements(new DoubleRawIndexer(pointer(a).capacity(a.length())), a.length());
    }

    /** Flat element access to a C-order float64 array; see {@link #elements}. */
    public static final class Elements {
        private final DoubleRawIndexer idx;
        private final long length;

        private Elements(DoubleRawIndexer idx, long length) {
            this.idx = idx;
            this.length = length;
        }

        public double get(long flat) {
            return idx.getRaw(flat);
        }

        public void set(long flat, double v) {
            idx.putRaw(flat, v);
        }

        public void add(long flat, double v) {
            idx.putRaw(flat, idx.getRaw(flat) + v);
        }

        public long length() {
            return length;
        }
    }

    /** All elements, C order. */
    public static double[] readAll(INDArray a) {
        double[] out = new double[Math.toIntExact(a.length())];
        read(a, 0, out, 0, out.length);
        return out;
    }

    private static void check(INDArray a, long flat, long len) {
        if (flat < 0 || len < 0 || flat + len > a.length()) {
            throw new IndexOutOfBoundsException("elements [" + flat + ", " + (flat + len) + ") outside an array of " + a.length());
        }
    }

    /**
     * {@code max |A - A^T|} over the square block {@code [r0, r0 + size)^2} of a C-order matrix,
     * compared tile by tile in Java (no matrix-sized temporary).
     */
    public static double asymmetry(INDArray m, long r0, long size) {
        long n = m.size(1);
        int t = (int) Math.min(256, size);
        double[] a = new double[t * t];
        double[] b = new double[t * t];
        double max = 0;
        for (long i = 0; i < size; i += t) {
            int ti = (int) Math.min(t, size - i);
            for (long j = i; j < size; j += t) {
                int tj = (int) Math.min(t, size - j);
                for (int r = 0; r < ti; r++) {
                    read(m, (r0 + i + r) * n + r0 + j, a, r * tj, tj);
                }
                for (int r = 0; r < tj; r++) {
                    read(m, (r0 + j + r) * n + r0 + i, b, r * ti, ti);
                }
                for (int r = 0; r < ti; r++) {
                    for (int c = 0; c < tj; c++) {
                        double d = Math.abs(a[r * tj + c] - b[c * ti + r]);
                        if (d > max || Double.isNaN(d)) {
                            max = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
                        }
                    }
                }
            }
        }
        return max;
    }
}
