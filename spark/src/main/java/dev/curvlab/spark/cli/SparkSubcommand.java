package dev.curvlab.spark.cli;

import dev.curvlab.nn.io.NpyFile;
import dev.curvlab.spark.data.InvalidDataException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Base of the {@code curvlab-spark} commands: curvlab's model and data options, the Spark ones
 * ({@code --master}, {@code --partitions}, tables by {@code --data} / {@code --format} /
 * {@code --target}), option checks before anything starts, then the Spark session (an existing one
 * is reused and left running; one this command started is stopped at the end), the inputs, and the
 * command's work. Outputs are written on the driver, atomically, only at the end.
 */
abstract class SparkSubcommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", order = 1, required = true, paramLabel = "FILE", description = "architecture (and loss), model.json")
    String model;

    @Option(names = "--params", order = 2, required = true, paramLabel = "FILE", description = "parameters theta [N], float64 .npy")
    String params;

    @Option(names = "--x", order = 3, paramLabel = "FILE|GLOB", description = "inputs X [n, in], .npy; a glob (X-*.npy) for shard files, one partition each")
    String x;

    @Option(names = "--y", order = 4, paramLabel = "FILE|GLOB", description = "targets Y, .npy: [n, k], or class indices [n] for ce; shards pair with --x's in sorted order")
    String y;

    @Option(names = "--data", order = 5, paramLabel = "PATH", description = "instead of --x/--y: a table Spark reads (file, directory or glob; see --format)")
    String data;

    @Option(names = "--format", order = 6, paramLabel = "F", defaultValue = "csv", description = "with --data: csv (with a header line), parquet, orc or json (default: ${DEFAULT-VALUE})")
    String format;

    @Option(names = "--target", order = 7, paramLabel = "COLS", description = "with --data: target column(s), comma-separated (default: the last column); all others are inputs")
    String target;

    @Option(names = "--loss", order = 8, paramLabel = "NAME", description = "loss instead of model.json's: mse, ce, bce, gaussian, poisson")
    String loss;

    @Option(names = "--batch-size", order = 9, paramLabel = "B", description = "samples per batch inside each partition's products; 0 = the partition at once (default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--master", order = 80, paramLabel = "URL", description = "Spark master: local[2], spark://host:7077, yarn, ... (default: spark-submit's, else local[*])")
    String master;

    @Option(names = "--partitions", order = 81, paramLabel = "P", description = "data partitions; 0 = one per shard file, or Spark's default parallelism (default: ${DEFAULT-VALUE})")
    int partitions;

    @Option(names = {"-q", "--quiet"}, order = 91, description = "no log lines on stderr (results still go to stdout)")
    boolean quiet;

    @Option(names = "--debug", order = 92, description = "print the stack trace with an error")
    boolean debug;

    @Option(names = {"-h", "--help"}, order = 93, usageHelp = true, description = "show this help and exit")
    boolean help;

    @Override
    public final Integer call() throws Exception {
        if (data == null && (x == null || y == null)) {
            throw usage("give the data as --x FILE --y FILE (.npy, or glob patterns of shards) or --data PATH (a table)");
        }
        if (data != null && (x != null || y != null)) {
            throw usage("--data and --x/--y are alternatives; give one");
        }
        if (partitions < 0 || batchSize < 0) {
            throw usage("--partitions and --batch-size must be >= 0");
        }
        checkOptions();
        if (quiet) {
            quietLogging();
        }
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        boolean existing = SparkSession.getActiveSession().isDefined() || SparkSession.getDefaultSession().isDefined();
        SparkSession spark = session();
        try (SparkProblem p = SparkProblem.load(spark, this)) {
            run(JavaSparkContext.fromSparkContext(spark.sparkContext()), p);
        } finally {
            out().flush();
            if (!existing) {
                spark.stop();
            }
        }
        return 0;
    }

    /** curvlab's INFO lines off where logback is the binding (locally); on a cluster, Spark's log4j configuration decides. */
    private static void quietLogging() {
        try {
            if (org.slf4j.LoggerFactory.getLogger("dev.curvlab") instanceof ch.qos.logback.classic.Logger curvlab) {
                curvlab.setLevel(ch.qos.logback.classic.Level.WARN);
            }
        } catch (NoClassDefFoundError e) {
            // no logback on this class path
        }
    }

    private SparkSession session() {
        SparkConf conf = new SparkConf().setAppName("curvlab-spark " + spec.name());
        if (master != null) {
            conf.setMaster(master);
        } else if (!conf.contains("spark.master")) {
            conf.setMaster("local[*]");
        }
        conf.setIfMissing("spark.ui.showConsoleProgress", "false");
        return SparkSession.builder().config(conf).getOrCreate();
    }

    /** Checks option values that need no file; throw {@link #usage} or {@link InvalidDataException}. */
    protected void checkOptions() {
    }

    /** The command's work on the loaded problem. */
    protected abstract void run(JavaSparkContext sc, SparkProblem p) throws Exception;

    protected ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    protected PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** Fails before any work when {@code file} cannot be written (its directory missing, or it is a directory). */
    protected static void checkWritable(Path file, String option) {
        if (file == null) {
            return;
        }
        Path abs = file.toAbsolutePath();
        if (abs.getParent() == null || !Files.isDirectory(abs.getParent())) {
            throw new InvalidDataException(file + ": cannot write " + option + ": directory " + abs.getParent() + " does not exist");
        }
        if (Files.isDirectory(abs)) {
            throw new InvalidDataException(file + ": cannot write " + option + ": it is a directory");
        }
    }

    /** Writes float64 .npy atomically. */
    protected static void write(Path file, INDArray a) throws IOException {
        NpyFile.write(file, a.dataType() == DataType.DOUBLE ? a : a.castTo(DataType.DOUBLE));
    }

    protected static String shape(INDArray a) {
        return Arrays.toString(a.shape());
    }
}
