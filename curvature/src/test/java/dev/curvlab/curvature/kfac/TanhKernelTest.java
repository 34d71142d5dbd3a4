package dev.curvlab.curvature.kfac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.check.Tolerances;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

class TanhKernelTest {
    @Test
    void tanhMatchesStrictMathToAFewUlpsAcrossTheBranches() {
        // oracle: StrictMath.tanh (fdlibm); both branches of expm1 (|z| < 1/4 series, >= 1/4 exp), the
        // switch point itself, tiny and subnormal inputs, saturation and the special values
        double[] z = {0, -0.0, 1e-300, 4.9e-324, 1e-8, -3e-5, 0.1, 0.2499999, 0.25, 0.2500001, -0.7, 3, -17, 19.9, 20.1, 400,
            Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
        for (double v : z) {
            double want = StrictMath.tanh(v);
            double got = TanhKernel.tanh(v);
            assertTrue(Math.abs(got - want) <= 4 * Math.ulp(want), "tanh(" + v + ") = " + got + ", want " + want);
            assertEquals(Math.copySign(1.0, want), Math.copySign(1.0, got), "sign of tanh(" + v + ")");
        }
        assertTrue(Double.isNaN(TanhKernel.tanh(Double.NaN)), "tanh(NaN)");
        SplittableRandom rng = new SplittableRandom(5);
        for (int i = 0; i < 100_000; i++) {
            double v = rng.nextGaussian() * 3;
            double want = StrictMath.tanh(v);
            assertTrue(Math.abs(TanhKernel.tanh(v) - want) <= 4 * Math.ulp(want), "tanh(" + v + ")");
        }
    }

    @Test
    void valueAndSlopeMatchNd4jOnAMultiThreadedArray() {
        // second path: ND4J's tanh and 1 - tanh^2; 300 x 256 takes the multi-threaded split
        INDArray z = Nd4j.randn(DataType.DOUBLE, 300, 256).muli(2.0);
        INDArray want = Transforms.tanh(z, true);
        INDArray wantSlope = want.mul(want).rsubi(1.0);
        INDArray[] got = TanhKernel.valueAndSlope(z.dup('c'));
        assertTrue(got[0].sub(want).amaxNumber().doubleValue() < Tolerances.EXACT, "value");
        assertTrue(got[1].sub(wantSlope).amaxNumber().doubleValue() < Tolerances.EXACT, "slope");
    }
}
