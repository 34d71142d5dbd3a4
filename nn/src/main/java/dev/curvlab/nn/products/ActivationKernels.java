package dev.curvlab.nn.products;

import dev.curvlab.nn.model.Activation;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Erf;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Sigmoid;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Tanh;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An activation and its first two derivatives over a whole pre-activation matrix z, written into
 * preallocated matrices: {@code h = s(z)}, {@code d1 = s'(z)}, {@code d2 = s''(z)} (d2 may be null
 * when not needed). The transcendental part (tanh, sigmoid, erf) is one ND4J call over the whole
 * matrix (the generic engine's kernel), or for small matrices tanh and sigmoid from {@code Math.exp}
 * in Java; everything else is one Java loop. Formulas (with {@code t = tanh z}, {@code p = sigmoid z}, {@code P, q} the normal cdf and pdf):
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

    /** Matrices of at most this many elements take tanh and sigmoid in Java (below it one ND4J call costs more than the loop). */
    static final int JAVA_MAX_ELEMENTS = 4096;

    private ActivationKernels() {
    }

    /** {@code tanh x = sign(x) (1 - e) / (1 + e)}, {@code e = exp(-2|x|)}: absolute error ~2 ulp of 1. */
    static double tanh(double x) {
        double e = Math.exp(-2 * Math.abs(x));
        double t = (1 - e) / (1 + e);
        return x < 0 ? -t : t;
    }

    static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    /** h = tanh(z) or sigmoid(z): in Java for small matrices, else one ND4J op. */
    private static void squash(boolean tanh, Matrix z, Matrix h, int len) {
        if (len <= JAVA_MAX_ELEMENTS) {
            for (int i = 0; i < len; i++) {
                double x = z.get(i);
                h.set(i, tanh ? tanh(x) : sigmoid(x));
            }
        } else if (tanh) {
            Nd4j.exec(new Tanh(z.array, h.array));
        } else {
            Nd4j.exec(new Sigmoid(z.array, h.array));
        }
    }

    static void apply(Activation act, Matrix z, Matrix h, Matrix d1, Matrix d2) {
        int len = z.rows * z.cols;
        switch (act) {
            case TANH -> {
                squash(true, z, h, len);
                for (int i = 0; i < len; i++) {
                    double t = h.get(i);
                    double s1 = 1 - t * t;
                    d1.set(i, s1);
                    if (d2 != null) {
                        d2.set(i, -2 * t * s1);
                    }
                }
            }
            case SIGMOID -> {
                squash(false, z, h, len);
                for (int i = 0; i < len; i++) {
                    double p = h.get(i);
                    double s1 = p * (1 - p);
                    d1.set(i, s1);
                    if (d2 != null) {
                        d2.set(i, s1 * (1 - 2 * p));
                    }
                }
            }
            case SILU -> {
                squash(false, z, h, len);
                for (int i = 0; i < len; i++) {
                    double x = z.get(i);
                    double p = h.get(i);
                    double pq = p * (1 - p);
                    h.set(i, x * p);
                    d1.set(i, p + x * pq);
                    if (d2 != null) {
                        d2.set(i, pq * (2 + x * (1 - 2 * p)));
                    }
                }
            }
            case GELU -> {
                for (int i = 0; i < len; i++) {
                    h.set(i, z.get(i) * INV_SQRT2);
                }
                Nd4j.exec(new Erf(h.array, h.array));
                for (int i = 0; i < len; i++) {
                    double x = z.get(i);
                    double cdf = 0.5 * (h.get(i) + 1.0);
                    double pdf = Math.exp(-0.5 * x * x) * INV_SQRT_2PI;
                    h.set(i, x * cdf);
                    d1.set(i, cdf + x * pdf);
                    if (d2 != null) {
                        d2.set(i, pdf * (2 - x * x));
                    }
                }
            }
            case SOFTPLUS -> {
                for (int i = 0; i < len; i++) {
                    double x = z.get(i);
                    double p = 1 / (1 + Math.exp(-x));
                    h.set(i, Math.max(x, 0.0) + Math.log1p(Math.exp(-Math.abs(x))));
                    d1.set(i, p);
                    if (d2 != null) {
                        d2.set(i, p * (1 - p));
                    }
                }
            }
            case ELU -> {
                for (int i = 0; i < len; i++) {
                    double x = z.get(i);
                    double e = x > 0 ? 0 : Math.exp(x);
                    h.set(i, x > 0 ? x : e - 1);
                    d1.set(i, x > 0 ? 1 : e);
                    if (d2 != null) {
                        d2.set(i, e);
                    }
                }
            }
            case RELU, LEAKY_RELU, IDENTITY -> {
                double slope = act == Activation.RELU ? 0 : act == Activation.LEAKY_RELU ? 0.01 : 1;
                for (int i = 0; i < len; i++) {
                    double x = z.get(i);
                    double s1 = x > 0 ? 1 : slope;
                    h.set(i, x * s1);
                    d1.set(i, s1);
                    if (d2 != null) {
                        d2.set(i, 0);
                    }
                }
            }
            default -> throw new IllegalArgumentException("no layer kernel for activation " + act);
        }
    }
}
