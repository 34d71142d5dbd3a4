package dev.curvlab.curvature.cli;

import dev.curvlab.core.NativeSettings;
import dev.curvlab.nn.io.OutputTransaction;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Base of the subcommands: checks option values ({@link #checkOptions}, usage errors, before any
 * file is read), applies the runtime options (float64 defaults, threads, quiet logging), then runs
 * the command. Failures propagate as exceptions to {@link ErrorReporter}; nothing here exits the JVM.
 *
 * <h2>Outputs: how every command writes files</h2>
 * Every file goes through the command's {@link OutputTransaction} ({@link #outputs}), so outputs
 * appear all together and complete, or not at all:
 * <ol>
 * <li>in {@link #checkOptions}: {@code checkWritable(out, "--out")} for each output option (a
 *     missing directory, a directory, two outputs naming one file are refused before any work);
 *     every other {@code Path} option is then registered as an input, and an output that is an
 *     input (by path, {@code ..}, symlink or inode) is refused;</li>
 * <li>once sizes are known, before the work: {@link #requireSpace} (free disk) and
 *     {@link ResourcePreflight} (memory, consistent with {@code --max-memory});</li>
 * <li>{@link #write(Path, INDArray)} stages an array (a complete temporary, not yet visible), or
 *     {@code outputs.stage(out)} gives a temporary for a streaming writer; a directory output
 *     (declared with {@link #checkWritableDirectory}) is filled in {@link #stageDirectory}, a
 *     unique temporary directory in the same parent;</li>
 * <li>when {@link #run} returns normally the transaction commits (fsync, rename; devices such as
 *     {@code /dev/null} written in place, never replaced); when it throws, or on SIGINT/SIGTERM,
 *     every temporary is removed.</li>
 * </ol>
 * A command that must not leave its results (e.g. {@code eigs} not converged) throws after
 * printing; nothing is committed.
 */
abstract class CurvlabSubcommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    RuntimeOptions runtime;

    /** Largest --threads accepted. */
    static final int MAX_THREADS = 256;

    /** This run's output files (see the class comment). */
    protected OutputTransaction outputs;

    @Override
    public final Integer call() throws Exception {
        if (runtime.threads < 0 || runtime.threads > MAX_THREADS) {
            throw usage("--threads must be in 0.." + MAX_THREADS + " (0 = all processors), got " + runtime.threads);
        }
        try (OutputTransaction tx = new OutputTransaction()) {
            outputs = tx;
            checkOptions();
            registerInputs();
            execute();
            tx.commit();
        } finally {
            outputs = null;
        }
        return 0;
    }

    private void execute() throws Exception {
        try (QuietLogging quiet = QuietLogging.enter(runtime.quiet)) {
            NativeWarmUp.await();
            Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
            NativeSettings.retainFreedMemory();
            int blas = runtime.threads > 0 ? runtime.threads : Runtime.getRuntime().availableProcessors();
            NativeSettings.threads(blas, 1);
            run();
        } catch (OutOfMemoryError e) {
            throw new IllegalStateException("out of memory (" + e.getMessage() + "); lower --batch-size or --block, or raise -Xmx", e);
        } catch (LinkageError e) {
            // e.g. the ND4J native backend failing to load (first seen by the warm-up thread): one line, with the cause
            Throwable first = NativeWarmUp.failure() != null ? NativeWarmUp.failure() : e;
            Throwable cause = first.getCause() != null ? first.getCause() : e.getCause();
            throw new IllegalStateException(first.getClass().getSimpleName() + ": " + first.getMessage()
                    + (cause != null ? " (" + cause + ")" : ""), e);
        } finally {
            out().flush();
        }
    }

    /** Every {@code Path} option that is not a declared output is an input: no output may be the same file. */
    private void registerInputs() {
        for (OptionSpec o : spec.options()) {
            if (o.typeInfo().getType() == Path.class && o.getValue() != null) {
                try {
                    if (java.util.Arrays.stream(o.names()).noneMatch(declared::contains)) {
                        outputs.input(o.getValue(), o.longestName());
                    }
                } catch (IOException e) {
                    throw new BadInputException(e.getMessage(), e);
                }
            }
        }
    }

    private final java.util.Set<String> declared = new java.util.HashSet<>();

    /** Checks option values that need no file (ranges, output directories); throw {@link #usage} or {@link BadInputException}. */
    protected void checkOptions() {
    }

    /** The command's work. */
    protected abstract void run() throws Exception;

    /** A usage error (exit code 2) about this command's options. */
    protected ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** Where results go (stdout unless redirected by the caller of the CommandLine). */
    protected PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** Progress for long work: a bar on a terminal, log lines elsewhere, nothing with --quiet. */
    protected CliProgress progress(String unit) {
        return CliProgress.open(runtime.quiet, unit);
    }

    /**
     * Declares {@code file} (the value of output option {@code option}; null is ignored) as an
     * output of this run: its directory exists and is writable, it is not a directory, not an
     * input, not another output. Called from {@link #checkOptions}, so a bad path fails before any
     * work.
     */
    protected void checkWritable(Path file, String option) {
        if (file == null) {
            return;
        }
        declared.add(option);
        try {
            outputs.declare(file, option);
        } catch (IOException e) {
            throw new BadInputException(e.getMessage(), e);
        }
    }

    /**
     * Declares the directory {@code dir} (output option {@code option}; null is ignored) as an
     * output: absent, empty, or an earlier output of this kind (it holds {@code marker}); never a
     * symlink, a file, or a directory holding an input or another output. Called from
     * {@link #checkOptions}.
     */
    protected void checkWritableDirectory(Path dir, String option, String marker) {
        if (dir == null) {
            return;
        }
        declared.add(option);
        try {
            outputs.declareDirectory(dir, option, marker);
        } catch (IOException e) {
            throw new BadInputException(e.getMessage(), e);
        }
    }

    /** The private temporary directory that becomes {@code dir} when the command succeeds. */
    protected Path stageDirectory(Path dir) throws IOException {
        return outputs.stageDirectory(dir);
    }

    /** Refuses (one line) a model that is not a chain of dense layers, for what needs one (the exact Hessian diagonal). */
    protected void requireDenseChain(dev.curvlab.nn.model.Sequential model, String where, String what) {
        if (!dev.curvlab.curvature.kfac.Kfac.isDenseChain(model)) {
            throw new BadInputException(where + ": " + what + " supports chains of dense layers only; model " + model.describe()
                    + " has conv or pooling layers");
        }
    }

    /** Refuses (one line) a model that KFAC, the diagonals and Laplace do not handle (one without dense or conv layers). */
    protected void requireKfacModel(dev.curvlab.nn.model.Sequential model, String where) {
        if (!dev.curvlab.curvature.kfac.Kfac.isSupported(model)) {
            throw new BadInputException(where + ": curvlab " + spec.name() + " needs a model with dense or conv2d layers; model "
                    + model.describe() + " has none");
        }
    }

    /** Refuses, before the work, an output whose file system has less than {@code bytes} free. */
    protected void requireSpace(Path file, double bytes) {
        if (file == null) {
            return;
        }
        try {
            outputs.requireSpace(file, bytes);
        } catch (IOException e) {
            throw new BadInputException(e.getMessage(), e);
        }
    }

    /**
     * Stages a float64 array for {@code file} (written completely to a temporary now, renamed into
     * place when the command succeeds).
     */
    protected void write(Path file, INDArray array) throws IOException {
        outputs.write(file, array.dataType() == DataType.DOUBLE ? array : array.castTo(DataType.DOUBLE));
    }

    /** {@code [3, 4]}. */
    protected static String shape(INDArray a) {
        return Arrays.toString(a.shape());
    }

    /** Shortest text that reads back as the same double ({@code 0.0123}, {@code 1.5E-7}). */
    protected static String num(double v) {
        return Double.toString(v);
    }
}
