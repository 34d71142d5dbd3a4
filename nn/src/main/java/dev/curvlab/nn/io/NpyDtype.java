package dev.curvlab.nn.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * A NumPy scalar dtype as found in the {@code descr} field of an {@code .npy} header, restricted
 * to the plain numeric types this package can decode: {@code f4 f8} (float), {@code i1 i2 i4 i8}
 * (signed int), {@code u1 u2 u4 u8} (unsigned int) and {@code b1} (bool), little ({@code <}) or big
 * ({@code >}) endian; {@code |} (not applicable) is accepted for one-byte types only.
 *
 * <p>Package-private: decoding helpers for {@link NpyFile}.
 */
record NpyDtype(String descr, char kind, int size, ByteOrder order) {

    /** Parses a descr string such as {@code "<f8"} or {@code "|b1"}. */
    static NpyDtype parse(String descr, Path file) throws NpyFormatException {
        if (descr.length() < 3) {
            throw unsupported(descr, file);
        }
        char bo = descr.charAt(0);
        char kind = descr.charAt(1);
        int size;
        try {
            size = Integer.parseInt(descr.substring(2));
        } catch (NumberFormatException e) {
            throw unsupported(descr, file);
        }
        boolean known = switch (kind) {
            case 'f' -> size == 4 || size == 8;
            case 'i', 'u' -> size == 1 || size == 2 || size == 4 || size == 8;
            case 'b' -> size == 1;
            default -> false;
        };
        if (!known) {
            throw unsupported(descr, file);
        }
        ByteOrder order = switch (bo) {
            case '<', '=' -> ByteOrder.LITTLE_ENDIAN;
            case '>' -> ByteOrder.BIG_ENDIAN;
            case '|' -> {
                if (size != 1) {
                    throw unsupported(descr, file);
                }
                yield ByteOrder.LITTLE_ENDIAN;
            }
            default -> throw unsupported(descr, file);
        };
        return new NpyDtype(descr, kind, size, order);
    }

    private static NpyFormatException unsupported(String descr, Path file) {
        return new NpyFormatException(file, "unsupported dtype '" + descr
                + "' (supported: <f8 <f4 >f8 >f4, signed/unsigned ints i1..i8/u1..u8 in either"
                + " byte order, |u1, |i1, |b1)");
    }

    /**
     * Decodes {@code n} elements from {@code bb} (positioned at the first element; its byte order
     * is set here) into {@code dst[off .. off+n)}.
     */
    void decode(ByteBuffer bb, double[] dst, int off, int n) {
        bb.order(order);
        switch (kind) {
            case 'f' -> {
                if (size == 8) {
                    bb.asDoubleBuffer().get(dst, off, n);
                } else {
                    var fb = bb.asFloatBuffer();
                    for (int i = 0; i < n; i++) {
                        dst[off + i] = fb.get(i);
                    }
                }
            }
            case 'i' -> {
                switch (size) {
                    case 1 -> { for (int i = 0; i < n; i++) { dst[off + i] = bb.get(i); } }
                    case 2 -> { var b = bb.asShortBuffer(); for (int i = 0; i < n; i++) { dst[off + i] = b.get(i); } }
                    case 4 -> { var b = bb.asIntBuffer(); for (int i = 0; i < n; i++) { dst[off + i] = b.get(i); } }
                    default -> { var b = bb.asLongBuffer(); for (int i = 0; i < n; i++) { dst[off + i] = b.get(i); } }
                }
            }
            case 'u' -> {
                switch (size) {
                    case 1 -> { for (int i = 0; i < n; i++) { dst[off + i] = bb.get(i) & 0xFF; } }
                    case 2 -> { var b = bb.asShortBuffer(); for (int i = 0; i < n; i++) { dst[off + i] = b.get(i) & 0xFFFF; } }
                    case 4 -> { var b = bb.asIntBuffer(); for (int i = 0; i < n; i++) { dst[off + i] = b.get(i) & 0xFFFFFFFFL; } }
                    default -> {
                        var b = bb.asLongBuffer();
                        for (int i = 0; i < n; i++) {
                            dst[off + i] = unsignedToDouble(b.get(i));
                        }
                    }
                }
            }
            default -> { for (int i = 0; i < n; i++) { dst[off + i] = bb.get(i) != 0 ? 1.0 : 0.0; } }
        }
    }

    /** Like {@link #decode(ByteBuffer, double[], int, int)} but into a float array. */
    void decode(ByteBuffer bb, float[] dst, int off, int n, double[] scratch) {
        if (kind == 'f' && size == 4) {
            bb.order(order).asFloatBuffer().get(dst, off, n);
            return;
        }
        decode(bb, scratch, 0, n);
        for (int i = 0; i < n; i++) {
            dst[off + i] = (float) scratch[i];
        }
    }

    private static double unsignedToDouble(long v) {
        if (v >= 0) {
            return v;
        }
        // halve (keeping the low bit for correct rounding), convert, double again
        return (double) ((v >>> 1) | (v & 1)) * 2.0;
    }
}
