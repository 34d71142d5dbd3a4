package dev.curvlab.nn.products;

import dev.curvlab.core.kernels.RawAccess;
import java.util.Arrays;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The workspace of one batch size B: the forward pass with its cached activations and the backward
 * pass, on buffers allocated once. For layer l ({@code in_l} inputs, {@code out_l} outputs) with
 * parameters {@code [W_l; b_l]} stored as one row-major block {@code Wb_l: [in_l + 1, out_l]} (the
 * flat layout, W rows then b), every per-sample quantity is feature-major, a row per unit and a
 * column per sample (so that {@link DirectionPass}'s products and loops take them as they are):
 * <pre>
 *   a_l = [h_{l-1}; 1]  [in_l + 1, B]     z_l = Wb_l^T a_l         h_l = s_l(z_l)
 *   dA_L = factor * d loss / d h_L        dz_l = dA_l * s_l'(z_l)   dA_{l-1} = W_l dz_l
 *   grad Wb_l = a_l dz_l^T   (weights and bias in one GEMM, straight into the flat gradient)
 * </pre>
 * One GEMM per layer forward, two backward (BLAS, or Java for small ones: {@link Gemm}); activations,
 * their derivatives and the other elementwise work in Java loops over heap arrays, with one bulk copy
 * per GEMM operand (h and the derivatives live on the heap; a, z, dz, dA in native memory for BLAS).
 * The inputs and the network outputs are sample-major where they meet the caller and the loss, and
 * transposed there. The state is cached: loading the same theta, inputs, targets and factor again
 * keeps it, so repeated products at one point (Lanczos, Hutch++) run the base passes once.
 */
final class BatchPass implements AutoCloseable {
    final LayerShapes shapes;
    private final Gemm gemm = new Gemm();
    final int batch;
    final Matrix params;
    final Matrix[] wb;
    final Matrix[] w;
    final Matrix[] a;
    /** The rows of {@link #a} above the bias row, {@code [in_l, B]}: where the inputs and activations are written. */
    private final Matrix[] aValues;
    final Matrix[] z;
    final Matrix[] h;
    final Matrix[] d1;
    final Matrix[] d2;
    final Matrix[] dz;
    final Matrix[] dA;
    final Matrix grad;
    final Matrix[] gradWb;
    /** The network outputs, sample-major {@code [B, out_L]} as the loss takes them. */
    final double[] f;
    /** The prepared targets of the loaded state, as the loss takes them. */
    final double[] y;
    /** {@code factor * d loss / d f}, sample-major {@code [B, out_L]}. */
    final double[] g;
    private final double[] thetaKey;
    private final double[] xKey;
    private final double[] thetaIn;
    private final double[] xIn;
    private final double[] yIn;
    /** Scratch for one layer's {@code [w, B]} block: pre-activations, cotangents, or the transposed inputs. */
    private final double[] scratch;
    private double factor = Double.NaN;
    private boolean forward;
    private boolean secondDerivatives;
    private boolean backward;
    private boolean gradient;
    double value;

    BatchPass(LayerShapes shapes, int batch) {
        this.shapes = shapes;
        this.batch = batch;
        int layers = shapes.layers();
        params = Matrix.zeros(1, shapes.parameters());
        grad = Matrix.vector(shapes.parameters());
        wb = new Matrix[layers];
        w = new Matrix[layers];
        gradWb = new Matrix[layers];
        a = new Matrix[layers];
        aValues = new Matrix[layers];
        z = new Matrix[layers];
        h = new Matrix[layers];
        d1 = new Matrix[layers];
        d2 = new Matrix[layers];
        dz = new Matrix[layers];
        dA = new Matrix[layers];
        for (int l = 0; l < layers; l++) {
            allocateLayer(l);
        }
        int outs = shapes.out(layers - 1);
        f = new double[batch * outs];
        g = new double[batch * outs];
        y = new double[batch * shapes.targetWidth()];
        thetaKey = new double[shapes.parameters()];
        xKey = new double[batch * shapes.in(0)];
        thetaIn = new double[thetaKey.length];
        xIn = new double[xKey.length];
        yIn = new double[y.length];
        int widest = 0;
        for (int l = 0; l < layers; l++) {
            widest = Math.max(widest, Math.max(shapes.in(l) + 1, shapes.out(l)));
        }
        scratch = new double[Math.multiplyExact(batch, widest)];
    }

    private void allocateLayer(int l) {
        int in = shapes.in(l);
        int out = shapes.out(l);
        wb[l] = params.block(shapes.offset(l), in + 1, out);
        w[l] = params.block(shapes.offset(l), in, out);
        gradWb[l] = grad.block(shapes.offset(l), in + 1, out);
        a[l] = Matrix.zeros(in + 1, batch);
        for (int b = 0; b < batch; b++) {
            a[l].set(in * batch + b, 1.0);   // the bias row, never overwritten
        }
        aValues[l] = a[l].block(0, in, batch);
        z[l] = Matrix.zeros(out, batch);
        h[l] = Matrix.onHeap(out, batch);
        d1[l] = Matrix.onHeap(out, batch);
        d2[l] = Matrix.onHeap(out, batch);
        dz[l] = Matrix.zeros(out, batch);
        dA[l] = Matrix.zeros(out, batch);
    }

    /**
     * Loads theta {@code [N]}, inputs {@code [B, in]} and prepared targets; keeps the cached passes
     * when all are equal to the last ones (compared by value, so arrays changed in place are seen).
     */
    void load(INDArray theta, INDArray x, INDArray targets, double lossFactor) {
        readInto(theta, thetaIn, "theta");
        readInto(x, xIn, "inputs");
        readInto(targets, yIn, "targets");
        if (lossFactor == factor && Arrays.equals(thetaIn, thetaKey) && Arrays.equals(xIn, xKey) && Arrays.equals(yIn, y)) {
            return;
        }
        forward = false;
        secondDerivatives = false;
        backward = false;
        gradient = false;
        factor = lossFactor;
        System.arraycopy(thetaIn, 0, thetaKey, 0, thetaIn.length);
        System.arraycopy(xIn, 0, xKey, 0, xIn.length);
        System.arraycopy(yIn, 0, y, 0, yIn.length);
        params.write(thetaKey);
        transpose(xKey, batch, shapes.in(0), scratch);
        aValues[0].write(scratch);
    }

    /** Copies all elements of v (any data type or layout, C order) into dst, whose length it must have. */
    private static void readInto(INDArray v, double[] dst, String what) {
        if (v.length() != dst.length) {
            throw new IllegalArgumentException(what + " have " + v.length() + " elements, expected " + dst.length);
        }
        INDArray c = RawAccess.isWholeDouble(v) && !v.isView() ? v : v.castTo(DataType.DOUBLE).dup('c');
        RawAccess.read(c, 0, dst, 0, dst.length);
    }

    /** {@code to[c, r] = from[r, c]} for a row-major {@code from: [rows, cols]}. */
    private static void transpose(double[] from, int rows, int cols, double[] to) {
        for (int c = 0; c < cols; c++) {
            for (int r = 0; r < rows; r++) {
                to[c * rows + r] = from[r * cols + c];
            }
        }
    }

    /** Forward pass and loss: value, {@code dA_L}; with {@code second} also {@code s''} of every layer. */
    void forward(OutputLoss loss, boolean second) {
        if (forward && (secondDerivatives || !second)) {
            return;
        }
        int layers = shapes.layers();
        for (int l = 0; l < layers; l++) {
            gemm.product(wb[l], true, a[l], false, z[l], 0.0);
            z[l].read(scratch);
            int out = shapes.out(l);
            ActivationKernels.apply(shapes.activation(l), scratch, h[l].heap, d1[l].heap, second ? d2[l].heap : null, batch * out);
            if (l + 1 < layers) {
                aValues[l + 1].write(h[l].heap);
            } else {
                transpose(h[l].heap, out, batch, f);
            }
        }
        int out = shapes.out(layers - 1);
        value = factor * loss.valueAndGradient(f, y, batch, out, g);
        for (int i = 0; i < g.length; i++) {
            g[i] *= factor;
        }
        transpose(g, batch, out, scratch);
        dA[layers - 1].write(scratch);
        forward = true;
        secondDerivatives = second;
    }

    /** Backward pass: {@code dz_l} of every layer; with {@code withGradient} also the gradient (in {@link #grad}). */
    void backward(boolean withGradient) {
        if (backward && (gradient || !withGradient)) {
            return;
        }
        for (int l = shapes.layers() - 1; l >= 0; l--) {
            int len = batch * shapes.out(l);
            dA[l].read(scratch);
            double[] s1 = d1[l].heap;
            for (int i = 0; i < len; i++) {
                scratch[i] *= s1[i];
            }
            dz[l].write(scratch);
            if (withGradient) {
                gemm.product(a[l], false, dz[l], true, gradWb[l], 0.0);
            }
            if (l > 0) {
                gemm.product(w[l], false, dz[l], false, dA[l - 1], 0.0);
            }
        }
        backward = true;
        gradient = withGradient;
    }

    /** A new array {@code [N]} holding the gradient: one allocation and one memcpy (ND4J's dup costs several times more in a cold process). */
    INDArray gradientCopy() {
        INDArray copy = Nd4j.createUninitialized(DataType.DOUBLE, shapes.parameters());
        Pointer.memcpy(new DoublePointer(copy.data().addressPointer()), grad.pointer, 8L * shapes.parameters());
        return copy;
    }

    /** The gradient into {@code into} (a whole float64 array of N elements, checked by the caller): one memcpy. */
    void gradientInto(INDArray into) {
        Pointer.memcpy(new DoublePointer(into.data().addressPointer()), grad.pointer, 8L * shapes.parameters());
    }

    /** The factor on the summed loss of the loaded state. */
    double lossFactor() {
        return factor;
    }

    @Override
    public void close() {
        params.close();
        grad.close();
        for (Matrix[] ms : new Matrix[][] {a, z, h, d1, d2, dz, dA}) {
            for (Matrix m : ms) {
                m.close();
            }
        }
    }
}
