package dev.curvlab.spark.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.check.Comparison;
import dev.curvlab.core.check.Tolerances;
import dev.curvlab.curvature.inference.FisherInference;
import dev.curvlab.curvature.operator.CurvatureOperator;
import dev.curvlab.curvature.spectrum.EigenResult;
import dev.curvlab.curvature.spectrum.Lanczos;
import dev.curvlab.curvature.spectrum.EigensolverOptions;
import dev.curvlab.curvature.spectrum.TraceEstimator;
import dev.curvlab.curvature.spectrum.TraceOptions;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.io.ModelSpec;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.spark.LocalSpark;
import dev.curvlab.spark.data.ShardedData;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Every distributed product equals the single-machine operator's on the same data (oracle: the
 * curvature module's operators; a second path, since sums are split by partition and rescaled), to
 * {@link Tolerances#EXACT}, on uneven partitions with an empty one.
 */
class DistributedOperatorTest {
    private static SparkSession spark;
    private static JavaSparkContext sc;

    /** Uneven partitions, one of them empty, batch size 4 inside partitions. */
    private static final long[] UNEVEN = {11, 0, 17, 9};

    @BeforeAll
    static void start() {
        spark = LocalSpark.start("local[2]");
        sc = LocalSpark.context(spark);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void everyKindEqualsTheSingleMachineOperatorOnUnevenPartitions() {
        ModelSpec spec = LocalSpark.spec(new int[] {3, 5, 3}, Activation.TANH, Losses.CROSS_ENTROPY);
        Dataset data = LocalSpark.data(spec, 37, 1);
        INDArray theta = spec.model().initialParameters(7);
        INDArray v = Nd4j.rand(DataType.DOUBLE, theta.length(), 3).subi(0.5);
        try (ShardedData sharded = ShardedData.of(sc, data, UNEVEN)) {
            for (OperatorKind kind : OperatorKind.values()) {
                CurvatureOperator single = kind.build(spec.model(), spec.loss(), data, theta, 0);
                try (DistributedOperator distributed = new DistributedOperator(sc, sharded, kind, spec, theta, 4)) {
                    INDArray expected = single.matmat(v);
                    INDArray actual = distributed.matmat(v);
                    assertTrue(Comparison.close(actual, expected, Tolerances.EXACT), Comparison.describe(kind.title(), actual, expected, Tolerances.EXACT));
                }
            }
        }
    }

    @Test
    void mseAndObservedFisherNormalisationOverEvenPartitions() {
        ModelSpec spec = LocalSpark.spec(new int[] {4, 6, 2}, Activation.SIGMOID, Losses.MSE);
        Dataset data = LocalSpark.data(spec, 50, 2);
        INDArray theta = spec.model().initialParameters(3);
        try (ShardedData sharded = ShardedData.of(sc, data, 3)) {
            for (OperatorKind kind : new OperatorKind[] {OperatorKind.HESSIAN, OperatorKind.OBSERVED_FISHER}) {
                INDArray expected = kind.build(spec.model(), spec.loss(), data, theta, 0).toDense(64);
                try (DistributedOperator distributed = new DistributedOperator(sc, sharded, kind, spec, theta, 0)) {
                    INDArray actual = distributed.toDense(64);
                    assertTrue(Comparison.close(actual, expected, Tolerances.EXACT), Comparison.describe(kind.title(), actual, expected, Tolerances.EXACT));
                }
            }
        }
    }

    @Test
    void gradientEqualsTheMeanLossGradient() {
        ModelSpec spec = LocalSpark.spec(new int[] {3, 4, 2}, Activation.TANH, Losses.MSE);
        Dataset data = LocalSpark.data(spec, 29, 4);
        INDArray theta = spec.model().initialParameters(5);
        ModelObjective f = new ModelObjective(spec.model(), spec.loss(), data, Reduction.MEAN);
        try (ShardedData sharded = ShardedData.of(sc, data, new long[] {0, 20, 9})) {
            DistributedGradient.Result r = DistributedGradient.meanLoss(sc, sharded, spec, theta, 6);
            assertEquals(f.value(theta), r.loss(), Tolerances.EXACT * Math.abs(f.value(theta)));
            INDArray g = f.gradient(theta);
            assertTrue(Comparison.close(r.gradient(), g, Tolerances.EXACT), Comparison.describe("gradient", r.gradient(), g, Tolerances.EXACT));
        }
    }

    @Test
    void estimatorsRunUnchangedOnTheDriver() {
        ModelSpec spec = LocalSpark.spec(new int[] {2, 4, 1}, Activation.TANH, Losses.BCE);
        Dataset data = LocalSpark.data(spec, 40, 6);
        INDArray theta = spec.model().initialParameters(8);
        try (ShardedData sharded = ShardedData.of(sc, data, new long[] {25, 15})) {
            CurvatureOperator single = OperatorKind.HESSIAN.build(spec.model(), spec.loss(), data, theta, 0);
            try (DistributedOperator distributed = new DistributedOperator(sc, sharded, OperatorKind.HESSIAN, spec, theta, 0)) {
                EigensolverOptions lo = EigensolverOptions.defaults().withSeed(3);
                EigenResult a = Lanczos.extremal(distributed, 2, Lanczos.Which.LARGEST, lo);
                EigenResult b = Lanczos.extremal(single, 2, Lanczos.Which.LARGEST, lo);
                for (int i = 0; i < 2; i++) {
                    assertEquals(b.values()[i], a.values()[i], 1e-10 * Math.abs(b.values()[i]));
                }
                TraceOptions to = new TraceOptions(8, 5, dev.curvlab.curvature.progress.ProgressListener.NONE);
                assertEquals(TraceEstimator.hutchPlusPlus(single, to).value(), TraceEstimator.hutchPlusPlus(distributed, to).value(), 1e-10);
            }
        }
        // logistic regression: the observed Fisher X~^T diag(p(1-p)) X~ is positive definite at any theta
        ModelSpec logistic = LocalSpark.spec(new int[] {3, 1}, Activation.TANH, Losses.BCE);
        Dataset d2 = LocalSpark.data(logistic, 30, 9);
        INDArray th2 = logistic.model().initialParameters(1);
        try (ShardedData sharded = ShardedData.of(sc, d2, new long[] {7, 23});
                DistributedOperator fisher = new DistributedOperator(sc, sharded, OperatorKind.OBSERVED_FISHER, logistic, th2, 0)) {
            INDArray se = FisherInference.standardErrors(fisher.toDense(64));
            INDArray expected = FisherInference.standardErrors(OperatorKind.OBSERVED_FISHER.build(logistic.model(), logistic.loss(), d2, th2, 0).toDense(64));
            assertTrue(Comparison.close(se, expected, 1e-10), Comparison.describe("standard errors", se, expected, 1e-10));
        }
    }
}
