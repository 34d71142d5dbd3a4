package dev.curvlab.spark.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.curvlab.core.check.Comparison;
import dev.curvlab.core.check.Tolerances;
import dev.curvlab.curvature.kfac.Kfac;
import dev.curvlab.curvature.kfac.KfacFactors;
import dev.curvlab.curvature.kfac.KfacVariant;
import dev.curvlab.curvature.laplace.Laplace;
import dev.curvlab.curvature.laplace.Structure;
import dev.curvlab.curvature.laplace.Subset;
import dev.curvlab.curvature.progress.ProgressListener;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.io.ModelSpec;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.spark.LocalSpark;
import dev.curvlab.spark.data.ShardedData;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * KFAC factors and the kron Laplace evidence over Spark partitions equal the single-machine
 * {@link Kfac#compute} and {@link Laplace#fit} on the whole data set (a second path: per-partition
 * factors rescaled by n_p/n and Z_p/Z and summed), on uneven partitions with an empty one.
 */
class DistributedKfacTest {
    private static final long[] UNEVEN = {11, 0, 17, 9};
    private static SparkSession spark;
    private static JavaSparkContext sc;

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
    void exactAndEmpiricalFactorsEqualTheSingleMachineOnUnevenPartitions() {
        ModelSpec ce = LocalSpark.spec(new int[] {3, 5, 4}, Activation.TANH, Losses.CROSS_ENTROPY);
        ModelSpec mse = LocalSpark.spec(new int[] {4, 6, 2}, Activation.SIGMOID, Losses.MSE);
        for (ModelSpec spec : new ModelSpec[] {ce, mse}) {
            Dataset data = LocalSpark.data(spec, 37, 1);
            INDArray theta = spec.model().initialParameters(7);
            try (ShardedData sharded = ShardedData.of(sc, data, UNEVEN)) {
                for (KfacVariant variant : new KfacVariant[] {KfacVariant.EXACT, KfacVariant.EMPIRICAL}) {
                    Kfac.Options o = new Kfac.Options(variant, 1, 0, false);
                    assertSameFactors(spec.loss().name() + " " + variant, DistributedKfac.compute(sc, sharded, spec, theta, o),
                            Kfac.compute(spec.model(), spec.loss(), data, theta, o));
                }
                Kfac.Options last = Kfac.Options.exact();
                assertSameFactors(spec.loss().name() + " last layer", DistributedKfac.compute(sc, sharded, spec, theta, last, 1),
                        Kfac.compute(spec.model(), spec.loss(), data, theta, last, 1, ProgressListener.NONE));
            }
        }
    }

    @Test
    void kronEvidenceEqualsTheSingleMachineLaplace() throws Exception {
        ModelSpec ce = LocalSpark.spec(new int[] {3, 5, 4}, Activation.TANH, Losses.CROSS_ENTROPY);
        ModelSpec mse = LocalSpark.spec(new int[] {4, 6, 2}, Activation.SIGMOID, Losses.MSE);
        for (ModelSpec spec : new ModelSpec[] {ce, mse}) {
            Dataset data = LocalSpark.data(spec, 37, 2);
            INDArray theta = spec.model().initialParameters(3);
            for (Subset subset : Subset.values()) {
                Laplace.Options o = Laplace.Options.of(Structure.KRON, subset, 0.7).withSigma(0.8);
                try (ShardedData sharded = ShardedData.of(sc, data, UNEVEN)) {
                    double expected = Laplace.fit(spec.model(), spec.loss(), data, theta, o, ProgressListener.NONE).logMarginalLikelihood();
                    double actual = DistributedKfac.kronLaplace(sc, sharded, spec, theta, o).logMarginalLikelihood();
                    assertEquals(expected, actual, 1e-10 * Math.max(1, Math.abs(expected)), spec.loss().name() + " " + subset);
                }
            }
        }
    }

    @Test
    void ekfacIsRefusedWithOneLine() {
        ModelSpec spec = LocalSpark.spec(new int[] {3, 4, 2}, Activation.TANH, Losses.MSE);
        Dataset data = LocalSpark.data(spec, 8, 3);
        try (ShardedData sharded = ShardedData.of(sc, data, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DistributedKfac.compute(sc, sharded, spec,
                    spec.model().initialParameters(1), new Kfac.Options(KfacVariant.EXACT, 1, 0, true)));
            assertTrue(e.getMessage().contains("--ekfac"), e.getMessage());
        }
    }

    private static void assertSameFactors(String what, KfacFactors actual, KfacFactors expected) {
        assertEquals(expected.layers(), actual.layers(), what);
        for (int l = 0; l < expected.layers(); l++) {
            assertTrue(Comparison.close(actual.a().get(l), expected.a().get(l), Tolerances.EXACT),
                    Comparison.describe(what + " A_" + l, actual.a().get(l), expected.a().get(l), Tolerances.EXACT));
            assertTrue(Comparison.close(actual.g().get(l), expected.g().get(l), Tolerances.EXACT),
                    Comparison.describe(what + " G_" + l, actual.g().get(l), expected.g().get(l), Tolerances.EXACT));
        }
    }
}
