package dev.curvlab.spark.data;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Loads data sets as {@link ShardedData}: {@code .npy} files (one pair X, Y split into partitions, or
 * many shard pairs given by glob patterns, each read on an executor), or tables Spark reads natively
 * (CSV with a header line, Parquet, ORC, JSON: any {@code spark.read().format(...)}), with named
 * target columns and every other column an input.
 */
public final class SparkDataSources {
    private SparkDataSources() {
    }

    /**
     * {@code .npy} inputs and targets. {@code xPattern}, {@code yPattern}: a file each, or glob
     * patterns matching the same number of shard files (paired in sorted order). A single pair is read
     * on the driver and split into {@code partitions} parts (0: Spark's default parallelism); shard
     * pairs are read on the executors, one partition per pair unless {@code partitions} asks for fewer.
     */
    public static ShardedData npy(JavaSparkContext sc, String xPattern, String yPattern, int partitions) throws IOException {
        List<String> xs = HadoopFiles.glob(xPattern);
        List<String> ys = HadoopFiles.glob(yPattern);
        if (xs.isEmpty()) {
            throw new InvalidDataException(xPattern + ": file does not exist (--x)");
        }
        if (ys.isEmpty()) {
            throw new InvalidDataException(yPattern + ": file does not exist (--y)");
        }
        if (xs.size() != ys.size()) {
            throw new InvalidDataException(xPattern + " matches " + xs.size() + " file(s) but " + yPattern + " matches " + ys.size()
                    + "; shards are paired in sorted order");
        }
        int p = partitions > 0 ? partitions : sc.defaultParallelism();
        if (xs.size() == 1) {
            Shard all = readPair(xs.get(0), ys.get(0));
            List<Shard> parts = new ArrayList<>();
            for (int i = 0; i < p; i++) {
                parts.add(all.rows((int) ((long) all.rows() * i / p), (int) ((long) all.rows() * (i + 1) / p)));
            }
            return ShardedData.ofDriverRows(sc.parallelize(parts, p), xs.get(0));
        }
        List<String[]> pairs = new ArrayList<>();
        for (int i = 0; i < xs.size(); i++) {
            pairs.add(new String[] {xs.get(i), ys.get(i)});
        }
        JavaRDD<Shard> shards = sc.parallelize(pairs, Math.min(partitions > 0 ? partitions : pairs.size(), pairs.size()))
                .map(pair -> readPair(pair[0], pair[1]));
        return ShardedData.of(shards, xPattern);
    }

    /** One X, Y pair of {@code .npy} files as a shard (X {@code [n, d]}; Y {@code [n, k]} or class indices {@code [n]}). */
    static Shard readPair(String xFile, String yFile) throws IOException {
        INDArray x = read(xFile, "--x");
        INDArray y = read(yFile, "--y");
        if (x.rank() != 2) {
            throw new InvalidDataException(xFile + ": inputs must be a matrix [n, d], got shape " + Arrays.toString(x.shape()));
        }
        if (y.rank() != 1 && y.rank() != 2) {
            throw new InvalidDataException(yFile + ": targets must be [n, k] or class indices [n], got shape " + Arrays.toString(y.shape()));
        }
        if (y.size(0) != x.size(0)) {
            throw new InvalidDataException(yFile + ": has " + y.size(0) + " rows but " + xFile + " has " + x.size(0));
        }
        return Shard.of(x, y);
    }

    private static INDArray read(String file, String option) throws IOException {
        try {
            return HadoopFiles.readNpy(file);
        } catch (java.nio.file.NoSuchFileException | java.io.FileNotFoundException e) {
            throw new InvalidDataException(file + ": file does not exist (" + option + ")", e);
        } catch (IOException | RuntimeException e) {
            throw new InvalidDataException(e.getMessage() != null && e.getMessage().contains(file) ? e.getMessage() : file + ": " + e.getMessage(), e);
        }
    }

    /**
     * A table Spark reads: {@code format} csv (header line, values parsed as numbers), parquet, orc or
     * json. {@code targets}: the target columns (class indices when {@code classIndices}, then exactly
     * one); null or empty for the last column. Every other column is an input, in table order.
     * {@code partitions > 0} repartitions the rows.
     */
    public static ShardedData table(SparkSession spark, String path, String format, List<String> targets, boolean classIndices,
            int partitions) {
        org.apache.spark.sql.Dataset<Row> df;
        try {
            df = spark.read().format(format).option("header", "true").option("inferSchema", "true").load(path);
        } catch (RuntimeException e) {
            String msg = String.valueOf(e.getMessage());
            throw new InvalidDataException(path + ": " + (msg.contains("PATH_NOT_FOUND") || msg.contains("does not exist")
                    ? "file does not exist (--data)" : "cannot read as " + format + ": " + firstLine(msg)), e);
        }
        List<String> columns = Arrays.asList(df.columns());
        List<String> ys = targets == null || targets.isEmpty() ? List.of(columns.get(columns.size() - 1)) : targets;
        for (String t : ys) {
            if (!columns.contains(t)) {
                throw new InvalidDataException(path + ": no column '" + t + "' (--target); columns: " + String.join(", ", columns));
            }
        }
        if (classIndices && ys.size() != 1) {
            throw new InvalidDataException(path + ": class indices need exactly one target column, got " + ys);
        }
        List<String> xs = new ArrayList<>(columns);
        xs.removeAll(ys);
        if (xs.isEmpty()) {
            throw new InvalidDataException(path + ": no input columns besides the targets " + ys);
        }
        List<Column> select = new ArrayList<>();
        for (String c : xs) {
            select.add(functions.expr("try_cast(`" + c + "` as double)"));
        }
        for (String c : ys) {
            select.add(functions.expr("try_cast(`" + c + "` as double)"));
        }
        org.apache.spark.sql.Dataset<Row> numeric = df.select(select.toArray(new Column[0]));
        if (partitions > 0) {
            numeric = numeric.repartition(partitions);
        }
        int d = xs.size();
        int width = classIndices ? 0 : ys.size();
        List<String> names = new ArrayList<>(xs);
        names.addAll(ys);
        JavaRDD<Shard> shards = numeric.javaRDD().mapPartitions(rows -> List.of(toShard(rows, d, width, names)).iterator());
        return ShardedData.of(shards, path);
    }

    private static Shard toShard(Iterator<Row> rows, int d, int width, List<String> names) {
        int w = Math.max(1, width);
        double[] x = new double[1024 * d];
        double[] y = new double[1024 * w];
        int n = 0;
        while (rows.hasNext()) {
            Row r = rows.next();
            if (n * d == x.length) {
                x = Arrays.copyOf(x, 2 * x.length);
                y = Arrays.copyOf(y, 2 * y.length);
            }
            for (int c = 0; c < d + w; c++) {
                if (r.isNullAt(c)) {
                    throw new InvalidDataException("column '" + names.get(c) + "' has a missing or non-numeric value in a row of this partition");
                }
                if (c < d) {
                    x[n * d + c] = r.getDouble(c);
                } else {
                    y[n * w + c - d] = r.getDouble(c);
                }
            }
            n++;
        }
        return new Shard(n, d, width, Arrays.copyOf(x, n * d), Arrays.copyOf(y, n * w));
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
