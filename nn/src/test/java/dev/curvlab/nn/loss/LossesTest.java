package dev.curvlab.nn.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.Autodiff;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.check.Comparison;
import dev.curvlab.core.check.Tolerances;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Loss values and output-gradients against closed forms computed with plain Java loops. */
class LossesTest {
    private static final int N = 5;
    private static final int K = 3;

    private static double[][] rand(long seed, int n, int k) {
        java.util.Random r = new java.util.Random(seed);
        double[][] a = new double[n][k];
        for (double[] row : a) {
            for (int j = 0; j < k; j++) {
                row[j] = r.nextGaussian();
            }
        }
        return a;
    }

    private static INDArray arr(double[][] a) {
        return Nd4j.create(a).castTo(DataType.DOUBLE);
    }

    private static void assertGradient(String what, Loss loss, double[][] f, INDArray y, double[][] expected) {
        Tensor py = loss.prepare(y, f[0].length);
        INDArray g = Autodiff.grad(ft -> loss.evaluate(ft, py, Reduction.MEAN)).apply(Tensor.of(arr(f))).array();
        assertTrue(Comparison.close(g, arr(expected), Tolerances.CLOSED_FORM), () -> Comparison.describe(what, g, arr(expected), Tolerances.CLOSED_FORM));
    }

    /**
     * Issue 10, defect 4: every reduction is the summed per-sample loss times {@code Loss#scale}, for
     * every built-in loss and for a loss that states only its per-sample loss and NLL factor.
     */
    @Test
    void reductionsAreTheSummedLossTimesOneScale() {
        double[][] f = rand(7, N, 4);
        double[][] y = rand(8, N, 2);
        Loss delegating = new Loss() {
            @Override
            public String name() {
                return "delegating";
            }

            @Override
            public Tensor prepare(INDArray t, long outputs) {
                return Losses.MSE.prepare(t, outputs);
            }

            @Override
            public Tensor perSample(Tensor out, Tensor t) {
                return Losses.MSE.perSample(out, t);
            }

            @Override
            public double nllPerSum() {
                return 0.25;
            }

            @Override
            public long normalizer(long n, long outputs) {
                return n;
            }
        };
        for (Loss loss : new Loss[] {Losses.MSE, Losses.BCE, Losses.POISSON, Losses.GAUSSIAN, Losses.CROSS_ENTROPY, delegating}) {
            double[][] targets = loss == Losses.GAUSSIAN ? y : loss == Losses.CROSS_ENTROPY ? new double[][] {{0}, {3}, {1}, {2}, {0}}
                    : loss == Losses.BCE ? rand(9, N, 4) : rand(10, N, 4);
            if (loss == Losses.POISSON || loss == Losses.BCE) {
                for (double[] row : targets) {
                    for (int j = 0; j < row.length; j++) {
                        row[j] = loss == Losses.BCE ? Math.abs(row[j]) % 1.0 : Math.floor(Math.abs(row[j]) * 3);
                    }
                }
            }
            Tensor out = Tensor.of(arr(f));
            Tensor prepared = loss.prepare(arr(targets), 4);
            double sum = loss.perSample(out, prepared).sum().item();
            for (Reduction r : Reduction.values()) {
                assertEquals(loss.scale(r, N, 4) * sum, loss.evaluate(out, prepared, r).item(), 1e-12 * Math.max(1, Math.abs(sum)),
                        loss.name() + " " + r);
            }
            assertEquals(loss.nllPerSum(), loss.scale(Reduction.NLL, N, 4), loss.name());
            assertEquals(1.0 / loss.normalizer(N, 4), loss.scale(Reduction.MEAN, N, 4), loss.name());
        }
        assertEquals(0.25 * Losses.MSE.evaluate(Tensor.of(arr(f)), Losses.MSE.prepare(arr(rand(10, N, 4)), 4), Reduction.SUM).item(),
                delegating.evaluate(Tensor.of(arr(f)), delegating.prepare(arr(rand(10, N, 4)), 4), Reduction.NLL).item(), 1e-12);
    }

