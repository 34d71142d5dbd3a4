package dev.curvlab.curvature.operator;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.check.Tolerances;
import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.hessian.HessianMethod;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Init;
import dev.curvlab.nn.model.Sequential;
import dev.curvlab.nn.products.ProductEngine;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Every curvature operator on the layer engine against the same operator on the generic engine,
 * as dense matrices (products with identity blocks, data split into batches of 7 of 20 samples),
 * and the Hessian and GGN against the structured dense matrices; relative to the largest entry, to
 * {@link Tolerances#EXACT}.
 */
class OperatorEnginesTest {
    static final int N_SAMPLES = 20;

    record Setup(Sequential model, Loss loss, Dataset data, INDArray theta) {
    }

    static Setup setup(Loss loss, Activation act, int out) {
        Sequential m = Sequential.builder(3).dense(5, act).dense(4, act).dense(out, Activation.IDENTITY).build();
        INDArray theta = m.initialParameters(Init.XAVIER, 7).addi(OperatorsTest.randn(8, m.parameterCount()).muli(0.1));
        INDArray x = OperatorsTest.randn(9, N_SAMPLES, 3);
        INDArray y;
        if (loss == Losses.CROSS_ENTROPY) {
            return new Setup(m, loss, OperatorsTest.classification(10, N_SAMPLES, 3, out), theta);
        }
        y = loss == Losses.GAUSSIAN ? OperatorsTest.randn(11, N_SAMPLES, out / 2) : OperatorsTest.randn(11, N_SAMPLES, out);
        return new Setup(m, loss, new Dataset(x, y), theta);
    }

    static void assertRelClose(String what, INDArray actual, INDArray expected) {
        double scale = expected.amaxNumber().doubleValue();
        double err = actual.sub(expected).amaxNumber().doubleValue();
        assertTrue(err <= Tolerances.EXACT * scale, what + ": max |diff| " + err + " vs max |expected| " + scale);
    }

    static void compare(String name, Function<Setup, CurvatureOperator> make, Setup s, boolean structured) throws java.io.IOException {
        CurvatureOperator layers = make.apply(s).useEngine(ProductEngine.LAYERS);
        CurvatureOperator generic = make.apply(s).useEngine(ProductEngine.GENERIC);
        INDArray fast = layers.toDense(6);
        assertRelClose(name + ": layers vs generic engine", fast, generic.toDense(6));
        if (structured) {
            assertRelClose(name + ": layers vs structured matrix", fast, FullHessian.compute(make.apply(s), FullHessian.Options.defaults().withMethod(HessianMethod.STRUCTURED)).matrix());
        }
    }

    @Test
    void everyOperatorOnTheLayerEngineEqualsTheGenericEngineAndTheDenseMatrix() throws Exception {
        Setup ce = setup(Losses.CROSS_ENTROPY, Activation.TANH, 3);
        Setup gauss = setup(Losses.GAUSSIAN, Activation.SOFTPLUS, 2);
        for (Setup s : new Setup[] {ce, gauss}) {
            String tag = s.loss().name() + " ";
            compare(tag + "Hessian", p -> new HessianOperator(p.model(), p.loss(), p.data(), p.theta(), 7), s, true);
            compare(tag + "GGN", p -> new GgnOperator(p.model(), p.loss(), p.data(), p.theta(), 7), s, true);
            compare(tag + "observed Fisher", p -> new ObservedFisherOperator(p.model(), p.loss(), p.data(), p.theta(), 7), s, true);
            compare(tag + "empirical Fisher", p -> new EmpiricalFisherOperator(p.model(), p.loss(), p.data(), p.theta(), 7), s, false);
        }
    }

    @Test
    void autoUsesTheGenericEngineForCustomLossesAndLayersRefusesThem() {
        Setup s = setup(Losses.MSE, Activation.GELU, 2);
        Loss custom = new Loss() {
            @Override
            public String name() {
                return "custom-mse";
            }

            @Override
            public dev.curvlab.core.Tensor prepare(INDArray y, long outputs) {
                return Losses.MSE.prepare(y, outputs);
            }

            @Override
            public dev.curvlab.core.Tensor evaluate(dev.curvlab.core.Tensor f, dev.curvlab.core.Tensor y, dev.curvlab.nn.loss.Reduction r) {
                return Losses.MSE.evaluate(f, y, r);
            }

            @Override
            public dev.curvlab.core.Tensor perSample(dev.curvlab.core.Tensor f, dev.curvlab.core.Tensor y) {
                return Losses.MSE.perSample(f, y);
            }

            @Override
            public long normalizer(long n, long outputs) {
                return Losses.MSE.normalizer(n, outputs);
            }
        };
        INDArray viaCustom = new HessianOperator(s.model(), custom, s.data(), s.theta(), 0).toDense(8);
        INDArray viaLayers = new HessianOperator(s.model(), Losses.MSE, s.data(), s.theta(), 0).toDense(8);
        assertRelClose("custom loss (generic engine) vs built-in (layer engine)", viaLayers, viaCustom);
        assertThrows(IllegalArgumentException.class,
                () -> new HessianOperator(s.model(), custom, s.data(), s.theta(), 0).useEngine(ProductEngine.LAYERS));
    }

    @Test
    void twoThreadsUseOneOperatorAtOnce() throws Exception {
        Setup s = setup(Losses.MSE, Activation.TANH, 2);
        HessianOperator op = new HessianOperator(s.model(), s.loss(), s.data(), s.theta(), 0);
        INDArray dense = new HessianOperator(s.model(), s.loss(), s.data(), s.theta(), 0).useEngine(ProductEngine.GENERIC).toDense(8);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<?>> runs = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                int k = t == 0 ? 1 : 3;
                long seed = 20 + t;
                runs.add(pool.submit(() -> {
                    for (int i = 0; i < 5; i++) {
                        INDArray v = OperatorsTest.randn(seed + i, s.model().parameterCount(), k);
                        assertRelClose("thread k=" + k, op.matmat(v), dense.mmul(v));
                    }
                    return null;
                }));
            }
            for (Future<?> f : runs) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
