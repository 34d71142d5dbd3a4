package dev.curvlab.spark.operator;

import dev.curvlab.core.NativeSettings;
import dev.curvlab.nn.io.ModelFile;
import dev.curvlab.nn.io.ModelSpec;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.model.Sequential;
import java.io.Serializable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What every task needs besides its rows, shipped once per executor as a broadcast variable: the
 * model and loss as their model-file JSON, the parameters as {@code double[]}, the batch size
 * inside products, and the BLAS threads per task. The ND4J objects are rebuilt on first use in
 * each executor JVM (and shared by its tasks, read-only).
 */
public final class ModelBroadcast implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Object SETUP = new Object();
    private static volatile int configuredThreads;

    private final String modelJson;
    private final double[] theta;
    private final int batchSize;
    private final int blasThreads;
    private transient volatile Built built;

    private record Built(Sequential model, Loss loss, INDArray theta) {
    }

    /**
     * @param blasThreads BLAS threads per task (cores of an executor over its concurrent tasks), at least 1
     */
    public ModelBroadcast(ModelSpec spec, INDArray theta, int batchSize, int blasThreads) {
        this.modelJson = ModelFile.formatSpec(spec);
        this.theta = theta.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        this.batchSize = batchSize;
        this.blasThreads = Math.max(1, blasThreads);
    }

    /** float64 ND4J defaults and this job's BLAS threads in the executor JVM (once). */
    public void prepareExecutor() {
        if (configuredThreads != blasThreads) {
            synchronized (SETUP) {
                if (configuredThreads != blasThreads) {
                    Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
                    NativeSettings.threads(blasThreads, 1);
                    configuredThreads = blasThreads;
                }
            }
        }
    }

    private Built built() {
        Built b = built;
        if (b == null) {
            synchronized (this) {
                if (built == null) {
                    prepareExecutor();
                    ModelSpec spec;
                    try {
                        spec = ModelFile.parseSpec(modelJson, "broadcast model");
                    } catch (dev.curvlab.nn.io.ModelFormatException e) {
                        throw new IllegalStateException("cannot rebuild the broadcast model: " + e.getMessage(), e);
                    }
                    built = new Built(spec.model(), spec.loss(), Nd4j.create(theta, new long[] {theta.length}, DataType.DOUBLE));
                }
                b = built;
            }
        }
        return b;
    }

    public Sequential model() {
        return built().model();
    }

    public Loss loss() {
        return built().loss();
    }

    /** theta {@code [N]} (shared: do not modify). */
    public INDArray theta() {
        return built().theta();
    }

    public int batchSize() {
        return batchSize;
    }

    public long parameterCount() {
        return theta.length;
    }

    /** The model JSON (for fingerprints). */
    public String modelJson() {
        return modelJson;
    }

    /** The parameters (for fingerprints; do not modify). */
    double[] thetaValues() {
        return theta;
    }
}