    @Test
    void mse() {
        double[][] f = rand(1, N, K);
        double[][] y = rand(2, N, K);
        double sum = 0;
        double[][] g = new double[N][K];
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < K; j++) {
                sum += (f[i][j] - y[i][j]) * (f[i][j] - y[i][j]);
                g[i][j] = 2 * (f[i][j] - y[i][j]) / (N * K);
            }
        }
        Tensor py = Losses.MSE.prepare(arr(y), K);
        assertEquals(sum / (N * K), Losses.MSE.evaluate(Tensor.of(arr(f)), py, Reduction.MEAN).item(), 1e-12);
        assertEquals(sum, Losses.MSE.evaluate(Tensor.of(arr(f)), py, Reduction.SUM).item(), 1e-12);
        assertEquals(0.5 * sum, Losses.MSE.evaluate(Tensor.of(arr(f)), py, Reduction.NLL).item(), 1e-12);
        assertGradient("mse gradient", Losses.MSE, f, arr(y), g);
    }

    @Test
    void crossEntropy() {
        double[][] f = rand(3, N, K);
        double[] cls = {0, 2, 1, 2, 0};
        double sum = 0;
        double[][] g = new double[N][K];
        for (int i = 0; i < N; i++) {
            double z = 0;
            for (int j = 0; j < K; j++) {
                z += Math.exp(f[i][j]);
            }
            sum += Math.log(z) - f[i][(int) cls[i]];
            for (int j = 0; j < K; j++) {
                g[i][j] = (Math.exp(f[i][j]) / z - (j == cls[i] ? 1 : 0)) / N;
            }
        }
        INDArray y = Nd4j.create(cls, new long[] {N}, DataType.DOUBLE);
        Tensor py = Losses.CROSS_ENTROPY.prepare(y, K);
        assertEquals(sum / N, Losses.CROSS_ENTROPY.evaluate(Tensor.of(arr(f)), py, Reduction.MEAN).item(), 1e-12);
        assertEquals(sum, Losses.CROSS_ENTROPY.evaluate(Tensor.of(arr(f)), py, Reduction.NLL).item(), 1e-12);
        assertGradient("ce gradient", Losses.CROSS_ENTROPY, f, y, g);
        // numerically stable for large logits
        double big = Losses.CROSS_ENTROPY.evaluate(Tensor.of(arr(new double[][] {{1000, 0, -1000}})),
                Losses.CROSS_ENTROPY.prepare(Nd4j.create(new double[] {1}, new long[] {1}, DataType.DOUBLE), 3), Reduction.SUM).item();
        assertEquals(1000.0, big, 1e-9);
    }

    @Test
    void binaryCrossEntropyPoissonAndGaussian() {
        double[][] f = rand(4, N, K);
        double[][] y = rand(5, N, K);
        double[][] y01 = new double[N][K];
        double[][] counts = new double[N][K];
        double bce = 0;
        double poi = 0;
        double[][] gb = new double[N][K];
        double[][] gp = new double[N][K];
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < K; j++) {
                y01[i][j] = 1 / (1 + Math.exp(-y[i][j]));
                counts[i][j] = Math.floor(Math.abs(3 * y[i][j]));
                double sig = 1 / (1 + Math.exp(-f[i][j]));
                bce += -(y01[i][j] * Math.log(sig) + (1 - y01[i][j]) * Math.log(1 - sig));
                poi += Math.exp(f[i][j]) - counts[i][j] * f[i][j];
                gb[i][j] = (sig - y01[i][j]) / (N * K);
                gp[i][j] = (Math.exp(f[i][j]) - counts[i][j]) / (N * K);
            }
        }
        assertEquals(bce / (N * K), Losses.BCE.evaluate(Tensor.of(arr(f)), Losses.BCE.prepare(arr(y01), K), Reduction.MEAN).item(), 1e-12);
        assertGradient("bce gradient", Losses.BCE, f, arr(y01), gb);
        assertEquals(poi, Losses.POISSON.evaluate(Tensor.of(arr(f)), Losses.POISSON.prepare(arr(counts), K), Reduction.NLL).item(), 1e-10);
        assertGradient("poisson gradient", Losses.POISSON, f, arr(counts), gp);
        // gaussian: outputs [mu | s], targets [n, 1]
        double[][] fg = rand(6, N, 2);
        double[][] yg = rand(7, N, 1);
        double nll = 0;
        double[][] gg = new double[N][2];
        for (int i = 0; i < N; i++) {
            double mu = fg[i][0];
            double s = fg[i][1];
            double r = yg[i][0] - mu;
            nll += 0.5 * (s + r * r * Math.exp(-s));
            gg[i][0] = -r * Math.exp(-s) / N;
            gg[i][1] = 0.5 * (1 - r * r * Math.exp(-s)) / N;
        }
        assertEquals(nll, Losses.GAUSSIAN.evaluate(Tensor.of(arr(fg)), Losses.GAUSSIAN.prepare(arr(yg), 2), Reduction.NLL).item(), 1e-12);
        assertGradient("gaussian gradient", Losses.GAUSSIAN, fg, arr(yg), gg);
    }

    @Test
    void badTargetsAreClearErrors() {
        INDArray cls = Nd4j.create(new double[] {0, 3, 1}, new long[] {3}, DataType.DOUBLE);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Losses.CROSS_ENTROPY.prepare(cls, 3));
        assertTrue(e.getMessage().contains("row 1") && e.getMessage().contains("0..2"), e.getMessage());
        INDArray frac = Nd4j.create(new double[] {0, 0.5}, new long[] {2}, DataType.DOUBLE);
        assertThrows(IllegalArgumentException.class, () -> Losses.CROSS_ENTROPY.prepare(frac, 3));
        INDArray nan = Nd4j.create(new double[] {0, Double.NaN}, new long[] {2, 1}, DataType.DOUBLE);
        IllegalArgumentException en = assertThrows(IllegalArgumentException.class, () -> Losses.MSE.prepare(nan, 1));
        assertTrue(en.getMessage().contains("row 1"), en.getMessage());
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> Losses.MSE.prepare(Nd4j.zeros(DataType.DOUBLE, 4, 2), 3));
        assertTrue(shape.getMessage().contains("[4, 2]"), shape.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Losses.BCE.prepare(Nd4j.ones(DataType.DOUBLE, 2, 1).mul(2), 1));
        assertThrows(IllegalArgumentException.class, () -> Losses.parse("hinge"));
    }
}
