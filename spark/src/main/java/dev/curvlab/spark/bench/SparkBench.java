package dev.curvlab.spark.bench;

import dev.curvlab.core.NativeSettings;
import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.hessian.HessianMethod;
import dev.curvlab.curvature.operator.CurvatureOperator;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.io.ModelSpec;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import dev.curvlab.spark.data.Shard;
import dev.curvlab.spark.data.ShardedData;
import dev.curvlab.spark.hessian.DistributedHessian;
import dev.curvlab.spark.operator.DistributedOperator;
import dev.curvlab.spark.operator.OperatorKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Spark scaling figures (one process; medians of repeated runs after a warm-up):
 * <ol>
 * <li>one HVP over n samples (MLP 10-32-32-1 tanh, mse, batches of 4,096 inside partitions): the
 *     single-machine HessianOperator with 1 and 2 BLAS threads, and the DistributedOperator on
 *     local[1] and local[2] (one BLAS thread per task, one partition per core): throughput and the
 *     overhead of Spark at equal cores;</li>
 * <li>a banded dense Hessian (MLP 20-64-64-3 tanh, ce, 256 samples, N = 5,699): structured layer
 *     bands and blocked bands on local[2] against the single-machine structured matrix: per-band
 *     and per-row costs, for the cluster estimates in the README.</li>
 * </ol>
 * {@code java ... dev.curvlab.spark.bench.SparkBench [samples=1000000] [repeats=5] [hvp,bands]} (bin/curvlab-spark's JVM flags; see README).
 */
public final class SparkBench {
    private SparkBench() {
    }

    public static void main(String[] args) throws Exception {
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("curvlab.cli.logging", "true");   // libraries at WARN, as in the CLI
        }
        int samples = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        NativeSettings.retainFreedMemory();
        String parts = args.length > 2 ? args[2] : "hvp,bands";
        if (parts.contains("hvp")) {
            hvp(samples, repeats);
        }
        if (parts.contains("bands")) {
            bands(repeats);
        }
    }

    static void hvp(int samples, int repeats) {
        ModelSpec spec = new ModelSpec(Sequential.mlp(new int[] {10, 32, 32, 1}, Activation.TANH), Losses.MSE);
        Dataset data = random(spec, samples, 1);
        INDArray theta = spec.model().initialParameters(3);
        INDArray v = Nd4j.rand(DataType.DOUBLE, theta.length(), 1);
        int batch = 4096;
        System.out.printf(Locale.ROOT, "HVP over n = %,d samples, N = %d, batch %d%n", samples, theta.length(), batch);
        double[] single = new double[3];
        for (int threads : new int[] {1, 2}) {
            NativeSettings.threads(threads, 1);
            CurvatureOperator op = OperatorKind.HESSIAN.build(spec.model(), spec.loss(), data, theta, batch);
            single[threads] = median(repeats, () -> op.matmat(v));
            System.out.printf(Locale.ROOT, "  single machine, %d BLAS thread(s): %.3f s (%,.0f samples/s)%n", threads, single[threads], samples / single[threads]);
        }
        for (int cores : new int[] {1, 2}) {
            SparkSession spark = session("local[" + cores + "]");
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            try (ShardedData sharded = ShardedData.of(sc, data, cores);
                    DistributedOperator op = new DistributedOperator(sc, sharded, OperatorKind.HESSIAN, spec, theta, batch)) {
                double t = median(repeats, () -> op.matmat(v));
                System.out.printf(Locale.ROOT, "  Spark local[%d], %d partition(s), 1 BLAS thread per task: %.3f s (%,.0f samples/s); Spark / single machine"
                        + " at %d core(s): %.2fx%n", cores, cores, t, samples / t, cores, t / single[cores]);
            } finally {
                spark.stop();
            }
        }
    }

    static void bands(int repeats) throws Exception {
        ModelSpec spec = new ModelSpec(Sequential.mlp(new int[] {20, 64, 64, 3}, Activation.TANH), Losses.CROSS_ENTROPY);
        Dataset data = random(spec, 256, 2);
        INDArray theta = spec.model().initialParameters(5);
        long n = theta.length();
        NativeSettings.threads(2, 1);
        CurvatureOperator op = OperatorKind.HESSIAN.build(spec.model(), spec.loss(), data, theta, 0);
        double structured = median(Math.min(3, repeats), () -> {
            try {
                FullHessian.compute(op, FullHessian.Options.defaults().withMethod(HessianMethod.STRUCTURED)).matrix().close();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        System.out.printf(Locale.ROOT, "dense Hessian, N = %d, 256 samples: single machine structured %.3f s%n", n, structured);
        SparkSession spark = session("local[2]");
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        try {
            for (HessianMethod m : new HessianMethod[] {HessianMethod.STRUCTURED, HessianMethod.BLOCKED}) {
                int bandRows = 256;
                double[] times = new double[Math.min(3, repeats)];
                int bands = 0;
                for (int r = 0; r < times.length; r++) {
                    Path dir = Files.createTempDirectory("curvlab-bands");
                    var result = DistributedHessian.compute(sc, Shard.of(data), OperatorKind.HESSIAN, spec, theta, dir.toString(),
                            DistributedHessian.Options.defaults().withMethod(m).withBandRows(bandRows));
                    times[r] = result.seconds();
                    bands = result.manifest().bands().size();
                    deleteTree(dir);
                    if (m == HessianMethod.BLOCKED) {
                        break;   // one run: it takes a while
                    }
                }
                double t = m == HessianMethod.BLOCKED ? times[0] : medianOf(times);
                System.out.printf(Locale.ROOT, "  Spark local[2] %s: %d bands, %.3f s (%.2f ms per row, %.1f s per band on 1 core)%n", m.name().toLowerCase(Locale.ROOT),
                        bands, t, 1000 * t / n, 2 * t / bands);
            }
        } finally {
            spark.stop();
        }
    }

    static SparkSession session(String master) {
        SparkConf conf = new SparkConf().setMaster(master).setAppName("curvlab-bench").set("spark.ui.enabled", "false")
                .set("spark.ui.showConsoleProgress", "false").set("spark.curvlab.blasThreads", "1");
        return SparkSession.builder().config(conf).getOrCreate();
    }

    static Dataset random(ModelSpec spec, int n, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.randn(DataType.DOUBLE, n, spec.model().inputSize());
        Loss loss = spec.loss();
        INDArray y = loss == Losses.CROSS_ENTROPY ? Nd4j.rand(DataType.DOUBLE, n).muli(spec.model().outputSize()).castTo(DataType.INT32).castTo(DataType.DOUBLE)
                : Nd4j.randn(DataType.DOUBLE, n, spec.model().outputSize());
        return new Dataset(x, y);
    }

    static double median(int repeats, Runnable work) {
        work.run();   // warm-up
        double[] t = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            work.run();
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        return medianOf(t);
    }

    static double medianOf(double[] t) {
        double[] s = t.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    static void deleteTree(Path dir) throws java.io.IOException {
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
