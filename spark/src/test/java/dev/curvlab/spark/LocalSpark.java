package dev.curvlab.spark;

import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.io.ModelSpec;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import java.util.Random;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** A local Spark session for one test class (start in @BeforeAll, stop in @AfterAll) and small random problems. */
public final class LocalSpark {
    private LocalSpark() {
    }

    /** A session on {@code master} (local[2]; local[2,2] lets each task fail once and be retried). */
    public static SparkSession start(String master) {
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        SparkConf conf = new SparkConf().setMaster(master).setAppName("curvlab-test")
                .set("spark.ui.enabled", "false")
                .set("spark.ui.showConsoleProgress", "false")
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.bindAddress", "127.0.0.1")
                .set("spark.sql.shuffle.partitions", "2")
                .set("spark.sql.adaptive.enabled", "false");
        return SparkSession.builder().config(conf).getOrCreate();
    }

    public static JavaSparkContext context(SparkSession s) {
        return JavaSparkContext.fromSparkContext(s.sparkContext());
    }

    /** A model with its loss. */
    public static ModelSpec spec(int[] sizes, Activation hidden, Loss loss) {
        return new ModelSpec(Sequential.mlp(sizes, hidden), loss);
    }

    /** n random samples for the model: Gaussian inputs; class indices for ce, else Gaussian (or counts, 0/1) targets. */
    public static Dataset data(ModelSpec spec, int n, long seed) {
        Random r = new Random(seed);
        int d = spec.model().inputSize();
        int out = spec.model().outputSize();
        INDArray x = Nd4j.zeros(DataType.DOUBLE, n, d);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                x.putScalar(i, j, r.nextGaussian());
            }
        }
        String loss = spec.loss().name();
        INDArray y;
        if (loss.equals("ce")) {
            y = Nd4j.zeros(DataType.DOUBLE, n);
            for (int i = 0; i < n; i++) {
                y.putScalar(i, r.nextInt(out));
            }
        } else {
            int k = loss.equals("gaussian") ? out / 2 : out;
            y = Nd4j.zeros(DataType.DOUBLE, n, k);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < k; j++) {
                    double g = r.nextGaussian();
                    y.putScalar(i, j, loss.equals("bce") ? (g > 0 ? 1 : 0) : loss.equals("poisson") ? Math.floor(Math.abs(3 * g)) : g);
                }
            }
        }
        return new Dataset(x, y);
    }
}
