package dev.curvlab.nn.products;

import dev.curvlab.core.kernels.RawAccess;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The base pass of a module chain on a batch of B samples, on Java arrays allocated once: per
 * module l with input {@code a_l} (layout of {@link ChainModule}, k = 1)
 * <pre>
 *   affine:  cols_l = patches(a_l)   z_l = cols_l Wc_l + b_l   a_{l+1} = s_l(z_l)   (s_l', s_l'' kept)
 *   linear:  a_{l+1} = L_l a_l        (max pooling fixes its argmax here)
 *   loss:    dA_L = factor * d loss / d a_L
 *   back:    dz_l = dA_{l+1} s_l'   dA_l = fold(dz_l Wc_l^T)  (affine)   dA_l = L_l^T dA_{l+1}  (linear)
 *            grad Wc_l = cols_l^T dz_l,  grad b_l = sum over rows of dz_l
 * </pre>
 * Activations and their derivatives come from {@link ActivationKernels} (one definition of each
 * formula for both layer engines). The state is cached: loading equal theta, inputs, targets and
 * factor keeps it.
 */
final class ChainState {
    final ModuleChain chain;
    final int batch;
    final double[][] a;
    final double[][] cols;
    final double[][] s1;
    final double[][] s2;
    final double[][] dA;
    final double[][] dz;
    final double[] grad;
    double[] y = new double[0];
    double value;
    private final double[] colsGrad;
    private final Matrix[][] activationBuffers;
    private double[] thetaKey;
    private double[] xKey;
    private double[] yKey;
    private double factor = Double.NaN;
    private boolean forward;
    private boolean second;
    private boolean lossDone;
    private boolean backward;
    private boolean gradient;

    ChainState(ModuleChain chain, int batch) {
        this.chain = chain;
        this.batch = batch;
        int layers = chain.modules.length;
        a = new double[layers + 1][];
        dA = new double[layers + 1][];
        cols = new double[layers][];
        s1 = new double[layers][];
        s2 = new double[layers][];
        dz = new double[layers][];
        activationBuffers = new Matrix[layers][];
        a[0] = new double[batch * chain.inPositions * chain.inChannels];
        dA[0] = new double[a[0].length];
        int widest = 0;
        for (int l = 0; l < layers; l++) {
            ChainModule m = chain.modules[l];
            a[l + 1] = new double[batch * m.outWidth()];
            dA[l + 1] = new double[batch * m.outWidth()];
            if (m instanceof AffineModule am) {
                cols[l] = new double[batch * am.positions * am.patch];
                s1[l] = new double[batch * m.outWidth()];
                s2[l] = new double[batch * m.outWidth()];
                dz[l] = new double[batch * m.outWidth()];
                widest = Math.max(widest, cols[l].length);
            }
        }
        colsGrad = new double[widest];
        grad = new double[chain.parameters];
    }

    /** Loads theta and inputs ({@code [B, C, H, W]} or {@code [B, C H W]}, (C, H, W) order); keeps the passes when equal to the last. */
    void load(INDArray theta, INDArray x) {
        double[] t = values(theta, chain.parameters, "theta");
        double[] xv = values(x, a[0].length, "inputs");
        if (Arrays.equals(t, thetaKey) && Arrays.equals(xv, xKey)) {
            return;
        }
        forward = false;
        lossDone = false;
        thetaKey = t;
        xKey = xv;
        for (ChainModule m : chain.modules) {
            if (m instanceof AffineModule am) {
                am.load(t);
            }
        }
        int s0 = chain.inPositions;
        int c0 = chain.inChannels;
        for (int b = 0; b < batch; b++) {
            for (int c = 0; c < c0; c++) {
                for (int s = 0; s < s0; s++) {
                    a[0][(b * s0 + s) * c0 + c] = xv[(b * c0 + c) * s0 + s];
                }
            }
        }
    }

    /** Loads the prepared targets {@code [B, targetWidth]} and the factor on the summed loss. */
    void loadTargets(INDArray targets, double lossFactor) {
        double[] yv = values(targets, Math.toIntExact(targets.length()), "targets");
        if (lossFactor == factor && Arrays.equals(yv, yKey)) {
            return;
        }
        lossDone = false;
        yKey = yv;
        y = yv;
        factor = lossFactor;
    }

    static double[] values(INDArray v, int length, String what) {
        if (v.length() != length) {
            throw new IllegalArgumentException(what + " have " + v.length() + " elements, expected " + length);
        }
        INDArray c = RawAccess.isWholeDouble(v) && !v.isView() ? v : v.castTo(DataType.DOUBLE).dup('c');
        return RawAccess.readAll(c);
    }

    double factor() {
        return factor;
    }

    /** The network's forward pass; with {@code withSecond} also every {@code s''}. */
    void forward(boolean withSecond) {
        if (forward && (second || !withSecond)) {
            return;
        }
        ChainModule[] ms = chain.modules;
        for (int l = 0; l < ms.length; l++) {
            if (ms[l] instanceof AffineModule am) {
                am.patches(a[l], 0, batch, 1, cols[l]);
                am.linear(cols[l], batch * am.positions, a[l + 1], 0, true);
                activate(l, am, withSecond);
            } else {
                LinearModule lm = (LinearModule) ms[l];
                lm.prepare(a[l], batch);
                lm.map(a[l], 0, a[l + 1], 0, 0, batch, 1);
            }
        }
        forward = true;
        second = withSecond;
        lossDone = false;
        backward = false;
    }

    /** {@code a_{l+1} = s(z)} in place, {@code s'} and {@code s''} (through native buffers: ActivationKernels' formulas). */
    private void activate(int l, AffineModule am, boolean withSecond) {
        double[] z = a[l + 1];
        if (activationBuffers[l] == null) {
            activationBuffers[l] = new Matrix[] {Matrix.zeros(batch, am.outWidth()), Matrix.zeros(batch, am.outWidth()),
                    Matrix.zeros(batch, am.outWidth()), Matrix.zeros(batch, am.outWidth())};
        }
        Matrix[] m = activationBuffers[l];
        m[0].write(z);
        ActivationKernels.apply(am.activation(), m[0], m[1], m[2], withSecond ? m[3] : null);
        m[1].read(z);
        m[2].read(s1[l]);
        if (withSecond) {
            m[3].read(s2[l]);
        }
    }

    /** The loss value and {@code dA_L}; needs {@link #forward} and {@link #loadTargets}. */
    void loss(OutputLoss loss) {
        if (lossDone) {
            return;
        }
        int out = chain.outWidth();
        double[] g = dA[chain.modules.length];
        value = factor * loss.valueAndGradient(a[chain.modules.length], y, batch, out, g);
        for (int i = 0; i < g.length; i++) {
            g[i] *= factor;
        }
        lossDone = true;
        backward = false;
    }

    /** The backward pass: every {@code dz_l} and {@code dA_l}; with {@code withGradient} also {@link #grad}. */
    void backward(boolean withGradient) {
        if (backward && (gradient || !withGradient)) {
            return;
        }
        ChainModule[] ms = chain.modules;
        if (withGradient) {
            Arrays.fill(grad, 0.0);
        }
        for (int l = ms.length - 1; l >= 0; l--) {
            if (ms[l] instanceof AffineModule am) {
                double[] up = dA[l + 1];
                for (int i = 0; i < up.length; i++) {
                    dz[l][i] = up[i] * s1[l][i];
                }
                if (withGradient) {
                    double[] accW = new double[am.patch * am.filters];
                    double[] accB = new double[am.filters];
                    am.gradient(cols[l], 0, dz[l], 0, batch, 1, accW, accB);
                    am.writeRows(accW, accB, null, 1, grad, 0, chain.parameters);
                }
                if (l > 0) {
                    am.patchCotangent(dz[l], 0, batch * am.positions, colsGrad);
                    am.fold(colsGrad, batch, 1, dA[l], 0);
                }
            } else if (l > 0) {
                ((LinearModule) ms[l]).mapTranspose(dA[l + 1], 0, dA[l], 0, 0, batch, 1);
            }
        }
        backward = true;
        gradient = withGradient;
    }

    void close() {
        for (Matrix[] ms : activationBuffers) {
            if (ms != null) {
                for (Matrix m : ms) {
                    m.close();
                }
            }
        }
    }
}
