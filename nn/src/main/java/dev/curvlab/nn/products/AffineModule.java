package dev.curvlab.nn.products;

import dev.curvlab.nn.model.Activation;

/**
 * A convolution or a dense layer, {@code z = patches(a) Wc + b}, {@code h = s(z)}: the convolution's
 * patches are im2col rows {@code (b, p, j)} with columns {@code c' = (c, i, jj)} ({@code patch = C kh kw}),
 * a dense layer's patches are its input ({@code P = 1}, {@code patch = in}). {@code Wc: [patch, F]}
 * is the weight as one matrix: a conv weight {@code W [F, C, kh, kw]} transposed, a dense weight
 * {@code W [in, out]} as it is. For the R-operator with directions {@code V = (V_W, V_b)}:
 * <pre>
 *   tangent        Rz = patches(Ra) Wc + patches(a) V_Wc + V_b
 *   cotangent      dA_in = fold(dz Wc^T)                      (fold = col2im, the transpose of im2col)
 *   R-cotangent    RdA_in = fold(Rdz Wc^T + dz V_Wc^T)
 *   R-gradient     R grad Wc = patches(a)^T Rdz + patches(Ra)^T dz,   R grad b = sum over (b, p) of Rdz
 * </pre>
 * Each right-hand side is one {@link ArrayGemm} product over a sample chunk: the directions sit side
 * by side as {@code vt [patch, (j, f)]} and {@code vf [F, (j, c')]}.
 */
final class AffineModule extends ChainModule {
    private final boolean conv;
    private final Activation activation;
    final int offset;
    final int patch;
    final int filters;
    final int positions;
    /** Kernel taps {@code kh kw}: column {@code c'} of a patch is {@code c taps + t}, tap {@code t = i kw + jj}. */
    private final int taps;
    /**
     * The geometry of im2col and col2im, once: {@code windowSource[p taps + t]} is the input position
     * that tap t of output position p reads, or -1 in the padding.
     */
    private final int[] windowSource;
    /** {@code Wc [patch, F]} and its transpose {@code [F, patch]}, and the bias {@code [F]}, of the loaded theta. */
    final double[] wc;
    final double[] wct;
    final double[] bias;

    /** The directions' blocks of this module: {@code vt [patch, k, F]}, {@code vf [F, k, patch]}, {@code vb [k, F]}. */
    record Directions(double[] vt, double[] vf, double[] vb) {
    }

    /** A conv2d layer over {@code [C, H, W]}. */
    static AffineModule conv(int offset, int channels, int height, int width, int filters, int[] kernel, int[] stride, int[] padding,
            Activation act) {
        int oh = (height + 2 * padding[0] - kernel[0]) / stride[0] + 1;
        int ow = (width + 2 * padding[1] - kernel[1]) / stride[1] + 1;
        return new AffineModule(true, offset, height, width, channels, filters, oh, ow, kernel, stride, padding, act);
    }

    /** A dense layer {@code in -> out}. */
    static AffineModule dense(int offset, int in, int out, Activation act) {
        return new AffineModule(false, offset, 1, 1, in, out, 1, 1, new int[] {1, 1}, new int[] {1, 1}, new int[] {0, 0}, act);
    }

    private AffineModule(boolean conv, int offset, int height, int width, int channels, int filters, int oh, int ow, int[] kernel,
            int[] stride, int[] padding, Activation act) {
        super(height * width, channels, oh * ow, filters);
        this.conv = conv;
        this.offset = offset;
        this.activation = act;
        this.taps = kernel[0] * kernel[1];
        this.patch = channels * taps;
        this.windowSource = windowSources(height, width, ow, oh * ow, kernel, stride, padding);
        this.filters = filters;
        this.positions = oh * ow;
        wc = new double[patch * filters];
        wct = new double[patch * filters];
        bias = new double[filters];
    }

