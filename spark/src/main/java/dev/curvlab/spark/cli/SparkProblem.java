package dev.curvlab.spark.cli;

import dev.curvlab.nn.io.ModelFile;
import dev.curvlab.nn.io.ModelSpec;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.spark.data.HadoopFiles;
import dev.curvlab.spark.data.InvalidDataException;
import dev.curvlab.spark.data.Shard;
import dev.curvlab.spark.data.ShardedData;
import dev.curvlab.spark.operator.ModelBroadcast;
import dev.curvlab.spark.data.SparkDataSources;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A command's inputs, read and validated before any curvature work: the model (and loss), its
 * parameters, and the data as Spark partitions (validated against the model and loss on the
 * executors). Paths go through Hadoop's FileSystem API, so they may be local or on HDFS/S3.
 */
record SparkProblem(ModelSpec spec, INDArray theta, ShardedData data, int batchSize) implements AutoCloseable {

    static SparkProblem load(SparkSession spark, SparkSubcommand o) throws IOException {
        ModelSpec spec = readSpec(o.model, o.loss);
        INDArray theta = readParameters(o.params, spec);
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        boolean classIndices = spec.loss().name().equals("ce");
        ShardedData data;
        if (o.data != null) {
            List<String> targets = o.target == null ? List.of() : Arrays.asList(o.target.split(","));
            data = SparkDataSources.table(spark, o.data, o.format, targets, classIndices, o.partitions);
        } else {
            data = SparkDataSources.npy(sc, o.x, o.y, o.partitions);
        }
        String where = o.data != null ? o.data : o.x;
        if (data.inputs() != spec.model().inputSize()) {
            data.close();
            throw new InvalidDataException(where + ": has " + data.inputs() + " input columns but model " + spec.model().describe() + " takes "
                    + spec.model().inputSize() + " inputs");
        }
        if (classIndices != (data.targetWidth() == 0)) {
            data.close();
            throw new InvalidDataException((o.data != null ? o.data : o.y) + ": " + (classIndices ? "the ce loss needs class indices [n]"
                    : "the " + spec.loss().name() + " loss needs targets [n, k], not class indices [n]"));
        }
        ModelBroadcast model = new ModelBroadcast(spec, theta, 0, 1);
        try {
            data.validate(o.data != null ? o.data : o.y, rows -> targetProblem(model, rows));
        } catch (RuntimeException e) {
            data.close();
            throw e;
        }
        return new SparkProblem(spec, theta, data, o.batchSize);
    }

    /** On an executor: what the loss finds wrong with the partition's targets (class out of range, wrong width), or null. */
    private static String targetProblem(ModelBroadcast m, Shard rows) {
        m.prepareExecutor();
        try {
            m.loss().prepare(rows.toDataset().y(), m.model().outputSize());
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    long parameterCount() {
        return theta.length();
    }

    private static ModelSpec readSpec(String file, String lossName) throws IOException {
        String json = HadoopFiles.readText(file);
        if (json == null) {
            throw new InvalidDataException(file + ": file does not exist (--model)");
        }
        ModelSpec spec = ModelFile.parseSpec(json, file);
        Loss loss = spec.loss();
        if (lossName != null) {
            try {
                loss = Losses.parse(lossName);
                spec = new ModelSpec(spec.model(), loss);
            } catch (IllegalArgumentException e) {
                throw new InvalidDataException("--loss " + lossName + ": " + e.getMessage(), e);
            }
        }
        if (loss == null) {
            throw new InvalidDataException(file + ": the model has no \"loss\"; add one (mse, ce, bce, gaussian, poisson) or pass --loss NAME");
        }
        return spec;
    }

    private static INDArray readParameters(String file, ModelSpec spec) throws IOException {
        INDArray theta;
        try {
            theta = HadoopFiles.readNpy(file);
        } catch (java.io.FileNotFoundException | java.nio.file.NoSuchFileException e) {
            throw new InvalidDataException(file + ": file does not exist (--params)", e);
        }
        long n = spec.model().parameterCount();
        if (theta.rank() != 1 || theta.length() != n) {
            throw new InvalidDataException(file + ": parameters must be [" + n + "] for model " + spec.model().describe() + ", got shape "
                    + Arrays.toString(theta.shape()));
        }
        for (long i = 0; i < n; i++) {
            if (!Double.isFinite(theta.getDouble(i))) {
                throw new InvalidDataException(file + ": parameter " + i + " is " + theta.getDouble(i) + " (parameters must be finite)");
            }
        }
        return theta;
    }

    @Override
    public void close() {
        data.close();
    }
}
