package dev.curvlab.nn.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.check.Tolerances;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.data.Datasets;
import dev.curvlab.nn.data.Standardizer;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class TrainerTest {
    private final Trainer trainer = new Trainer();

    /** y = X w + b + noise with X: [n, d] standard normal (seeded). */
    private static Dataset regression(int n, int d, long seed) {
        Random r = new Random(seed);
        double[] w = {1.5, -2.0, 0.7, 0.3};
        double[][] x = new double[n][d];
        double[][] y = new double[n][1];
        for (int i = 0; i < n; i++) {
            double s = 0.25;
            for (int j = 0; j < d; j++) {
                x[i][j] = r.nextGaussian();
                s += w[j] * x[i][j];
            }
            y[i][0] = s + 0.3 * r.nextGaussian();
        }
        return new Dataset(Nd4j.create(x).castTo(DataType.DOUBLE), Nd4j.create(y).castTo(DataType.DOUBLE));
    }

    private static Sequential linear(int d) {
        return Sequential.builder(d).dense(1, Activation.IDENTITY).build();
    }

    /** Least squares [w; b] from the normal equations A^T A beta = A^T y, A = [X 1], by Gaussian elimination. */
    private static double[] normalEquations(Dataset data) {
        int n = data.n();
        int p = data.d() + 1;
        double[][] x = data.x().toDoubleMatrix();
        double[] y = data.y().reshape(n).toDoubleVector();
        double[][] m = new double[p][p + 1];
        for (int i = 0; i < n; i++) {
            double[] a = Arrays.copyOf(x[i], p);
            a[p - 1] = 1.0;
            for (int r = 0; r < p; r++) {
                for (int c = 0; c < p; c++) {
                    m[r][c] += a[r] * a[c];
                }
                m[r][p] += a[r] * y[i];
            }
        }
        for (int k = 0; k < p; k++) {
            int piv = k;
            for (int r = k + 1; r < p; r++) {
                if (Math.abs(m[r][k]) > Math.abs(m[piv][k])) {
                    piv = r;
                }
            }
            double[] t = m[k];
            m[k] = m[piv];
            m[piv] = t;
            for (int r = 0; r < p; r++) {
                if (r != k) {
                    double f = m[r][k] / m[k][k];
                    for (int c = k; c <= p; c++) {
                        m[r][c] -= f * m[k][c];
                    }
                }
            }
        }
        double[] beta = new double[p];
        for (int k = 0; k < p; k++) {
            beta[k] = m[k][p] / m[k][k];
        }
        return beta;
    }

    @Test
    void fullBatchSgdReachesTheLeastSquaresSolution() {
        Dataset data = regression(60, 3, 11);
        Sequential model = linear(3);
        INDArray theta0 = Nd4j.zeros(DataType.DOUBLE, model.parameterCount());
        TrainingConfig cfg = TrainingConfig.builder().epochs(5000).optimizer(new Sgd(0.1, 0.5)).gradientTolerance(1e-10)
                .logEvery(0).build();
        TrainingResult res = trainer.train(model, Losses.MSE, data, theta0, cfg);
        double[] want = normalEquations(data);
        // theta layout: W [3, 1] row-major, then b [1]
        assertArrayEquals(want, res.theta().toDoubleVector(), 1e-6, () -> "least squares " + Arrays.toString(want) + ", got " + res);
        assertEquals(StopReason.GRADIENT_SMALL, res.stopReason(), res::toString);
        assertTrue(res.finalGradientNorm() < 1e-9, res::toString);
        assertTrue(res.epochs() < 5000, res::toString);
        assertEquals(res.epochs(), res.lossHistory().length);
        assertEquals(res.epochs(), res.steps(), "full batch: one step per epoch");
        assertEquals(0.0, theta0.norm2Number().doubleValue(), 0.0, "the initial theta must not be modified");
        assertEquals(Metrics.meanSquaredError(model, res.theta(), data), res.finalLoss(), 1e-12);
    }

    @Test
    void irisMlpWithAdamReachesNinetyPercentTestAccuracy() {
        long t0 = System.nanoTime();
        Dataset.Split split = Datasets.iris().split(0.8, 1);
        Standardizer st = Standardizer.fit(split.train());
        Dataset train = st.transform(split.train());
        Dataset test = st.transform(split.test());
        Sequential model = Sequential.mlp(new int[] {4, 16, 3}, Activation.TANH);
        TrainingConfig cfg = TrainingConfig.builder().epochs(40).batchSize(16).seed(3).optimizer(new Adam(0.01))
                .logEvery(10).build();
        TrainingResult res = trainer.train(model, Losses.CROSS_ENTROPY, train, model.initialParameters(7), cfg);
        double acc = Metrics.accuracy(model, res.theta(), test);
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("iris: test accuracy %.4f, train accuracy %.4f, %s, total %.2fs%n", acc,
                Metrics.accuracy(model, res.theta(), train), res, secs);
        assertTrue(acc >= 0.9, "test accuracy " + acc + " < 0.9 (" + res + ")");
        double[] h = res.lossHistory();
        assertEquals(40, h.length);
        assertEquals(StopReason.MAX_EPOCHS, res.stopReason());
        assertEquals(40L * 8, res.steps(), "120 training rows in batches of 16: 8 steps per epoch");
        double first = mean(h, 0, 5);
        double last = mean(h, h.length - 5, h.length);
        assertTrue(last < 0.5 * first, "loss should fall: first epochs " + first + ", last epochs " + last);
    }

    private static double mean(double[] a, int from, int to) {
        return Arrays.stream(a, from, to).average().orElseThrow();
    }

    @Test
    void minibatchShufflingIsReproducible() {
        Dataset data = regression(50, 3, 5);
        Sequential model = Sequential.mlp(new int[] {3, 5, 1}, Activation.TANH);
        INDArray theta0 = model.initialParameters(1);
        TrainingConfig cfg = TrainingConfig.builder().epochs(4).batchSize(8).seed(123).optimizer(new Sgd(0.05, 0.9))
                .logEvery(0).build();
        TrainingResult a = trainer.train(model, Losses.MSE, data, theta0, cfg);
        TrainingResult b = trainer.train(model, Losses.MSE, data, theta0, cfg);
        TrainingResult c = trainer.train(model, Losses.MSE, data, theta0, cfg.toBuilder().seed(124).build());
        assertEquals(4 * 7, a.steps(), "50 rows in batches of 8: 7 steps per epoch");
        assertArrayEquals(a.theta().toDoubleVector(), b.theta().toDoubleVector(), 0.0, "same seed, same theta");
        assertArrayEquals(a.lossHistory(), b.lossHistory(), 0.0, "same seed, same losses");
        assertFalse(Arrays.equals(a.theta().toDoubleVector(), c.theta().toDoubleVector()), "another seed, another theta");
        assertNotEquals(a.lossHistory()[0], c.lossHistory()[0], "another seed, another first-epoch loss");
    }

    @Test
    void lossConvergenceStopsWithItsReason() {
        Dataset data = regression(40, 2, 9);
        Sequential model = linear(2);
        INDArray theta0 = Nd4j.zeros(DataType.DOUBLE, model.parameterCount());
        double tol = 1e-4;
        TrainingConfig cfg = TrainingConfig.builder().epochs(10_000).optimizer(new Sgd(0.05)).lossTolerance(tol, 3)
                .logEvery(0).build();
        TrainingResult res = trainer.train(model, Losses.MSE, data, theta0, cfg);
        assertEquals(StopReason.LOSS_CONVERGED, res.stopReason(), res::toString);
        assertTrue(res.epochs() > 3 && res.epochs() < 10_000, res::toString);
        double[] h = res.lossHistory();
        for (int e = h.length - 3; e < h.length; e++) {
            double rel = Math.abs(h[e] - h[e - 1]) / Math.abs(h[e - 1]);
            assertTrue(rel < tol, "epoch " + (e + 1) + ": relative change " + rel);
        }
        double before = Math.abs(h[h.length - 4] - h[h.length - 5]) / Math.abs(h[h.length - 5]);
        assertTrue(before >= tol, "it should have stopped earlier: change " + before + " four epochs before the end");
    }

    @Test
    void maxEpochsAndTimeLimitReportTheirReasons() {
        Dataset data = regression(40, 2, 9);
        Sequential model = Sequential.mlp(new int[] {2, 8, 1}, Activation.TANH);
        INDArray theta0 = model.initialParameters(2);
        TrainingResult three = trainer.train(model, Losses.MSE, data, theta0,
                TrainingConfig.builder().epochs(3).optimizer(new Adam(0.01)).lossTolerance(1e-12, 1).gradientTolerance(1e-12)
                        .logEvery(1).build());
        assertEquals(StopReason.MAX_EPOCHS, three.stopReason());
        assertEquals(3, three.epochs());
        assertEquals(3, three.lossHistory().length);

        TrainingResult timed = trainer.train(model, Losses.MSE, data, theta0,
                TrainingConfig.builder().epochs(1_000_000).batchSize(4).optimizer(new Adam(0.01))
                        .maxWallTime(Duration.ofMillis(300)).logEvery(0).build());
        assertEquals(StopReason.TIME_LIMIT, timed.stopReason(), timed::toString);
        assertTrue(timed.epochs() < 1_000_000 && timed.epochs() >= 1, timed::toString);
        assertTrue(timed.wallTime().toMillis() < 5_000, timed::toString);
    }

    @Test
    void divergenceAndMismatchedInputsFailClearly() {
        Dataset data = regression(40, 2, 9);
        Sequential model = linear(2);
        INDArray theta0 = Nd4j.zeros(DataType.DOUBLE, model.parameterCount());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> trainer.train(model, Losses.MSE, data,
                theta0, TrainingConfig.builder().epochs(2000).optimizer(new Sgd(10.0)).logEvery(0).build()));
        assertTrue(e.getMessage().contains("diverged") && e.getMessage().contains("learning rate"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> trainer.train(model, Losses.MSE, data,
                Nd4j.zeros(DataType.DOUBLE, 5), TrainingConfig.builder().build()));
        assertThrows(IllegalArgumentException.class, () -> TrainingConfig.builder().epochs(0).build());
        assertThrows(IllegalArgumentException.class, () -> TrainingConfig.builder().lossTolerance(1e-3, 0).build());
        assertThrows(IllegalArgumentException.class, () -> TrainingConfig.builder().maxWallTime(Duration.ZERO).build());
    }

    @Test
    void progressLineFormat() {
        assertEquals("epoch 40/200  loss 0.08310  |grad| 1.2e-3  1250 steps/s  eta 4s",
                Trainer.progress(40, 200, 0.0831, 1.2e-3, 1250, 1_000_000_000L));
        assertEquals("2m05s", Trainer.duration(125));
        assertEquals("1h02m", Trainer.duration(3720));
        assertEquals("3.0e5", Trainer.sci(3e5));
    }

    @Test
    void layerEngineTrainsLikeTheGenericEngine() {
        Dataset iris = Standardizer.fit(Datasets.iris()).transform(Datasets.iris());
        Sequential m = Sequential.mlp(new int[] {4, 8, 3}, Activation.TANH);
        // 150 rows in batches of 32: four full batches and one of 22 each epoch
        TrainingConfig cfg = TrainingConfig.builder().epochs(5).batchSize(32).seed(3).optimizer(new Adam(0.01)).logEvery(0).build();
        TrainingResult layers = new Trainer(dev.curvlab.nn.products.ProductEngine.LAYERS).train(m, Losses.CROSS_ENTROPY, iris,
                m.initialParameters(1), cfg);
        TrainingResult generic = new Trainer(dev.curvlab.nn.products.ProductEngine.GENERIC).train(m, Losses.CROSS_ENTROPY, iris,
                m.initialParameters(1), cfg);
        double scale = generic.theta().amaxNumber().doubleValue();
        assertTrue(layers.theta().sub(generic.theta()).amaxNumber().doubleValue() <= 1e-10 * scale, "parameters after 25 steps");
        assertEquals(generic.finalLoss(), layers.finalLoss(), 1e-12);
        assertArrayEquals(generic.lossHistory(), layers.lossHistory(), 1e-12);
    }

    /** The Java norm against a closed form (3-4-5, far beyond the square's overflow) and against ND4J's norm2 on a view. */
    @Test
    void gradientNormInJavaMatchesClosedFormAndNd4j() {
        assertEquals(5e200, Trainer.norm2(Nd4j.createFromArray(3e200, 0.0, -4e200)), Tolerances.EXACT * 5e200);
        assertEquals(0.0, Trainer.norm2(Nd4j.zeros(DataType.DOUBLE, 4)));
        INDArray m = Nd4j.rand(DataType.DOUBLE, 7, 3);
        INDArray column = m.getColumn(1);
        assertEquals(column.norm2Number().doubleValue(), Trainer.norm2(column), Tolerances.EXACT);
        INDArray whole = m.reshape(21).dup();
        assertEquals(whole.norm2Number().doubleValue(), Trainer.norm2(whole), Tolerances.EXACT);
    }
}
