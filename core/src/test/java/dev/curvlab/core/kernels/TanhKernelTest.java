package dev.curvlab.core.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.check.Tolerances;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

class TanhKernelTest {
    /** The kernel's error bound in units in the last place (measured worst over 4M inputs: 7). */
    private static final double ULPS = 8;

    /** Oracle: fdlibm ({@link StrictMath#tanh}) to {@link #ULPS} ulps, from subnormal through the clamp to infinity. */
    @Test
    void tanhMatchesFdlibmToAFewUlpsFromTinyToSaturated() {
        double[] magnitudes = {0, 4.9e-324, 1e-300, 1e-12, 1e-8, 3e-5, 1e-3, 0.0625, 0.1, 0.25, 0.3, 0.5, 0.7, 1, 2.5, 5, 17, 19.9, 20,
            20.1, 400, Double.POSITIVE_INFINITY};
        double[] z = new double[2 * magnitudes.length];
        for (int i = 0; i < magnitudes.length; i++) {
            z[2 * i] = magnitudes[i];
            z[2 * i + 1] = -magnitudes[i];
        }
        double[] t = new double[z.length];
        TanhKernel.tanh(z, t, z.length);
        for (int i = 0; i < z.length; i++) {
            double want = StrictMath.tanh(z[i]);
            assertTrue(Math.abs(t[i] - want) <= ULPS * Math.ulp(want), "tanh(" + z[i] + ") = " + t[i] + ", fdlibm " + want);
            assertEquals(Math.copySign(1.0, want), Math.copySign(1.0, t[i]), "sign of tanh(" + z[i] + ")");
            assertEquals(TanhKernel.tanh(z[i]), t[i], 0.0, "array and scalar forms differ at " + z[i]);
        }
        assertTrue(Double.isNaN(TanhKernel.tanh(Double.NaN)), "tanh(NaN)");
        SplittableRandom rng = new SplittableRandom(5);
        double[] many = new double[100_000];
        for (int i = 0; i < many.length; i++) {
            many[i] = rng.nextGaussian() * (i % 2 == 0 ? 3 : 1e-2);
        }
        double[] got = new double[many.length];
        TanhKernel.tanh(many, got, many.length);
        for (int i = 0; i < many.length; i++) {
            double want = StrictMath.tanh(many[i]);
            assertTrue(Math.abs(got[i] - want) <= ULPS * Math.ulp(want), "tanh(" + many[i] + ") = " + got[i] + ", fdlibm " + want);
        }
    }

    @Test
    void theArrayFormRefusesToWorkInPlace() {
        double[] z = {1, 2};
        assertThrows(IllegalArgumentException.class, () -> TanhKernel.tanh(z, z, 2));
    }

    /** Second path: ND4J's tanh and 1 - tanh^2; 300 x 256 takes the multi-threaded split, and a length that is no multiple of the chunk. */
    @Test
    void valueAndSlopeMatchNd4jOnLargeAndOddArrays() {
        for (long[] shape : new long[][] {{300, 256}, {7, 1001}}) {
            INDArray z = Nd4j.randn(DataType.DOUBLE, shape).muli(2.0);
            INDArray want = Transforms.tanh(z, true);
            INDArray wantSlope = want.mul(want).rsubi(1.0);
            INDArray[] got = TanhKernel.valueAndSlope(z.dup('c'));
            assertTrue(got[0].sub(want).amaxNumber().doubleValue() < Tolerances.EXACT, "value");
            assertTrue(got[1].sub(wantSlope).amaxNumber().doubleValue() < Tolerances.EXACT, "slope");
        }
    }
}
