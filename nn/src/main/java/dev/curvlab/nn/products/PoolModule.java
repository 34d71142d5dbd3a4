package dev.curvlab.nn.products;

/**
 * Max or average pooling over {@code kh x kw} windows (no padding), per channel. Average pooling is
 * the fixed map {@code out[p] = (1 / (kh kw)) sum_{s in window(p)} in[s]}; max pooling is the
 * gather {@code out[p] = in[argmax(p)]} with the argmax fixed by the base input (ties pick the
 * first maximum in row-major window order, as {@code Ops.maxPool2d}), so its derivative is the
 * same gather and its transpose a scatter-add.
 */
final class PoolModule extends LinearModule {
    private final boolean max;
    /** Input positions of each output position's window, {@code [P_out][kh kw]} in row-major window order. */
    private final int[][] windows;
    /** Max pooling: the argmax input position of (sample, output position, channel); null before {@link #prepare}. */
    private int[] argmax = new int[0];

    PoolModule(boolean max, int channels, int height, int width, int kh, int kw, int sh, int sw) {
        super(height * width, channels, ((height - kh) / sh + 1) * ((width - kw) / sw + 1), channels);
        this.max = max;
        int oh = (height - kh) / sh + 1;
        int ow = (width - kw) / sw + 1;
        windows = new int[oh * ow][kh * kw];
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                for (int i = 0; i < kh; i++) {
                    for (int j = 0; j < kw; j++) {
                        windows[y * ow + x][i * kw + j] = (y * sh + i) * width + x * sw + j;
                    }
                }
            }
        }
    }

    @Override
    void prepare(double[] in, int batch) {
        if (!max) {
            return;
        }
        int c0 = inChannels;
        int p0 = outPositions;
        if (argmax.length < batch * p0 * c0) {
            argmax = new int[batch * p0 * c0];
        }
        for (int b = 0; b < batch; b++) {
            int base = b * inPositions * c0;
            for (int p = 0; p < p0; p++) {
                int[] win = windows[p];
                for (int c = 0; c < c0; c++) {
                    int best = win[0];
                    double bestValue = in[base + best * c0 + c];
                    for (int w = 1; w < win.length; w++) {
                        double v = in[base + win[w] * c0 + c];
                        if (v > bestValue) {
                            bestValue = v;
                            best = win[w];
                        }
                    }
                    argmax[(b * p0 + p) * c0 + c] = best;
                }
            }
        }
    }

    @Override
    void map(double[] in, int inOff, double[] out, int outOff, int b0, int nb, int k) {
        int c0 = inChannels;
        int p0 = outPositions;
        double scale = 1.0 / windows[0].length;
        for (int b = 0; b < nb; b++) {
            for (int p = 0; p < p0; p++) {
                for (int j = 0; j < k; j++) {
                    int to = outOff + ((b * p0 + p) * k + j) * c0;
                    for (int c = 0; c < c0; c++) {
                        double v;
                        if (max) {
                            int s = argmax[((b0 + b) * p0 + p) * c0 + c];
                            v = in[inOff + ((b * inPositions + s) * k + j) * c0 + c];
                        } else {
                            v = 0;
                            for (int s : windows[p]) {
                                v += in[inOff + ((b * inPositions + s) * k + j) * c0 + c];
                            }
                            v *= scale;
                        }
                        out[to + c] = v;
                    }
                }
            }
        }
    }

    @Override
    void mapTranspose(double[] gOut, int outOff, double[] gIn, int inOff, int b0, int nb, int k) {
        int c0 = inChannels;
        int p0 = outPositions;
        java.util.Arrays.fill(gIn, inOff, inOff + nb * inPositions * k * c0, 0.0);
        double scale = 1.0 / windows[0].length;
        for (int b = 0; b < nb; b++) {
            for (int p = 0; p < p0; p++) {
                for (int j = 0; j < k; j++) {
                    int from = outOff + ((b * p0 + p) * k + j) * c0;
                    for (int c = 0; c < c0; c++) {
                        double g = gOut[from + c];
                        if (max) {
                            int s = argmax[((b0 + b) * p0 + p) * c0 + c];
                            gIn[inOff + ((b * inPositions + s) * k + j) * c0 + c] += g;
                        } else {
                            for (int s : windows[p]) {
                                gIn[inOff + ((b * inPositions + s) * k + j) * c0 + c] += g * scale;
                            }
                        }
                    }
                }
            }
        }
    }
}
