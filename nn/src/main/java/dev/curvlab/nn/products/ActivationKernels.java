package dev.curvlab.nn.products;

import dev.curvlab.core.kernels.RawAccess;
import dev.curvlab.core.kernels.TanhKernel;
import dev.curvlab.nn.model.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Erf;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An activation and its first two derivatives over a whole pre-activation matrix z, written into
 * preallocated matrices: {@code h = s(z)}, {@code d1 = s'(z)}, {@code d2 = s''(z)} (d2 may be null
 * when not needed), on Java arrays (the batch pass keeps its activations and derivatives there). The
 * transcendentals are Java ({@link TanhKernel} for tanh, {@code Math.exp} for the others: one ND4J call
 * costs 10-60 us, and ND4J's tanh kernel ~18 ns per element here); erf, which Java lacks, is ND4J's kernel. Formulas (with {@code t = tanh z}, {@code p = sigmoid z}, {@code P, q} the normal cdf and pdf):
 * <pre>
 *   tanh      s' = 1 - t^2              s'' = -2 t (1 - t^2)
 *   sigmoid   s' = p (1 - p)            s'' = p (1 - p)(1 - 2p)
 *   softplus  s' = p                    s'' = p (1 - p)
 *   silu      s' = p + z p (1 - p)      s'' = p (1 - p)(2 + z (1 - 2p))
 *   gelu      s' = P + z q              s'' = q (2 - z^2)
 *   elu       s' = z > 0 ? 1 : e^z      s'' = z > 0 ? 0 : e^z
 *   relu, leaky relu (0.01), identity: s' = step or slope, s'' = 0
 * </pre>
 */
final class ActivationKernels {
    private static final double INV_SQRT2 = 1.0 / Math.sqrt(2.0);
    private static final double INV_SQRT_2PI = 1.0 / Math.sqrt(2 * Math.PI);

    private ActivationKernels() {
    }

    static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    /** The same on matrices (copied to Java arrays and back: for callers outside the batch pass). */
    static void apply(Activation act, Matrix z, Matrix h, Matrix d1, Matrix d2) {
        int len = z.rows * z.cols;
        double[] zs = new double[len];
        double[] hs = new double[len];
        double[] s1 = new double[len];
        double[] s2 = d2 == null ? null : new double[len];
        z.read(zs);
        apply(act, zs, hs, s1, s2, len);
        h.write(hs);
        d1.write(s1);
        if (d2 != null) {
            d2.write(s2);
        }
    }

    /** {@code h = s(z)}, {@code d1 = s'(z)}, {@code d2 = s''(z)} (d2 may be null) over elements {@code [0, len)}. */
    static void apply(Activation act, double[] z, double[] h, double[] d1, double[] d2, int len) {
        switch (act) {
            case TANH -> {
                TanhKernel.tanh(z, h, len);
                for (int i = 0; i < len; i++) {
                    d1[i] = 1 - h[i] * h[i];
                }
                if (d2 != null) {
                    for (int i = 0; i < len; i++) {
                        d2[i] = -2 * h[i] * d1[i];
                    }
                }
            }
            case SIGMOID -> {
                for (int i = 0; i < len; i++) {
                    h[i] = sigmoid(z[i]);
                }
                for (int i = 0; i < len; i++) {
                    d1[i] = h[i] * (1 - h[i]);
                }
                if (d2 != null) {
                    for (int i = 0; i < len; i++) {
                        d2[i] = d1[i] * (1 - 2 * h[i]);
                    }
                }
            }
            case SILU -> {
                for (int i = 0; i < len; i++) {
                    h[i] = sigmoid(z[i]);
                }
                for (int i = 0; i < len; i++) {
                    double x = z[i];
                    double p = h[i];
                    double pq = p * (1 - p);
                    h[i] = x * p;
                    d1[i] = p + x * pq;
                    if (d2 != null) {
                        d2[i] = pq * (2 + x * (1 - 2 * p));
                    }
                }
            }
            case GELU -> {
                for (int i = 0; i < len; i++) {
                    h[i] = z[i] * INV_SQRT2;
                }
                erf(h, len);
                for (int i = 0; i < len; i++) {
                    double x = z[i];
                    double cdf = 0.5 * (h[i] + 1.0);
                    double pdf = Math.exp(-0.5 * x * x) * INV_SQRT_2PI;
                    h[i] = x * cdf;
                    d1[i] = cdf + x * pdf;
                    if (d2 != null) {
                        d2[i] = pdf * (2 - x * x);
                    }
                }
            }
            case SOFTPLUS -> {
                for (int i = 0; i < len; i++) {
                    double x = z[i];
                    double p = 1 / (1 + Math.exp(-x));
                    h[i] = Math.max(x, 0.0) + Math.log1p(Math.exp(-Math.abs(x)));
                    d1[i] = p;
                    if (d2 != null) {
                        d2[i] = p * (1 - p);
                    }
                }
            }
            case ELU -> {
                for (int i = 0; i < len; i++) {
                    double x = z[i];
                    double e = x > 0 ? 0 : Math.exp(x);
                    h[i] = x > 0 ? x : e - 1;
                    d1[i] = x > 0 ? 1 : e;
                    if (d2 != null) {
                        d2[i] = e;
                    }
                }
            }
            case RELU, LEAKY_RELU, IDENTITY -> {
                double slope = act == Activation.RELU ? 0 : act == Activation.LEAKY_RELU ? 0.01 : 1;
                for (int i = 0; i < len; i++) {
                    double x = z[i];
                    double s1 = x > 0 ? 1 : slope;
                    h[i] = x * s1;
                    d1[i] = s1;
                    if (d2 != null) {
                        d2[i] = 0;
                    }
                }
            }
            default -> throw new IllegalArgumentException("no layer kernel for activation " + act);
        }
    }

    /** {@code v = erf(v)} on elements {@code [0, len)}: ND4J's kernel (the generic engine's), through a temporary array. */
    private static void erf(double[] v, int len) {
        try (INDArray t = Nd4j.create(java.util.Arrays.copyOf(v, len), new long[] {len}, DataType.DOUBLE)) {
            Nd4j.exec(new Erf(t, t));
            RawAccess.read(t, 0, v, 0, len);
        }
    }
}
