package dev.curvlab.spark.data;

import dev.curvlab.nn.data.Dataset;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.StorageLevel;

/**
 * A data set held as Spark partitions: one {@link Shard} per partition (0 rows allowed), cached in
 * executor memory. Construction validates it with one pass (same widths everywhere, finite values,
 * class indices, at least one row) and records its size, so problems are reported before any
 * curvature work, as one line naming the source and the partition. Loaders: {@link SparkDataSources}.
 */
public final class ShardedData implements AutoCloseable {
    private final JavaRDD<Shard> shards;
    private final long samples;
    private final int inputs;
    private final int targetWidth;
    private final long[] partitionRows;

    private ShardedData(JavaRDD<Shard> shards, long samples, int inputs, int targetWidth, long[] partitionRows) {
        this.shards = shards;
        this.samples = samples;
        this.inputs = inputs;
        this.targetWidth = targetWidth;
        this.partitionRows = partitionRows;
    }

    /** What one partition holds, or what is wrong with it. */
    record PartitionInfo(int partition, long rows, int inputs, int targetWidth, String problem) implements Serializable {
    }

    /**
     * Merges each partition's shards into one, caches the result and validates it.
     *
     * @param source what the data came from, for messages ({@code X.npy}, {@code data.csv})
     * @throws InvalidDataException naming the source and the first problem
     */
    public static ShardedData of(JavaRDD<Shard> raw, String source) {
        return of(raw, source, null);
    }

    /**
     * As {@link #of(JavaRDD, String)}, with a further check of each non-empty partition (e.g. targets
     * against a loss): it returns the problem, or null.
     */
    public static ShardedData of(JavaRDD<Shard> raw, String source, ShardCheck check) {
        return build(raw, source, check, false);
    }

    /**
     * As {@link #of(JavaRDD, String)} for rows that came from the driver ({@code parallelize}): the
     * cached partitions are checkpointed locally, so the tasks of every later product no longer carry
     * the driver's rows in their lineage (without it each product re-sends the whole data set). The
     * price: losing an executor loses its rows (the job fails instead of recomputing them).
     */
    public static ShardedData ofDriverRows(JavaRDD<Shard> raw, String source) {
        return build(raw, source, null, true);
    }

    private static ShardedData build(JavaRDD<Shard> raw, String source, ShardCheck check, boolean truncateLineage) {
        JavaRDD<Shard> merged = raw.mapPartitions(ShardedData::mergePartition, true);
        merged.persist(StorageLevel.MEMORY_ONLY());
        if (truncateLineage) {
            merged.rdd().localCheckpoint();
        }
        List<PartitionInfo> infos;
        try {
            infos = merged.mapPartitionsWithIndex((i, it) -> describe(i, it, check), true).collect();
        } catch (RuntimeException e) {
            merged.unpersist(false);
            InvalidDataException bad = InvalidDataException.findIn(e);
            if (bad != null) {
                throw new InvalidDataException(bad.getMessage().startsWith(source) || bad.getMessage().contains(".npy:") ? bad.getMessage()
                        : source + ": " + bad.getMessage(), e);
            }
            throw e;
        }
        long total = 0;
        int inputs = -1;
        int width = -1;
        long[] rows = new long[infos.size()];
        for (PartitionInfo p : infos) {
            if (p.problem() != null) {
                merged.unpersist(false);
                throw new InvalidDataException(source + ": partition " + p.partition() + ": " + p.problem());
            }
            rows[p.partition()] = p.rows();
            if (p.rows() == 0) {
                continue;
            }
            if (inputs >= 0 && (p.inputs() != inputs || p.targetWidth() != width)) {
                merged.unpersist(false);
                throw new InvalidDataException(source + ": partition " + p.partition() + " has " + p.inputs() + " input columns and target width "
                        + p.targetWidth() + " but earlier partitions have " + inputs + " and " + width);
            }
            inputs = p.inputs();
            width = p.targetWidth();
            total += p.rows();
        }
        if (total == 0) {
            merged.unpersist(false);
            throw new InvalidDataException(source + ": has no rows");
        }
        return new ShardedData(merged, total, inputs, width, rows);
    }

