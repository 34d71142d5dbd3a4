package dev.curvlab.nn.products;

import java.util.Arrays;

/**
 * One worker's workspace for k directions through a chunk of at most {@code maxSamples} samples
 * of a {@link ChainState}: Pearlmutter's R-operator forward and back (as {@link DirectionPass} does
 * for dense chains, here module by module), and the plain backward of k output cotangents (input
 * Jacobians). Per affine module l ({@link AffineModule} gives each term as one product):
 * <pre>
 *   R-forward:   Rz_l = patches(Ra_l) Wc_l + patches(a_l) V_l + V_b     Ra_{l+1} = s_l' Rz_l
 *                (linear modules: Ra_{l+1} = L_l Ra_l; Ra_0 = 0, the inputs do not depend on theta)
 *   output:      RdA_L = factor * H_out Ra_L
 *   R-backward:  Rdz_l = RdA_{l+1} s_l' + [dA_{l+1} s_l'' Rz_l]
 *                R grad_l += patches(a_l)^T Rdz_l + [patches(Ra_l)^T dz_l]
 *                RdA_l = fold(Rdz_l Wc_l^T + [dz_l V_l^T])         (linear: RdA_l = L_l^T RdA_{l+1})
 * </pre>
 * The bracketed terms carry the network's own curvature; the Gauss-Newton product drops them and
 * is then {@code J^T H_out J V}. Gradient blocks accumulate over chunks in {@code accW, accB, accCross}.
 */
final class ChainDirections {
    final int maxSamples;
    /** This worker's own loss kernel (kernels keep scratch arrays: one per thread). */
    private final OutputLoss loss;
    final int k;
    private final double[][] ra;
    private final double[][] rz;
    private final double[][] colsRa;
    private final double[][] rdA;
    private final double[][] rdz;
    private final double[] colsGrad;
    private final double[] rg;
    private final double[] fChunk;
    private double[] yChunk = new double[0];
    final double[][] accW;
    final double[][] accB;
    final double[][] accCross;
    /** Whether module l has an affine module before it (its input cotangent feeds a gradient). */
    private final boolean[] paramsBefore;

    ChainDirections(ModuleChain chain, int maxSamples, int k, OutputLoss loss) {
        this.loss = loss;
        this.maxSamples = maxSamples;
        this.k = k;
        ChainModule[] ms = chain.modules;
        int layers = ms.length;
        ra = new double[layers + 1][];
        rdA = new double[layers + 1][];
        rz = new double[layers][];
        colsRa = new double[layers][];
        rdz = new double[layers][];
        accW = new double[layers][];
        accB = new double[layers][];
        accCross = new double[layers][];
        int rows = maxSamples * k;
        ra[0] = new double[rows * chain.inPositions * chain.inChannels];
        rdA[0] = new double[ra[0].length];
        int widest = 0;
        for (int l = 0; l < layers; l++) {
            ra[l + 1] = new double[rows * ms[l].outWidth()];
            rdA[l + 1] = new double[rows * ms[l].outWidth()];
            if (ms[l] instanceof AffineModule am) {
                rz[l] = new double[rows * am.outWidth()];
                rdz[l] = new double[rows * am.outWidth()];
                colsRa[l] = new double[rows * am.positions * am.patch];
                widest = Math.max(widest, colsRa[l].length);
                accW[l] = new double[am.patch * k * am.filters];
                accB[l] = new double[k * am.filters];
                accCross[l] = new double[am.filters * k * am.patch];
            }
        }
        colsGrad = new double[widest];
        paramsBefore = new boolean[layers];
        for (int l = 1; l < layers; l++) {
            paramsBefore[l] = paramsBefore[l - 1] || ms[l - 1] instanceof AffineModule;
        }
        rg = new double[rows * chain.outWidth()];
        fChunk = new double[maxSamples * chain.outWidth()];
    }

    /** Zeroes the gradient accumulators (before a new block of directions). */
    void clear() {
        for (int l = 0; l < accW.length; l++) {
            if (accW[l] != null) {
                Arrays.fill(accW[l], 0.0);
                Arrays.fill(accB[l], 0.0);
                Arrays.fill(accCross[l], 0.0);
            }
        }
    }

    /**
     * Adds samples {@code b0 .. b0 + nb} of {@code H V} ({@code exact}) or {@code G V} to the
     * accumulators; the state is forward (with s'' and backward for the exact product). A module
     * whose directions are all zero ({@code v[l] == null}, e.g. unit vectors of another layer's
     * parameters, as in the columns of a full Hessian) adds no direction term, and tangents that are
     * zero (before the first module with a direction) are skipped, not computed.
     */
    void curvature(ChainState s, AffineModule.Directions[] v, int b0, int nb, boolean exact) {
        ChainModule[] ms = s.chain.modules;
        int layers = ms.length;
        boolean[] zero = new boolean[layers + 1];
        zero[0] = true;
        for (int l = 0; l < layers; l++) {
            if (ms[l] instanceof AffineModule am) {
                int rows = nb * am.positions * k;
                zero[l + 1] = zero[l] && v[l] == null;
                if (zero[l + 1]) {
                    continue;
                }
                if (zero[l]) {
                    Arrays.fill(rz[l], 0, rows * am.filters, 0.0);
                } else {
                    am.patches(ra[l], 0, nb, k, colsRa[l]);
                    am.linear(colsRa[l], rows, rz[l], 0, false);
                }
                if (v[l] != null) {
                    am.directionTerm(s.cols[l], b0 * am.positions * am.patch, nb, k, v[l], rz[l]);
                }
                scaleRows(s.s1[l], b0 * am.outWidth(), rz[l], ra[l + 1], nb * am.positions, am.filters);
            } else {
                zero[l + 1] = zero[l];
                if (!zero[l]) {
                    ((LinearModule) ms[l]).map(ra[l], 0, ra[l + 1], 0, b0, nb, k);
                }
            }
        }
        outputHessian(s, b0, nb, zero[layers]);
        backward(s, v, b0, nb, exact, zero, false);
    }

