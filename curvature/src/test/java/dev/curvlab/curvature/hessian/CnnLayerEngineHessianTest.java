package dev.curvlab.curvature.hessian;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.check.Comparison;
import dev.curvlab.core.check.Tolerances;
import dev.curvlab.curvature.operator.CurvatureOperator;
import dev.curvlab.curvature.operator.GgnOperator;
import dev.curvlab.curvature.operator.HessianOperator;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import dev.curvlab.nn.products.ProductEngine;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The full Hessian of a CNN by AUTO, which runs blocks of Hessian-vector products on the layer
 * engine's module-chain path, against the blocked method on the generic engine (the oracle: core
 * autodiff's forward-over-reverse), to {@link Tolerances#EXACT}; the layer-engine operators' matmat
 * against the oracle's dense matrices; and the memory preflight counting the engine's working memory.
 */
class CnnLayerEngineHessianTest {

    static Sequential cnn() {
        return Sequential.imageBuilder(2, 6, 5).conv2d(3, new int[] {3, 3}, null, new int[] {1, 1}, Activation.TANH)
                .maxPool2d(new int[] {2, 2}, null).conv2d(2, new int[] {2, 2}, null, new int[] {1, 0}, Activation.SIGMOID).flatten()
                .dense(3, Activation.IDENTITY).build();
    }

    static Dataset data(Random rnd, int n) {
        double[] x = new double[n * 60];
        for (int i = 0; i < x.length; i++) {
            x[i] = rnd.nextGaussian();
        }
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            y[i] = rnd.nextInt(3);
        }
        return new Dataset(Nd4j.create(x, new long[] {n, 2, 6, 5}, DataType.DOUBLE), Nd4j.create(y, new long[] {n}, DataType.DOUBLE));
    }

    static void assertExact(String what, INDArray actual, INDArray expected) {
        double err = Comparison.relativeError(actual, expected);
        assertTrue(err <= Tolerances.EXACT, what + ": relative error " + err);
    }

    @Test
    void autoFullHessianOnTheLayerEngineEqualsTheGenericBlockedOne() throws Exception {
        Random rnd = new Random(31);
        Sequential model = cnn();
        Dataset d = data(rnd, 13);
        INDArray theta = model.initialParameters(7);
        HessianOperator layers = new HessianOperator(model, Losses.CROSS_ENTROPY, d, theta, 5);     // three batches: 5, 5, 3
        assertTrue(layers.usesLayerEngine());
        CurvatureOperator generic = new HessianOperator(model, Losses.CROSS_ENTROPY, d, theta, 5).useEngine(ProductEngine.GENERIC);
        FullHessian.Result auto = FullHessian.compute(layers, FullHessian.Options.defaults());
        FullHessian.Result oracle = FullHessian.compute(generic, FullHessian.Options.defaults().withMethod(HessianMethod.BLOCKED).withBlockSize(16));
        assertEquals(HessianMethod.BLOCKED, auto.method());
        assertExact("full Hessian, layer engine vs generic", auto.matrix(), oracle.matrix());
        assertTrue(auto.asymmetry() <= Tolerances.EXACT * auto.matrix().amaxNumber().doubleValue(), "asymmetry " + auto.asymmetry());
        long[] conv2 = model.parameterRange(2);
        FullHessian.Result block = FullHessian.compute(layers, FullHessian.Options.defaults().withLayer(2));
        assertExact("layer 2's block", block.matrix(), oracle.matrix().get(
                org.nd4j.linalg.indexing.NDArrayIndex.interval(conv2[0], conv2[1]), org.nd4j.linalg.indexing.NDArrayIndex.interval(conv2[0], conv2[1])));
    }

    @Test
    void layerEngineOperatorsMatchTheGenericDenseMatrices() throws Exception {
        Random rnd = new Random(32);
        Sequential model = cnn();
        Dataset d = data(rnd, 6);
        INDArray theta = model.initialParameters(8);
        GgnOperator ggn = new GgnOperator(model, Losses.CROSS_ENTROPY, d, theta, 0);
        assertTrue(ggn.usesLayerEngine());
        INDArray dense = FullHessian.compute(new GgnOperator(model, Losses.CROSS_ENTROPY, d, theta, 0).useEngine(ProductEngine.GENERIC),
                FullHessian.Options.defaults().withMethod(HessianMethod.BLOCKED)).matrix();
        INDArray v = Nd4j.randn(DataType.DOUBLE, model.parameterCount(), 4);
        assertExact("GGN matmat vs dense GGN", ggn.matmat(v), dense.mmul(v));
    }

    @Test
    void thePreflightCountsTheEnginesWorkingMemory() {
        Sequential model = cnn();
        Dataset d = data(new Random(33), 400);
        HessianOperator op = new HessianOperator(model, Losses.CROSS_ENTROPY, d, model.initialParameters(9), 0);
        double engine = FullHessian.engineBytes(op, 64);
        assertTrue(engine > 400 * 8.0 * 60, "the base state alone holds the inputs' patches: " + engine);
        long n = model.parameterCount();
        MemoryBudget tight = MemoryBudget.of((long) (8.0 * n * n + engine / 2));
        assertThrows(HessianTooLargeException.class, () -> FullHessian.compute(op, FullHessian.Options.defaults().withBudget(tight)));
    }
}
