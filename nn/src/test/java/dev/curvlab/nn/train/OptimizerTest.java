package dev.curvlab.nn.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Optimizer updates against closed-form arithmetic on a three-element vector. */
class OptimizerTest {
    private static final double TOL = 1e-14;
    private static final double[] THETA0 = {1.0, -2.0, 0.5};
    private static final double[][] GRADS = {{0.4, -1.0, 2.0}, {-0.2, 0.5, 1.0}, {0.1, 0.1, -3.0}};

    private static INDArray vec(double... v) {
        return Nd4j.create(v, new long[] {v.length}, DataType.DOUBLE);
    }

    private static double[] run(Optimizer opt, int steps) {
        INDArray theta = vec(THETA0);
        for (int t = 0; t < steps; t++) {
            INDArray g = vec(GRADS[t]);
            assertSame(theta, opt.step(theta, g), "step updates theta in place and returns it");
            assertArrayEquals(GRADS[t], g.toDoubleVector(), 0.0, "the gradient must not be modified");
        }
        return theta.toDoubleVector();
    }

    @Test
    void plainSgdIsGradientDescent() {
        double lr = 0.1;
        double[] got = run(new Sgd(lr), 3);
        for (int i = 0; i < 3; i++) {
            double want = THETA0[i] - lr * (GRADS[0][i] + GRADS[1][i] + GRADS[2][i]);
            assertEquals(want, got[i], TOL, "component " + i);
        }
        // literal numbers: theta0 - 0.1 * (0.3, -0.4, 0.0)
        assertArrayEquals(new double[] {0.97, -1.96, 0.5}, got, TOL);
    }

    @Test
    void heavyBallMomentumWithWeightDecay() {
        double lr = 0.05;
        double mu = 0.9;
        double wd = 0.01;
        double[] got = run(new Sgd(lr, mu, false, wd), 3);
        for (int i = 0; i < 3; i++) {
            double th0 = THETA0[i];
            double g1 = GRADS[0][i] + wd * th0;
            double v1 = g1;
            double th1 = th0 - lr * v1;
            double g2 = GRADS[1][i] + wd * th1;
            double v2 = mu * v1 + g2;
            double th2 = th1 - lr * v2;
            double g3 = GRADS[2][i] + wd * th2;
            double v3 = mu * v2 + g3;
            double th3 = th2 - lr * v3;
            assertEquals(th3, got[i], TOL, "component " + i);
        }
    }

    @Test
    void nesterovMomentum() {
        double lr = 0.1;
        double mu = 0.5;
        double[] got = run(new Sgd(lr, mu, true, 0.0), 2);
        for (int i = 0; i < 3; i++) {
            double g1 = GRADS[0][i];
            double g2 = GRADS[1][i];
            // v1 = g1, step g1 + mu v1; v2 = mu g1 + g2, step g2 + mu v2
            double want = THETA0[i] - lr * (g1 + mu * g1) - lr * (g2 + mu * (mu * g1 + g2));
            assertEquals(want, got[i], TOL, "component " + i);
        }
    }

    @Test
    void adamFirstStepMovesByLearningRateAgainstTheSign() {
        double lr = 0.01;
        double[] got = run(new Adam(lr, 0.9, 0.999, 1e-12, 0.0), 1);
        // mhat = g, vhat = g^2: theta - lr * g / (|g| + eps)
        assertArrayEquals(new double[] {1.0 - 0.01, -2.0 + 0.01, 0.5 - 0.01}, got, 1e-12);
    }

    @Test
    void adamThreeStepsWithBiasCorrectionAndWeightDecay() {
        double lr = 0.1;
        double b1 = 0.8;
        double b2 = 0.9;
        double eps = 1e-3;
        double wd = 0.05;
        double[] got = run(new Adam(lr, b1, b2, eps, wd), 3);
        for (int i = 0; i < 3; i++) {
            double th = THETA0[i];
            double m = 0;
            double v = 0;
            for (int t = 1; t <= 3; t++) {
                double g = GRADS[t - 1][i] + wd * th;
                m = b1 * m + (1 - b1) * g;
                v = b2 * v + (1 - b2) * g * g;
                double mhat = m / (1 - Math.pow(b1, t));
                double vhat = v / (1 - Math.pow(b2, t));
                th -= lr * mhat / (Math.sqrt(vhat) + eps);
            }
            assertEquals(th, got[i], TOL, "component " + i);
        }
        // the second step of component 0 written out: g1 = 0.45, g2 = -0.2 + 0.05 * theta1
        double th1 = 1.0 - 0.1 * 0.45 / (0.45 + 1e-3);
        double g2 = -0.2 + 0.05 * th1;
        double m2 = 0.8 * 0.2 * 0.45 + 0.2 * g2;
        double v2 = 0.9 * 0.1 * 0.45 * 0.45 + 0.1 * g2 * g2;
        double th2 = th1 - 0.1 * (m2 / 0.36) / (Math.sqrt(v2 / 0.19) + 1e-3);
        assertEquals(th2, run(new Adam(lr, b1, b2, eps, wd), 2)[0], TOL);
    }

    @Test
    void resetForgetsState() {
        for (Optimizer opt : new Optimizer[] {new Sgd(0.1, 0.9), new Adam(0.1)}) {
            double[] fresh = run(opt, 2);
            assertEquals(2, opt.steps());
            opt.reset();
            assertEquals(0, opt.steps());
            assertArrayEquals(fresh, run(opt, 2), 0.0, opt + " after reset");
        }
    }

    @Test
    void rejectsMismatchedShapesAndBadHyperparameters() {
        Adam adam = new Adam(0.1);
        assertThrows(IllegalArgumentException.class, () -> adam.step(vec(1, 2), vec(1, 2, 3)));
        adam.step(vec(1, 2), vec(1, 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> adam.step(vec(1, 2, 3), vec(1, 2, 3)));
        assertEquals(true, e.getMessage().contains("reset()"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Sgd(0.0));
        assertThrows(IllegalArgumentException.class, () -> new Sgd(0.1, 1.0));
        assertThrows(IllegalArgumentException.class, () -> new Sgd(0.1, 0.0, true, 0.0));
        assertThrows(IllegalArgumentException.class, () -> new Adam(0.1, 0.9, 1.0, 1e-8, 0.0));
        assertThrows(IllegalArgumentException.class, () -> new Adam(0.1, 0.9, 0.999, 0.0, 0.0));
    }

    @Test
    void updatesStridedViewsInPlace() {
        for (Optimizer opt : new Optimizer[] {new Sgd(0.1, 0.9, true, 0.01), new Adam(0.1, 0.9, 0.999, 1e-8, 0.01)}) {
            double[] want = run(opt, 3);
            opt.reset();
            INDArray holder = Nd4j.zeros(DataType.DOUBLE, 3, 2);
            INDArray theta = holder.getColumn(1);
            theta.assign(vec(THETA0));
            INDArray gHolder = Nd4j.zeros(DataType.DOUBLE, 3, 2);
            INDArray g = gHolder.getColumn(0);
            for (int t = 0; t < 3; t++) {
                g.assign(vec(GRADS[t]));
                opt.step(theta, g);
            }
            assertArrayEquals(want, holder.getColumn(1).toDoubleVector(), TOL, opt + " on a strided view");
            assertArrayEquals(new double[] {0, 0, 0}, holder.getColumn(0).toDoubleVector(), 0.0, "neighbouring column untouched");
        }
    }
}
