package dev.curvlab.spark.operator;

import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.io.ModelSpec;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.spark.data.Shard;
import dev.curvlab.spark.data.ShardedData;
import java.util.Arrays;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The mean loss and its gradient over a data set held as Spark partitions: each executor sums the
 * summed-loss gradients of its batches (and the summed loss), the sums are added by
 * {@code treeAggregate}, and the driver divides by the mean normaliser {@code Z(n)}.
 */
public final class DistributedGradient {
    private DistributedGradient() {
    }

    /** The mean loss and its gradient {@code [N]}. */
    public record Result(double loss, INDArray gradient) {
    }

    public static Result meanLoss(JavaSparkContext sc, ShardedData data, ModelSpec spec, INDArray theta, int batchSize) {
        spec.model().validate(theta.shape(), new long[] {1, data.inputs()});
        Broadcast<ModelBroadcast> m = sc.broadcast(new ModelBroadcast(spec, theta, batchSize, TaskThreads.perTask(sc)));
        try {
            int n = (int) theta.length();
            double[] sum = SumAggregation.sum(data.shards(), rows -> summedLossGradient(m.value(), rows), n + 1, 2);
            double scale = 1.0 / spec.loss().normalizer(data.samples(), spec.model().outputSize());
            INDArray g = Nd4j.create(Arrays.copyOf(sum, n), new long[] {n}, DataType.DOUBLE).muli(scale);
            return new Result(sum[n] * scale, g);
        } finally {
            m.destroy();
        }
    }

    /** On an executor: {@code [grad of sum_i loss_i (N values), sum_i loss_i]} over the partition's rows, batch by batch. */
    static double[] summedLossGradient(ModelBroadcast m, Shard rows) {
        m.prepareExecutor();
        Dataset d = rows.toDataset();
        int total = d.n();
        int b = m.batchSize() <= 0 || m.batchSize() >= total ? total : m.batchSize();
        INDArray g = null;
        double loss = 0;
        for (int start = 0; start < total; start += b) {
            int end = Math.min(total, start + b);
            INDArray xb = d.x().get(NDArrayIndex.interval(start, end), NDArrayIndex.all()).dup('c');
            INDArray yb = (d.y().rank() == 1 ? d.y().get(NDArrayIndex.interval(start, end))
                    : d.y().get(NDArrayIndex.interval(start, end), NDArrayIndex.all())).dup('c');
            ModelObjective f = new ModelObjective(m.model(), m.loss(), xb, yb, Reduction.SUM);
            loss += f.value(m.theta());
            INDArray gb = f.gradient(m.theta());
            g = g == null ? gb.dup() : g.addi(gb);
        }
        double[] out = Arrays.copyOf(g.dup('c').data().asDouble(), (int) g.length() + 1);
        out[out.length - 1] = loss;
        return out;
    }
}
