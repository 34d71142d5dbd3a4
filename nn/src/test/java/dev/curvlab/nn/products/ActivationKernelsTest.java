package dev.curvlab.nn.products;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.check.Tolerances;
import org.junit.jupiter.api.Test;

/** The Java tanh of the layer engine against the JDK's fdlibm tanh ({@link StrictMath#tanh}), relative, across its two branches. */
class ActivationKernelsTest {
    @Test
    void tanhMatchesFdlibmRelativelyFromTinyToSaturated() {
        double[] magnitudes = {1e-300, 1e-12, 1e-8, 1e-4, 0.01, 0.0624999, 0.0625, 0.0625001, 0.3, 0.5, 1, 2.5, 5, 19, 20, 400};
        double[] z = new double[2 * magnitudes.length + 2];
        for (int i = 0; i < magnitudes.length; i++) {
            z[2 * i] = magnitudes[i];
            z[2 * i + 1] = -magnitudes[i];
        }
        z[z.length - 1] = -0.0;
        double[] h = new double[z.length];
        ActivationKernels.tanh(z, h, z.length);
        for (int i = 0; i < z.length; i++) {
            double want = StrictMath.tanh(z[i]);
            double scale = Math.max(Math.abs(want), Double.MIN_NORMAL);
            assertTrue(Math.abs(h[i] - want) <= Tolerances.EXACT * 1e-2 * scale, "tanh(" + z[i] + ") = " + h[i] + ", fdlibm " + want);
            assertEquals(ActivationKernels.tanh(z[i]), h[i], 0.0, "array and scalar forms differ at " + z[i]);
        }
    }
}
