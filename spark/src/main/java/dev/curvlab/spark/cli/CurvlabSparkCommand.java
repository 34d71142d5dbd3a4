package dev.curvlab.spark.cli;

import dev.curvlab.spark.data.InvalidDataException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code curvlab-spark}: curvlab's commands on Apache Spark. Data-parallel commands (gradient, hvp,
 * eigs, trace) keep the data in Spark partitions and sum per-partition products; dense-matrix
 * commands (hessian, ggn, empirical-fisher, fisher) compute row bands as Spark tasks. Run it with
 * {@code spark-submit --class dev.curvlab.spark.cli.CurvlabSparkCommand curvlab-spark.jar COMMAND ...}
 * on a cluster, or {@code bin/curvlab-spark --master local[2] COMMAND ...} from the build.
 *
 * <p>Errors: one line {@code curvlab-spark: error: ...} on stderr (the stack trace with --debug);
 * exit code 2 for usage errors, 1 for bad input or a failed job. {@link #execute} never exits the JVM.
 */
@Command(name = "curvlab-spark", mixinStandardHelpOptions = true, version = "curvlab-spark 0.1.0 (Apache Spark 4.0)", sortOptions = false,
        usageHelpAutoWidth = true,
        description = "Gradients, Hessian-vector products, eigenvalues, traces and dense curvature matrices of a model over data held as"
                + " Apache Spark partitions.",
        subcommands = {GradientCommand.class, HvpCommand.class, EigsCommand.class, TraceCommand.class, HessianCommand.class, GgnCommand.class,
                EmpiricalFisherCommand.class, FisherCommand.class, BandsCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Run 'curvlab-spark COMMAND --help' for a command's options. Exit codes: 0 success, 1 bad input or a failed job, 2 bad usage."})
public final class CurvlabSparkCommand implements Callable<Integer> {
    static final int USAGE = 2;
    static final int INPUT = 1;

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        setIfAbsent("org.bytedeco.javacpp.maxphysicalbytes", "0");
        setIfAbsent("org.bytedeco.javacpp.maxbytes", "0");
        if (System.getProperty("logback.configurationFile") == null) {
            setIfAbsent("curvlab.cli.logging", "true");   // curvlab's CliLogConfigurator: WARN for libraries (Spark too), INFO for curvlab
        }
        quietSparkStartup();
        int code = execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        System.exit(code);
    }

    /** Runs a command line in this JVM; returns the exit code. */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new CurvlabSparkCommand());
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> report(err, usageMessage(ex), ex, java.util.Arrays.asList(a).contains("--debug"), USAGE));
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            boolean debug = parsed != null && parsed.originalArgs().contains("--debug");
            return ex instanceof ParameterException pe ? report(err, usageMessage(pe), ex, debug, USAGE) : report(err, describe(ex), ex, debug, INPUT);
        });
        return cl.execute(args);
    }

    /**
     * Spark's and Hadoop's start-up and clean-up warnings that say nothing about the user's run
     * (host name on a loopback address, no native Hadoop library, unpersisting locally checkpointed
     * rows) off, where logback is the binding (bin/curvlab-spark; spark-submit keeps Spark's logging).
     */
    private static void quietSparkStartup() {
        try {
            for (String name : new String[] {"org.apache.spark.util.Utils", "org.apache.hadoop.util.NativeCodeLoader",
                    "org.apache.spark.rdd.MapPartitionsRDD", "org.apache.spark.sql.SparkSession"}) {
                if (org.slf4j.LoggerFactory.getLogger(name) instanceof ch.qos.logback.classic.Logger l) {
                    l.setLevel(ch.qos.logback.classic.Level.ERROR);
                }
            }
        } catch (NoClassDefFoundError e) {
            // no logback on this class path
        }
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "missing command; one of " + String.join(", ", spec.subcommands().keySet()));
    }

    private static int report(PrintWriter err, String message, Exception ex, boolean debug, int code) {
        err.println("curvlab-spark: error: " + message.strip().replaceAll("\\s*\\R\\s*", "; "));
        if (debug) {
            ex.printStackTrace(err);
        }
        err.flush();
        return code;
    }

    static String usageMessage(ParameterException ex) {
        String path = ex.getCommandLine() == null ? "curvlab-spark" : ex.getCommandLine().getCommandSpec().qualifiedName();
        return ex.getMessage() + " (see '" + path + " --help')";
    }

    /** The message of a failure: input problems as they are, also when Spark wrapped them in a failed task; others with their type. */
    static String describe(Throwable ex) {
        InvalidDataException bad = InvalidDataException.findIn(ex);
        if (bad != null) {
            return bad.getMessage();
        }
        if (ex instanceof java.nio.file.NoSuchFileException f) {
            return f.getFile() + ": file does not exist";
        }
        if (ex instanceof dev.curvlab.nn.io.ModelFormatException || ex instanceof dev.curvlab.nn.io.NpyFormatException
                || ex instanceof IllegalArgumentException || ex instanceof java.io.IOException) {
            return String.valueOf(ex.getMessage());
        }
        if (ex instanceof org.apache.spark.SparkException s && s.getMessage() != null) {
            String m = s.getMessage();
            int nl = m.indexOf('\n');
            return "Spark job failed: " + (nl < 0 ? m : m.substring(0, nl));
        }
        return ex.getClass().getSimpleName() + (ex.getMessage() == null ? "" : ": " + ex.getMessage());
    }
}
