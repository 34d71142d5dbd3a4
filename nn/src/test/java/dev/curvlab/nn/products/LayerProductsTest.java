package dev.curvlab.nn.products;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.ArrayScope;
import dev.curvlab.core.Autodiff;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.VjpResult;
import dev.curvlab.core.check.Tolerances;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The layer engine against the generic engine (the oracle: core autodiff on the same model and
 * loss), to {@link Tolerances#EXACT} relative to the largest entry: gradient, HVP, GGN-vector
 * product, empirical-Fisher product, per-sample gradients and their norms. A seeded sweep gives
 * every activation with every loss once, with batch sizes cycling through 1, 2, 7, 300, k through
 * 1, 3, 16, one to four hidden layers and widths 1..40 (hidden widths up to 20 at B = 300, where the
 * oracle is slowest).
 */
class LayerProductsTest {
    static final int[] BATCHES = {1, 2, 7, 300};
    static final int[] DIRECTIONS = {1, 3, 16};
    static final Loss[] LOSSES = {Losses.MSE, Losses.CROSS_ENTROPY, Losses.BCE, Losses.GAUSSIAN, Losses.POISSON};

    /** One random problem: a model, a batch and its objectives. */
    record Case(String name, Sequential model, Loss loss, INDArray theta, INDArray x, INDArray y) {
        ModelObjective objective(Reduction r) {
            return new ModelObjective(model, loss, x, y, r);
        }
    }

    static Case randomCase(Random rnd, Activation act, Loss loss, int batch, int hidden) {
        int in = 1 + rnd.nextInt(40);
        int out = loss == Losses.GAUSSIAN ? 2 * (1 + rnd.nextInt(3)) : 1 + rnd.nextInt(loss == Losses.CROSS_ENTROPY ? 6 : 4);
        Sequential.Builder b = Sequential.builder(in);
        int maxWidth = batch > 100 ? 20 : 40;     // the oracle's cost grows with B N; widths up to 40 at the small batch sizes
        for (int h = 0; h < hidden; h++) {
            b.dense(1 + rnd.nextInt(maxWidth), act);
        }
        Sequential model = b.dense(out, rnd.nextBoolean() ? Activation.IDENTITY : act).build();
        INDArray theta = model.initialParameters(dev.curvlab.nn.model.Init.XAVIER, rnd.nextLong()).addi(gaussian(rnd, 0.1, model.parameterCount()));
        INDArray x = gaussian(rnd, 1.0, batch, in);
        INDArray y = randomTargets(rnd, loss, batch, out);
        return new Case(act.id() + "/" + loss.name() + " " + model.describe() + " B=" + batch, model, loss, theta, x, y);
    }

    /** Targets a loss accepts for {@code out} outputs: class indices (ce), values in [0, 1] (bce), counts (poisson), Gaussian otherwise. */
    static INDArray randomTargets(Random rnd, Loss loss, int batch, int out) {
        if (loss == Losses.CROSS_ENTROPY) {
            double[] cls = new double[batch];
            for (int i = 0; i < batch; i++) {
                cls[i] = rnd.nextInt(out);
            }
            return Nd4j.create(cls, new long[] {batch}, DataType.DOUBLE);
        }
        int width = loss == Losses.GAUSSIAN ? out / 2 : out;
        double[] v = new double[batch * width];
        for (int i = 0; i < v.length; i++) {
            v[i] = loss == Losses.BCE ? rnd.nextDouble() : loss == Losses.POISSON ? rnd.nextInt(4) : rnd.nextGaussian();
        }
        return Nd4j.create(v, new long[] {batch, width}, DataType.DOUBLE);
    }

    static INDArray gaussian(Random rnd, double sd, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        double[] v = new double[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = sd * rnd.nextGaussian();
        }
        return Nd4j.create(v, shape, DataType.DOUBLE);
    }

    static void assertRelClose(String what, INDArray actual, INDArray expected) {
        assertEquals(java.util.Arrays.toString(expected.shape()), java.util.Arrays.toString(actual.shape()), what + ": shape");
        double scale = expected.amaxNumber().doubleValue();
        double err = actual.sub(expected).amaxNumber().doubleValue();
        assertTrue(err <= Tolerances.EXACT * Math.max(scale, 1e-300), what + ": max |diff| " + err + " vs max |expected| " + scale);
    }

    // ---------------------------------------------------------------- oracles: the generic engine

    static INDArray genericGradient(ModelObjective obj, INDArray theta) {
        return obj.gradient(theta);
    }

    static INDArray genericHvp(ModelObjective obj, INDArray theta, INDArray vt) {
        return Autodiff.hvp(obj).apply(Tensor.of(theta), Tensor.of(vt)).array();
    }

    static INDArray genericGgn(ModelObjective obj, INDArray theta, INDArray vt) {
        return ArrayScope.run(() -> {
            Tensor x = obj.x();
            Tensor y = obj.preparedTargets();
            Sequential model = obj.model();
            VjpResult network = Autodiff.vjp(t -> model.forward(t, x), Tensor.of(theta));
            Tensor jv = Autodiff.jvp(t -> model.forward(t, x), Tensor.of(theta), Tensor.of(vt)).tangent();
            Tensor hjv = Autodiff.hvp(f -> obj.loss().evaluate(f, y, obj.reduction())).apply(network.value(), jv);
            return network.pullbackBlock(hjv);
        }).array();
    }

    static INDArray genericPerSample(ModelObjective obj, INDArray theta) {
        long n = obj.samples();
        return ArrayScope.run(() -> Autodiff.vjp(t -> obj.loss().perSample(obj.model().forward(t, obj.x()), obj.preparedTargets()),
                Tensor.of(theta)).pullbackBlock(Tensor.of(Nd4j.eye(n).castTo(DataType.DOUBLE)))).array();
    }

    // ---------------------------------------------------------------- tests

    @Test
    void everyActivationWithEveryLossMatchesTheGenericEngine() {
        Random rnd = new Random(12);
        int c = 0;
        for (Activation act : Activation.values()) {
            for (Loss loss : LOSSES) {
                int batch = BATCHES[c % BATCHES.length];
                int k = DIRECTIONS[c % DIRECTIONS.length];
                Case tc = randomCase(rnd, act, loss, batch, 1 + c % 4);
                c++;
                checkAll(tc, k, rnd);
            }
        }
    }

    static void checkAll(Case tc, int k, Random rnd) {
        LayerProducts engine = new LayerProducts(tc.model(), tc.loss());
        long n = tc.model().parameterCount();
        ModelObjective mean = tc.objective(Reduction.MEAN);
        ModelObjective sum = tc.objective(Reduction.SUM);
        LayerProducts.Gradient g = engine.gradient(mean, tc.theta());
        assertRelClose(tc.name() + " gradient", g.gradient(), genericGradient(mean, tc.theta()));
        assertEquals(mean.value(tc.theta()), g.value(), 1e-12 * Math.max(1, Math.abs(g.value())), tc.name() + " value");
        INDArray into = Nd4j.valueArrayOf(new long[] {n}, Double.NaN, DataType.DOUBLE);   // a reused buffer: every element overwritten
        double intoValue = engine.gradientInto(mean, tc.theta(), into);
        assertRelClose(tc.name() + " gradient into a buffer", into, genericGradient(mean, tc.theta()));
        assertEquals(g.value(), intoValue, 1e-12 * Math.max(1, Math.abs(g.value())), tc.name() + " value with gradientInto");
        INDArray vt = gaussian(rnd, 1.0, k, n);
        assertRelClose(tc.name() + " HVP k=" + k, engine.hessianProduct(sum, tc.theta(), vt), genericHvp(sum, tc.theta(), vt));
        ModelObjective nll = tc.objective(Reduction.NLL);
        assertRelClose(tc.name() + " NLL HVP k=" + k, engine.hessianProduct(nll, tc.theta(), vt), genericHvp(nll, tc.theta(), vt));
        assertRelClose(tc.name() + " GGN-vp k=" + k, engine.ggnProduct(sum, tc.theta(), vt), genericGgn(sum, tc.theta(), vt));
        INDArray ps = genericPerSample(sum, tc.theta());
        assertRelClose(tc.name() + " per-sample gradients", engine.perSampleGradients(tc.theta(), tc.x(), sum.preparedTargets().array(), 1.0), ps);
        assertRelClose(tc.name() + " per-sample gradient norms",
                engine.perSampleGradientNorms(tc.theta(), tc.x(), sum.preparedTargets().array(), 1.0), ps.norm2(1));
        INDArray ef = vt.mmul(ps.transpose()).mmul(ps);
        assertRelClose(tc.name() + " empirical Fisher product k=" + k, engine.empiricalFisherProduct(sum, tc.theta(), vt), ef);
    }

    @Test
    void workspacesServeOtherBatchSizesAndBlocksCorrectly() {
        Random rnd = new Random(3);
        Case big = randomCase(rnd, Activation.TANH, Losses.CROSS_ENTROPY, 7, 2);
        LayerProducts engine = new LayerProducts(big.model(), big.loss());
        long n = big.model().parameterCount();
        ModelObjective sum = big.objective(Reduction.SUM);
        // a second call at the same point with another k, then another batch size, then the first again: all exact
        for (int k : new int[] {3, 1, 16}) {
            INDArray vt = gaussian(rnd, 1.0, k, n);
            assertRelClose("k=" + k, engine.hessianProduct(sum, big.theta(), vt), genericHvp(sum, big.theta(), vt));
        }
        INDArray x2 = gaussian(rnd, 1.0, 2, big.model().inputSize());
        ModelObjective small = new ModelObjective(big.model(), big.loss(), x2, Nd4j.create(new double[] {0, 1}, new long[] {2}, DataType.DOUBLE),
                Reduction.SUM);
        INDArray v2 = gaussian(rnd, 1.0, 3, n);
        assertRelClose("B=2", engine.hessianProduct(small, big.theta(), v2), genericHvp(small, big.theta(), v2));
        assertRelClose("B=2 gradient", engine.gradient(small, big.theta()).gradient(), genericGradient(small, big.theta()));
        // new theta and data changed in place: the cache sees it
        INDArray theta2 = big.theta().mul(0.7);
        assertRelClose("theta changed", engine.hessianProduct(sum, theta2, v2), genericHvp(sum, theta2, v2));
        big.x().muli(1.3);
        ModelObjective moved = big.objective(Reduction.SUM);
        assertRelClose("x changed in place", engine.hessianProduct(moved, theta2, v2), genericHvp(moved, theta2, v2));
        assertRelClose("third batch size", engine.ggnProduct(small, theta2, v2), genericGgn(small, theta2, v2));
    }

    @Test
    void directionsGoThroughInChunksWhenTheBudgetIsSmall() {
        Random rnd = new Random(5);
        Case tc = randomCase(rnd, Activation.GELU, Losses.MSE, 40, 2);
        LayerProducts engine = new LayerProducts(tc.model(), tc.loss());
        assertTrue(engine.chunk(40, 16) >= 1);
        assertTrue(engine.chunk(2_000_000, 16) < 16, "a large batch splits the directions");
        engine.directionBudget(1);
        assertEquals(1, engine.chunk(40, 16));
        ModelObjective sum = tc.objective(Reduction.SUM);
        INDArray vt = gaussian(rnd, 1.0, 3, tc.model().parameterCount());
        assertRelClose("HVP one direction at a time", engine.hessianProduct(sum, tc.theta(), vt), genericHvp(sum, tc.theta(), vt));
        INDArray ps = genericPerSample(sum, tc.theta());
        assertRelClose("EF one direction at a time", engine.empiricalFisherProduct(sum, tc.theta(), vt), vt.mmul(ps.transpose()).mmul(ps));
    }

    /** The memory bound (chunk sizes, preflights) counts exactly what a direction workspace allocates. */
    @Test
    void directionWorkspacesHoldWhatTheMemoryBoundCounts() {
        for (int[] sizes : new int[][] {{4, 3}, {20, 64, 64}, {20, 64, 64, 3}, {10, 32, 32, 1}}) {
            Sequential model = Sequential.mlp(sizes, Activation.TANH);
            LayerShapes shapes = new LayerShapes(model, Losses.MSE);
            long[] widths = shapes.widths();
            assertArrayEquals(widths, LayerShapes.widths(model));
            for (int batch : new int[] {1, 150}) {
                for (int k : new int[] {1, 3}) {
                    try (DirectionPass d = new DirectionPass(shapes, batch, k)) {
                        long counted = k * DirectionPass.doublesPerDirection(widths, batch) + DirectionPass.fixedDoubles(widths, batch);
                        assertEquals(counted, d.allocatedDoubles(), model.describe() + " B=" + batch + " k=" + k);
                    }
                }
            }
        }
    }

    @Test
    void twoThreadsSharingOneEngineGetCorrectResults() throws Exception {
        Random rnd = new Random(9);
        Case a = randomCase(rnd, Activation.SIGMOID, Losses.MSE, 7, 2);
        LayerProducts engine = new LayerProducts(a.model(), a.loss());
        long n = a.model().parameterCount();
        ModelObjective sum = a.objective(Reduction.SUM);
        INDArray other = a.theta().mul(-0.5);
        INDArray v1 = gaussian(rnd, 1.0, 3, n);
        INDArray v2 = gaussian(rnd, 1.0, 1, n);
        INDArray e1 = genericHvp(sum, a.theta(), v1);
        INDArray e2 = genericGgn(sum, other, v2);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Boolean>> runs = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                boolean first = t == 0;
                runs.add(pool.submit(() -> {
                    for (int i = 0; i < 6; i++) {
                        INDArray r = first ? engine.hessianProduct(sum, a.theta(), v1) : engine.ggnProduct(sum, other, v2);
                        assertRelClose("thread " + (first ? 1 : 2), r, first ? e1 : e2);
                    }
                    return true;
                }));
            }
            for (Future<Boolean> f : runs) {
                assertTrue(f.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void refusesWhatItCannotDoAndSaysWhy() {
        Sequential m = Sequential.mlp(new int[] {3, 4, 2}, Activation.TANH);
        Loss custom = new Loss() {
            @Override
            public String name() {
                return "mine";
            }

            @Override
            public Tensor prepare(INDArray y, long outputs) {
                return Losses.MSE.prepare(y, outputs);
            }

            @Override
            public Tensor evaluate(Tensor f, Tensor y, Reduction r) {
                return Losses.MSE.evaluate(f, y, r);
            }

            @Override
            public Tensor perSample(Tensor f, Tensor y) {
                return Losses.MSE.perSample(f, y);
            }

            @Override
            public long normalizer(long n, long outputs) {
                return n;
            }
        };
        assertFalse(LayerProducts.supports(m, custom));
        assertTrue(LayerProducts.supports(m, Losses.MSE));
        assertTrue(ProductEngine.AUTO.select(m, custom) == null);
        assertTrue(ProductEngine.GENERIC.select(m, Losses.MSE) == null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ProductEngine.LAYERS.select(m, custom));
        assertTrue(e.getMessage().contains("'mine'"), e.getMessage());
        LayerProducts dense = new LayerProducts(m, Losses.MSE);
        ModelObjective obj = new ModelObjective(m, Losses.MSE, Nd4j.rand(DataType.DOUBLE, 5, 3), Nd4j.rand(DataType.DOUBLE, 5, 2), Reduction.MEAN);
        IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class,
                () -> dense.gradientInto(obj, m.initialParameters(1), Nd4j.zeros(DataType.DOUBLE, m.parameterCount() + 1)));
        assertTrue(wrong.getMessage().contains("gradient buffer"), wrong.getMessage());
        assertEquals(ProductEngine.LAYERS, ProductEngine.parse(" Layers "));
        assertThrows(IllegalArgumentException.class, () -> ProductEngine.parse("fast"));
        LayerProducts engine = new LayerProducts(m, Losses.MSE);
        assertThrows(IllegalArgumentException.class, () -> engine.hessianProduct(Nd4j.zeros(DataType.DOUBLE, m.parameterCount()),
                Nd4j.zeros(DataType.DOUBLE, 2, 3), Nd4j.zeros(DataType.DOUBLE, 2, 2), 1.0, Nd4j.zeros(DataType.DOUBLE, 2, 5)));
    }
}
