package dev.curvlab.spark.operator;

import dev.curvlab.curvature.operator.CurvatureOperator;
import dev.curvlab.curvature.operator.LinearOperator;
import dev.curvlab.nn.io.ModelSpec;
import dev.curvlab.spark.data.Shard;
import dev.curvlab.spark.data.ShardedData;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A curvature matrix ({@link OperatorKind}) of a model's loss over a data set held as Spark
 * partitions, as a {@link LinearOperator}: Lanczos, Hutch++, SLQ and Fisher inference run on it
 * unchanged on the driver.
 *
 * <p>{@code A V = c(n) sum_p S_p V}, with {@code S_p V} the sum of the batch products over partition
 * p's rows. Each executor builds the single-machine operator of the kind on its partition (which
 * returns {@code c_p S_p V}, normalised for its own {@code n_p} rows) and scales it by
 * {@code c(n) / c_p}; the partitions' results are added by {@code treeAggregate}. The parameters are
 * broadcast once; each block of probes {@code V [N, k]} is broadcast as a {@code double[]} for its
 * product and destroyed after it.
 */
public final class DistributedOperator extends LinearOperator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DistributedOperator.class);

    private final JavaSparkContext sc;
    private final ShardedData data;
    private final OperatorKind kind;
    private final Broadcast<ModelBroadcast> model;
    private final long n;
    private final double scale;
    private final int depth;
    private long products;

    /**
     * @param batchSize samples per batch inside each partition's products (0: the partition at once)
     */
    public DistributedOperator(JavaSparkContext sc, ShardedData data, OperatorKind kind, ModelSpec spec, INDArray theta, int batchSize) {
        spec.model().validate(theta.shape(), new long[] {1, data.inputs()});
        if (spec.loss() == null) {
            throw new IllegalArgumentException("the model has no loss");
        }
        this.sc = sc;
        this.data = data;
        this.kind = kind;
        this.n = theta.length();
        this.model = sc.broadcast(new ModelBroadcast(spec, theta, batchSize, TaskThreads.perTask(sc)));
        this.scale = kind.scale(spec.loss(), data.samples(), spec.model().outputSize());
        this.depth = 2;
    }

    @Override
    public long size() {
        return n;
    }

    @Override
    protected INDArray apply(INDArray v) {
        int k = (int) v.size(1);
        long t0 = System.nanoTime();
        Broadcast<double[]> probes = sc.broadcast(v.dup('c').data().asDouble());
        try {
            Broadcast<ModelBroadcast> m = model;
            OperatorKind kd = kind;
            double c = scale;
            long size = n;
            double[] sum = SumAggregation.sum(data.shards(), rows -> partitionProduct(kd, m.value(), rows, probes.value(), size, k, c),
                    Math.toIntExact(n * k), depth);
            products++;
            LOG.debug("{} product over {} partitions, k = {}: {} ms", kind.title(), data.partitions(), k, (System.nanoTime() - t0) / 1_000_000);
            return Nd4j.create(sum, new long[] {n, k}, DataType.DOUBLE);
        } finally {
            probes.destroy();
        }
    }

    /**
     * The single-machine operators built on this executor, by the partition rows they were built on
     * (the cached partition object, so identity; weakly: an operator goes when its rows are
     * unpersisted). An operator is reused by later products while the parameters' broadcast and the
     * kind are the same, so a product does not copy and re-batch the rows again.
     */
    private static final Map<Shard, PartitionOperator> BUILT = Collections.synchronizedMap(new WeakHashMap<>());

    private record PartitionOperator(ModelBroadcast model, OperatorKind kind, CurvatureOperator operator) {
    }

    private static CurvatureOperator operator(OperatorKind kind, ModelBroadcast m, Shard rows) {
        PartitionOperator p = BUILT.get(rows);
        if (p == null || p.model() != m || p.kind() != kind) {
            p = new PartitionOperator(m, kind, kind.build(m.model(), m.loss(), rows.toDataset(), m.theta(), m.batchSize()));
            BUILT.put(rows, p);
        }
        return p.operator();
    }

    /** On an executor: {@code c(n) S_p V} for one partition, row-major {@code [N, k]}. */
    static double[] partitionProduct(OperatorKind kind, ModelBroadcast m, Shard rows, double[] probes, long n, int k, double globalScale) {
        m.prepareExecutor();
        CurvatureOperator op = operator(kind, m, rows);
        INDArray v = Nd4j.create(probes, new long[] {n, k}, DataType.DOUBLE);
        INDArray av = op.matmat(v).muli(globalScale / op.normalization());
        return av.dup('c').data().asDouble();
    }

    public OperatorKind kind() {
        return kind;
    }

    /** Products computed so far (each one pass over the data). */
    public long products() {
        return products;
    }

    public ShardedData data() {
        return data;
    }

    /** Releases the parameters' broadcast (the data stay cached: {@link ShardedData#close}). */
    @Override
    public void close() {
        model.destroy();
    }
}