    /** {@code rdA_L = factor H_out Ra_L} for the chunk. */
    private void outputHessian(ChainState s, int b0, int nb, boolean zeroTangent) {
        int layers = s.chain.modules.length;
        int out = s.chain.outWidth();
        int len = nb * k * out;
        if (zeroTangent) {
            Arrays.fill(rdA[layers], 0, len, 0.0);
            return;
        }
        System.arraycopy(s.a[layers], b0 * out, fChunk, 0, nb * out);
        int tw = s.y.length / s.batch;
        if (yChunk.length < nb * tw) {
            yChunk = new double[nb * tw];
        }
        System.arraycopy(s.y, b0 * tw, yChunk, 0, nb * tw);
        loss.hessianProduct(fChunk, yChunk, nb, out, k, ra[layers], rg);
        double factor = s.factor();
        for (int i = 0; i < len; i++) {
            rdA[layers][i] = factor * rg[i];
        }
    }

    /**
     * The backward pass of the k cotangents in {@code rdA_L}: with {@code toInput} down to the
     * inputs ({@code rdA_0}, no parameter gradients), else the (R-)gradients into the accumulators.
     */
    private void backward(ChainState s, AffineModule.Directions[] v, int b0, int nb, boolean exact, boolean[] zero, boolean toInput) {
        ChainModule[] ms = s.chain.modules;
        for (int l = ms.length - 1; l >= 0; l--) {
            boolean needInput = toInput || paramsBefore[l];
            if (ms[l] instanceof AffineModule am) {
                int rows = nb * am.positions;
                int f = am.filters;
                int baseOff = b0 * am.outWidth();
                double[] up = rdA[l + 1];
                boolean curvatureTerm = exact && !zero[l + 1];      // Rz_l = 0 where Ra_{l+1} is zero
                for (int r = 0; r < rows; r++) {
                    for (int j = 0; j < k; j++) {
                        int at = (r * k + j) * f;
                        for (int c = 0; c < f; c++) {
                            int bi = baseOff + r * f + c;
                            double val = up[at + c] * s.s1[l][bi];
                            rdz[l][at + c] = curvatureTerm ? val + s.dA[l + 1][bi] * s.s2[l][bi] * rz[l][at + c] : val;
                        }
                    }
                }
                if (!toInput) {
                    am.gradient(s.cols[l], b0 * am.positions * am.patch, rdz[l], 0, nb, k, accW[l], accB[l]);
                    if (exact && !zero[l]) {
                        am.crossGradient(s.dz[l], baseOff, colsRa[l], nb, k, accCross[l]);
                    }
                }
                if ((l > 0 || toInput) && needInput) {
                    am.patchCotangent(rdz[l], 0, rows * k, colsGrad);
                    if (exact && !toInput && v[l] != null) {
                        am.directionCotangent(s.dz[l], baseOff, nb, k, v[l], colsGrad);
                    }
                    am.fold(colsGrad, nb, k, rdA[l], 0);
                }
            } else if ((l > 0 || toInput) && needInput) {
                ((LinearModule) ms[l]).mapTranspose(rdA[l + 1], 0, rdA[l], 0, b0, nb, k);
            }
        }
    }

    /**
     * Input Jacobians of samples {@code b0 .. b0 + nb} into {@code jac [B, out, C H W]} ((C, H, W)
     * order): the k = out unit cotangents at the outputs, pulled back to the inputs.
     */
    void inputJacobian(ChainState s, int b0, int nb, double[] jac) {
        int layers = s.chain.modules.length;
        int out = s.chain.outWidth();
        double[] seed = rdA[layers];
        Arrays.fill(seed, 0, nb * k * out, 0.0);
        for (int b = 0; b < nb; b++) {
            for (int j = 0; j < k; j++) {
                seed[(b * k + j) * out + j] = 1.0;
            }
        }
        backward(s, null, b0, nb, false, new boolean[layers + 1], true);
        int s0 = s.chain.inPositions;
        int c0 = s.chain.inChannels;
        int in = s0 * c0;
        for (int b = 0; b < nb; b++) {
            for (int p = 0; p < s0; p++) {
                for (int j = 0; j < k; j++) {
                    int from = ((b * s0 + p) * k + j) * c0;
                    int to = ((b0 + b) * k + j) * in + p;
                    for (int c = 0; c < c0; c++) {
                        jac[to + c * s0] = rdA[0][from + c];
                    }
                }
            }
        }
    }

    /** {@code target[(r, j), f] = s1[r, f] * rz[(r, j), f]} over {@code rows} rows (r = (b, p)). */
    private void scaleRows(double[] s1, int s1Off, double[] rzl, double[] target, int rows, int f) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < k; j++) {
                int at = (r * k + j) * f;
                for (int c = 0; c < f; c++) {
                    target[at + c] = s1[s1Off + r * f + c] * rzl[at + c];
                }
            }
        }
    }
}
