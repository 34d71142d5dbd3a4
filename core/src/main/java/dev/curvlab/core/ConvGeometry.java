package dev.curvlab.core;

/**
 * The geometry of a sliding window over images {@code [C, H, W]}: kernel {@code [kh, kw]}, stride
 * {@code [sh, sw]} and zero padding {@code [ph, pw]} on each side. Output positions:
 * {@code OH = (H + 2 ph - kh) / sh + 1}, {@code OW = (W + 2 pw - kw) / sw + 1} (floor division, as
 * PyTorch and DL4J's Truncate mode). The window of output position {@code (oh, ow)} and kernel
 * offset {@code (i, j)} reads input pixel {@code (oh sh + i - ph, ow sw + j - pw)}, zero outside.
 */
public record ConvGeometry(long channels, long height, long width, int kh, int kw, int sh, int sw, int ph, int pw) {
    /** Validates every size; the message names the sizes that do not fit. */
    public ConvGeometry {
        if (channels < 1 || height < 1 || width < 1) {
            throw new ShapeException("window over [C, H, W] = [" + channels + ", " + height + ", " + width + "]: sizes must be positive");
        }
        if (kh < 1 || kw < 1 || sh < 1 || sw < 1 || ph < 0 || pw < 0) {
            throw new ShapeException("kernel [" + kh + ", " + kw + "] and stride [" + sh + ", " + sw + "] must be positive, padding ["
                    + ph + ", " + pw + "] non-negative");
        }
        if (kh > height + 2L * ph || kw > width + 2L * pw) {
            throw new ShapeException("kernel [" + kh + ", " + kw + "] is larger than the padded input [" + (height + 2L * ph) + ", "
                    + (width + 2L * pw) + "] (input [" + channels + ", " + height + ", " + width + "], padding [" + ph + ", " + pw + "])");
        }
    }

    public long outHeight() {
        return (height + 2L * ph - kh) / sh + 1;
    }

    public long outWidth() {
        return (width + 2L * pw - kw) / sw + 1;
    }

    /** Output positions {@code OH * OW}. */
    public long positions() {
        return outHeight() * outWidth();
    }

    /** Columns of the unfolded (patch) matrix: {@code C kh kw}, ordered (c, i, j) row-major like a weight {@code [F, C, kh, kw]}. */
    public long patchSize() {
        return channels * kh * kw;
    }

    /** Elements of one image, {@code C H W}. */
    public long imageSize() {
        return channels * height * width;
    }

    /** {@code [C, H, W]}. */
    public long[] imageShape() {
        return new long[] {channels, height, width};
    }

    /** {@code [OH OW, C kh kw]}: one row per output position (im2row). */
    public long[] patchesShape() {
        return new long[] {positions(), patchSize()};
    }

    /** {@code [C, H, W]} as text. */
    public String describe() {
        return "kernel [" + kh + ", " + kw + "], stride [" + sh + ", " + sw + "], padding [" + ph + ", " + pw + "] over [" + channels + ", "
                + height + ", " + width + "]";
    }
}
