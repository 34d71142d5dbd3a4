package dev.curvlab.spark.operator;

import dev.curvlab.spark.data.Shard;
import java.io.Serializable;
import org.apache.spark.api.java.JavaRDD;

/**
 * A sum over partitions of per-partition arrays: each partition's {@link PartitionProduct} runs on its
 * executor, the arrays are added pairwise by {@code treeAggregate} (a tree of depth {@code depth}, so
 * the driver receives a few arrays, not one per partition). Empty partitions contribute nothing.
 */
final class SumAggregation {
    private static final double[] NOTHING = new double[0];

    private SumAggregation() {
    }

    /** A product of one partition's rows: an array of the common length. */
    @FunctionalInterface
    interface PartitionProduct extends Serializable {
        double[] of(Shard rows) throws Exception;
    }

    /** The sum of {@code product} over the non-empty partitions, length {@code length} (zeros if none). */
    static double[] sum(JavaRDD<Shard> shards, PartitionProduct product, int length, int depth) {
        double[] total = shards.map(s -> s.rows() == 0 ? NOTHING : product.of(s))
                .treeAggregate(NOTHING, SumAggregation::add, SumAggregation::add, depth);
        return total.length == 0 ? new double[length] : total;
    }

    /** {@code a + b}, in place in {@code a} unless it is the empty zero value. */
    static double[] add(double[] a, double[] b) {
        if (b.length == 0) {
            return a;
        }
        if (a.length == 0) {
            return b.clone();
        }
        if (a.length != b.length) {
            throw new IllegalStateException("partition products of different lengths: " + a.length + " and " + b.length);
        }
        for (int i = 0; i < a.length; i++) {
            a[i] += b[i];
        }
        return a;
    }
}