    private static int[] windowSources(int height, int width, int ow, int positions, int[] kernel, int[] stride, int[] padding) {
        int kh = kernel[0];
        int kw = kernel[1];
        int[] source = new int[positions * kh * kw];
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < kh; i++) {
                int y = p / ow * stride[0] + i - padding[0];
                for (int jj = 0; jj < kw; jj++) {
                    int x = p % ow * stride[1] + jj - padding[1];
                    boolean inside = y >= 0 && y < height && x >= 0 && x < width;
                    source[(p * kh + i) * kw + jj] = inside ? y * width + x : -1;
                }
            }
        }
        return source;
    }

    @Override
    Activation activation() {
        return activation;
    }

    @Override
    int scratchWidth() {
        return positions * patch;
    }

    /** Parameters: {@code patch F + F}. */
    int parameters() {
        return patch * filters + filters;
    }

    /** Flat index in theta (from {@link #offset}) of {@code Wc[c', f]}: conv W[f, c'] row-major, dense W[c', f] row-major. */
    int index(int c, int f) {
        return conv ? f * patch + c : c * filters + f;
    }

    void load(double[] theta) {
        for (int c = 0; c < patch; c++) {
            for (int f = 0; f < filters; f++) {
                double v = theta[offset + index(c, f)];
                wc[c * filters + f] = v;
                wct[f * patch + c] = v;
            }
        }
        System.arraycopy(theta, offset + patch * filters, bias, 0, filters);
    }

    /** Rows {@code 0..k} of {@code v [k, N]} as this module's direction blocks. */
    Directions directions(double[] v, int n, int k) {
        double[] vt = new double[patch * k * filters];
        double[] vf = new double[filters * k * patch];
        double[] vb = new double[k * filters];
        for (int j = 0; j < k; j++) {
            int row = j * n + offset;
            for (int c = 0; c < patch; c++) {
                for (int f = 0; f < filters; f++) {
                    double x = v[row + index(c, f)];
                    vt[(c * k + j) * filters + f] = x;
                    vf[(f * k + j) * patch + c] = x;
                }
            }
            System.arraycopy(v, row + patch * filters, vb, j * filters, filters);
        }
        return new Directions(vt, vf, vb);
    }

    /** im2col: {@code cols[(b, p, j), c']} from {@code in (b, s, j, c)} (zero outside the image); a dense layer copies its input. */
    void patches(double[] in, int inOff, int nb, int k, double[] cols) {
        if (!conv) {
            System.arraycopy(in, inOff, cols, 0, nb * k * patch);
            return;
        }
        int c0 = inChannels;
        for (int b = 0; b < nb; b++) {
            for (int p = 0; p < positions; p++) {
                for (int j = 0; j < k; j++) {
                    int row = ((b * positions + p) * k + j) * patch;
                    for (int t = 0; t < taps; t++) {
                        int source = windowSource[p * taps + t];
                        int src = inOff + ((b * inPositions + Math.max(source, 0)) * k + j) * c0;
                        for (int c = 0; c < c0; c++) {
                            cols[row + c * taps + t] = source >= 0 ? in[src + c] : 0.0;
                        }
                    }
                }
            }
        }
    }

    /** col2im: {@code gIn (b, s, j, c) = sum of colsGrad over the windows that read it} (overwrites); a dense layer copies. */
    void fold(double[] colsGrad, int nb, int k, double[] gIn, int inOff) {
        if (!conv) {
            System.arraycopy(colsGrad, 0, gIn, inOff, nb * k * patch);
            return;
        }
        int c0 = inChannels;
        java.util.Arrays.fill(gIn, inOff, inOff + nb * inPositions * k * c0, 0.0);
        for (int b = 0; b < nb; b++) {
            for (int p = 0; p < positions; p++) {
                for (int j = 0; j < k; j++) {
                    int row = ((b * positions + p) * k + j) * patch;
                    for (int t = 0; t < taps; t++) {
                        int source = windowSource[p * taps + t];
                        if (source < 0) {
                            continue;
                        }
                        int dst = inOff + ((b * inPositions + source) * k + j) * c0;
                        for (int c = 0; c < c0; c++) {
                            gIn[dst + c] += colsGrad[row + c * taps + t];
                        }
                    }
                }
            }
        }
    }

    /** {@code z[(b, p, j), f] = cols Wc (+ b with bias)} over {@code rows = nb P k} rows. */
    void linear(double[] cols, int rows, double[] z, int zOff, boolean withBias) {
        ArrayGemm.ab(cols, 0, wc, 0, z, zOff, rows, patch, filters, false);
        if (withBias) {
            for (int r = 0; r < rows; r++) {
                int at = zOff + r * filters;
                for (int f = 0; f < filters; f++) {
                    z[at + f] += bias[f];
                }
            }
        }
    }

    /** {@code colsGrad[(b, p, j), c'] = g Wc^T} (overwrites). */
    void patchCotangent(double[] g, int gOff, int rows, double[] colsGrad) {
        ArrayGemm.ab(g, gOff, wct, 0, colsGrad, 0, rows, filters, patch, false);
    }

    /** {@code rz[(b, p), (j, f)] += cols_base[(b, p), c'] vt[c', (j, f)] + vb[j, f]}. */
    void directionTerm(double[] baseCols, int colsOff, int nb, int k, Directions d, double[] rz) {
        int rows = nb * positions;
        ArrayGemm.ab(baseCols, colsOff, d.vt(), 0, rz, 0, rows, patch, k * filters, true);
        int w = k * filters;
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < w; i++) {
                rz[r * w + i] += d.vb()[i];
            }
        }
    }

    /** {@code colsGrad[(b, p), (j, c')] += dz[(b, p), f] vf[f, (j, c')]}: the cotangent's term through the directions. */
    void directionCotangent(double[] dz, int dzOff, int nb, int k, Directions d, double[] colsGrad) {
        ArrayGemm.ab(dz, dzOff, d.vf(), 0, colsGrad, 0, nb * positions, filters, k * patch, true);
    }

    /** {@code accW[c', (j, f)] += cols_base^T g}, {@code accB[(j, f)] += sum over rows of g}, g with k directions per row (b, p). */
    void gradient(double[] baseCols, int colsOff, double[] g, int gOff, int nb, int k, double[] accW, double[] accB) {
        int rows = nb * positions;
        int w = k * filters;
        ArrayGemm.atb(baseCols, colsOff, g, gOff, accW, 0, patch, rows, w, true);
        for (int r = 0; r < rows; r++) {
            int at = gOff + r * w;
            for (int i = 0; i < w; i++) {
                accB[i] += g[at + i];
            }
        }
    }

    /** {@code accCross[f, (j, c')] += dz_base^T colsRa}: the R-gradient's term {@code patches(Ra)^T dz}, transposed. */
    void crossGradient(double[] dz, int dzOff, double[] colsRa, int nb, int k, double[] accCross) {
        ArrayGemm.atb(dz, dzOff, colsRa, 0, accCross, 0, filters, nb * positions, k * patch, true);
    }

    /** Writes {@code accW (+ accCross)} and {@code accB} into rows {@code 0..k} of {@code out [k, N]} from {@code outOff} (this module's columns). */
    void writeRows(double[] accW, double[] accB, double[] accCross, int k, double[] out, int outOff, int n) {
        for (int j = 0; j < k; j++) {
            int row = outOff + j * n + offset;
            for (int c = 0; c < patch; c++) {
                for (int f = 0; f < filters; f++) {
                    double v = accW[(c * k + j) * filters + f];
                    if (accCross != null) {
                        v += accCross[(f * k + j) * patch + c];
                    }
                    out[row + index(c, f)] = v;
                }
            }
            System.arraycopy(accB, j * filters, out, row + patch * filters, filters);
        }
    }
}