    /** A local data set split into {@code partitions} nearly equal parts. */
    public static ShardedData of(JavaSparkContext sc, Dataset data, int partitions) {
        int n = data.n();
        int p = Math.max(1, partitions);
        long[] sizes = new long[p];
        for (int i = 0; i < p; i++) {
            sizes[i] = (long) n * (i + 1) / p - (long) n * i / p;
        }
        return of(sc, data, sizes);
    }

    /** A local data set split into partitions of the given sizes (in order; 0 allowed, sum = n). */
    public static ShardedData of(JavaSparkContext sc, Dataset data, long[] partitionRows) {
        Shard all = Shard.of(data);
        List<Shard> parts = new ArrayList<>();
        int start = 0;
        for (long r : partitionRows) {
            parts.add(all.rows(start, start + (int) r));
            start += (int) r;
        }
        if (start != all.rows()) {
            throw new IllegalArgumentException("partition sizes add up to " + start + " but the data set has " + all.rows() + " rows");
        }
        return ofDriverRows(sc.parallelize(parts, parts.size()), "data");
    }

    private static Iterator<Shard> mergePartition(Iterator<Shard> it) {
        List<Shard> list = new ArrayList<>();
        it.forEachRemaining(s -> {
            if (s.rows() > 0 || list.isEmpty()) {
                list.add(s);
            }
        });
        if (list.size() > 1 && list.get(0).rows() == 0) {
            list.remove(0);
        }
        return list.isEmpty() ? java.util.Collections.emptyIterator() : List.of(Shard.concat(list)).iterator();
    }

    private static Iterator<PartitionInfo> describe(int partition, Iterator<Shard> it, ShardCheck check) {
        if (!it.hasNext()) {
            return List.of(new PartitionInfo(partition, 0, 0, 0, null)).iterator();
        }
        Shard s = it.next();
        String problem = s.firstInvalid(0);
        if (problem == null && check != null && s.rows() > 0) {
            problem = check.problem(s);
        }
        return List.of(new PartitionInfo(partition, s.rows(), s.inputs(), s.targetWidth(), problem)).iterator();
    }

    /** A check of one partition's rows on its executor: the problem in words, or null. */
    @FunctionalInterface
    public interface ShardCheck extends Serializable {
        String problem(Shard s);
    }

    /**
     * Runs {@code check} on every non-empty partition (one pass over the cached rows) and throws
     * naming {@code source} and the partition of the first problem.
     */
    public void validate(String source, ShardCheck check) {
        List<String> problems = shards.mapPartitionsWithIndex((i, it) -> {
            List<String> out = new ArrayList<>();
            while (it.hasNext()) {
                Shard s = it.next();
                String problem = s.rows() > 0 ? check.problem(s) : null;
                if (problem != null) {
                    out.add("partition " + i + ": " + problem);
                }
            }
            return out.iterator();
        }, true).collect();
        if (!problems.isEmpty()) {
            throw new InvalidDataException(source + ": " + problems.get(0));
        }
    }

    /** One shard per partition (a partition may be empty or hold a 0-row shard). */
    public JavaRDD<Shard> shards() {
        return shards;
    }

    /** Total rows n. */
    public long samples() {
        return samples;
    }

    public int inputs() {
        return inputs;
    }

    /** Columns of the targets, or 0 for class indices. */
    public int targetWidth() {
        return targetWidth;
    }

    /** Rows per partition, in partition order. */
    public long[] partitionRows() {
        return partitionRows.clone();
    }

    public int partitions() {
        return partitionRows.length;
    }

    /** All rows on the driver, in partition order (for computations that need the whole data set in one place). */
    public Shard collect() {
        List<Shard> parts = new ArrayList<>(shards.collect());
        parts.removeIf(s -> s.rows() == 0);
        return Shard.concat(parts);
    }

    @Override
    public void close() {
        shards.unpersist(false);
    }
}
